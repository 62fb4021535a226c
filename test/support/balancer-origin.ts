import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A real origin for balancer tests: a few pages with security headers, static assets (a small
// script, a 1 MB binary), private pages, and an echo of what it received. Public assets carry
// `Cache-Control: public, max-age=300` (what lets the balancer publish them), answer
// If-None-Match with 304 and honour a single byte Range.

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A large body made on the fly, never held whole: 1 MiB blocks of a fixed pattern, each
 * stamped with its index (so no two blocks are alike). `bytes(start, end)` gives any range.
 */
export interface GeneratedBody {
  size: number;
  bytes(start: number, end: number): Buffer;
}

const BLOCK = 1024 * 1024;
const pattern = (() => {
  const b = Buffer.alloc(BLOCK);
  let x = 2463534242;
  for (let i = 0; i < BLOCK; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
})();

export function generatedBody(size: number): GeneratedBody {
  return {
    size,
    bytes(start, end) {
      const out = Buffer.allocUnsafe(end - start + 1);
      for (let at = start; at <= end;) {
        const block = Math.floor(at / BLOCK);
        const from = at - block * BLOCK;
        const take = Math.min(BLOCK - from, end + 1 - at);
        const chunk = Buffer.from(pattern.subarray(from, from + take));
        // The block's index in its first four bytes.
        for (let i = from; i < Math.min(4, from + take); i++) chunk[i - from] = (block >>> (8 * (3 - i))) & 0xff;
        chunk.copy(out, at - start);
        at += take;
      }
      return out;
    },
  };
}

export interface OriginAsset {
  /** The bytes, or a function giving them anew for every request (a page that changes on its own). */
  body: Buffer | string | (() => Buffer | string) | GeneratedBody;
  type: string;
  headers?: Record<string, string>;
  status?: number;
  /** The origin takes this long to answer (a slow origin). */
  delayMs?: number;
}

export interface TestOrigin {
  url: string;
  requests: RecordedRequest[];
  /** Replace or add what the origin serves at `path`. */
  set(path: string, asset: OriginAsset): void;
  close(): Promise<void>;
}

export const originSecurityHeaders: Record<string, string> = {
  'content-security-policy': "default-src 'self'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
};

export function pageHtml(title: string, extra = ''): string {
  return `<!doctype html><html><head><title>${title}</title><script src="/app.js"></script></head><body><h1>${title}</h1><p>${'Lorem ipsum dolor sit amet. '.repeat(300)}</p>${extra}</body></html>`;
}

export function defaultAssets(): Map<string, OriginAsset> {
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) % 251;
  return new Map<string, OriginAsset>([
    ['/', { body: pageHtml('Home'), type: 'text/html; charset=utf-8', headers: originSecurityHeaders }],
    ['/page', { body: pageHtml('Page'), type: 'text/html; charset=utf-8', headers: originSecurityHeaders }],
    ['/app.js', { body: 'console.log("hello from the origin");\n'.repeat(50), type: 'text/javascript' }],
    ['/style.css', { body: 'body { color: #123; }\n'.repeat(40), type: 'text/css' }],
    ['/big.bin', { body: big, type: 'application/octet-stream' }],
    ['/asset.png', { body: big.subarray(0, 200_000), type: 'image/png' }],
  ]);
}

function isGenerated(b: OriginAsset['body']): b is GeneratedBody {
  return typeof b === 'object' && !Buffer.isBuffer(b);
}

/** Streams a generated body (or one byte range of it) in 256 KiB writes, with backpressure. */
function sendGenerated(req: IncomingMessage, res: ServerResponse, g: GeneratedBody, asset: OriginAsset): void {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const end = range?.[2] ? Math.min(Number(range[2]), g.size - 1) : g.size - 1;
  const headers: Record<string, string | number> = { 'content-type': asset.type, 'content-length': end - start + 1, etag: `"gen-${g.size}"`, 'cache-control': 'public, max-age=300', 'accept-ranges': 'bytes', ...asset.headers };
  if (range) headers['content-range'] = `bytes ${start}-${end}/${g.size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD') return void res.end();
  let at = start;
  const pump = (): void => {
    while (at <= end) {
      const to = Math.min(end, at + 256 * 1024 - 1);
      const ok = res.write(g.bytes(at, to));
      at = to + 1;
      if (!ok) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

/** One asset's answer: a generated body streams; a fixed one honours a single byte Range. */
function answer(req: IncomingMessage, res: ServerResponse, asset: OriginAsset): void {
  if (isGenerated(asset.body)) return sendGenerated(req, res, asset.body, asset);
  const raw = typeof asset.body === 'function' ? asset.body() : asset.body;
  const body2 = typeof raw === 'string' ? Buffer.from(raw) : raw;
  // Public assets say a shared cache may keep them for a while: what publishes them.
  const headers: Record<string, string | number> = { 'content-type': asset.type, 'content-length': body2.length, etag: `"${body2.length}"`, 'cache-control': 'public, max-age=300', ...asset.headers };
  if ((asset.status ?? 200) === 200 && req.headers['if-none-match'] === headers.etag) {
    // A conditional request for what the cache already has.
    const { 'content-length': _length, ...rest } = headers;
    res.writeHead(304, rest);
    return void res.end();
  }
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range && (asset.status ?? 200) === 200) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), body2.length - 1) : body2.length - 1;
    res.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${body2.length}` });
    res.end(req.method === 'HEAD' ? undefined : body2.subarray(start, end + 1));
    return;
  }
  res.writeHead(asset.status ?? 200, headers);
  res.end(req.method === 'HEAD' ? undefined : body2);
}

export async function startOrigin(assets: Map<string, OriginAsset> = defaultAssets()): Promise<TestOrigin> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path === '/slow') {
        // A request that stays in flight for a while (graceful shutdown tests).
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('slow but complete');
        }, 1_500);
        return;
      }
      if (path === '/echo' || path.startsWith('/account') || path.startsWith('/api/')) {
        const echo = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'session=origin-session; HttpOnly' });
        res.end(echo);
        return;
      }
      const asset = assets.get(path);
      if (!asset) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      if (asset.delayMs) {
        const a = asset;
        setTimeout(() => void answer(req, res, { ...a, delayMs: 0 }), a.delayMs);
        return;
      }
      answer(req, res, asset);
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    set: (path, asset) => void assets.set(path, asset),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
