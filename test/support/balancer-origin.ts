import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A real origin for balancer tests: a few pages with security headers, static assets (a small
// script, a 1 MB binary), private pages, and an echo of what it received.

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface OriginAsset {
  body: Buffer | string;
  type: string;
  headers?: Record<string, string>;
  status?: number;
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
      const body2 = typeof asset.body === 'string' ? Buffer.from(asset.body) : asset.body;
      res.writeHead(asset.status ?? 200, { 'content-type': asset.type, 'content-length': body2.length, etag: `"${body2.length}"`, ...asset.headers });
      res.end(req.method === 'HEAD' ? undefined : body2);
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
