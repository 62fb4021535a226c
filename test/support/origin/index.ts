import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { staticAssets } from './assets.js';
import { privatePages, publicPages, quotes, sitemap, type PageContext } from './pages.js';

export { quotes } from './pages.js';
export { staticAssets, swappedPng } from './assets.js';

// A realistic sample origin: several pages, CSS/JS/images, dynamic parts (CSRF token, CSP
// nonce, timestamp, rotating quote) and a private login/account area. Tests and the demo use it.

export interface SampleOriginOptions {
  port?: number;
  host?: string;
  /** Randomness for tokens and the quote; injected so tests can pin it. */
  random?: () => number;
  now?: () => Date;
  /**
   * The state script's list of recently viewed products varies in length between fetches (0–3
   * items), as real state scripts do; by default it always has two (only the ids vary).
   */
  varyingStateLength?: boolean;
}

export interface OriginRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface SampleOrigin {
  url: string;
  port: number;
  /** The last requests received (at most 1000), oldest first. */
  requests: OriginRequest[];
  /** Private routes of the site, as globs for `verity site add --private`. */
  privateRoutes: string[];
  /** Publishes a new version of the public pages (an edit of their HTML); null restores the original. */
  setPageEdit(edit: ((html: string, path: string) => string) | null): void;
  close(): Promise<void>;
}

export const samplePrivateRoutes = ['/login', '/account', '/account/*', '/api/*'];

function securityHeaders(nonce: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'; img-src 'self' data:; frame-ancestors 'none'`,
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
  };
}

function token(random: () => number, bytes: number): string {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Math.floor(random() * 256);
  return b.toString('base64url');
}

function sessionUser(req: IncomingMessage, sessions: Map<string, string>): string | null {
  const m = /(?:^|;\s*)session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '');
  return m?.[1] ? (sessions.get(m[1]) ?? null) : null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 65_536) break;
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendHtml(res: ServerResponse, status: number, html: string, nonce: string, extra: Record<string, string> = {}): void {
  const body = Buffer.from(html);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'public, max-age=60',
    'content-length': String(body.length),
    ...securityHeaders(nonce),
    ...extra,
  });
  res.end(body);
}

export async function startSampleOrigin(opts: SampleOriginOptions = {}): Promise<SampleOrigin> {
  const random = opts.random ?? Math.random;
  const now = opts.now ?? (() => new Date());
  const sessions = new Map<string, string>();
  const requests: OriginRequest[] = [];
  let pageEdit: ((html: string, path: string) => string) | null = null;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://origin.invalid');
    const method = req.method ?? 'GET';
    requests.push({ method, path: url.pathname + url.search, headers: req.headers });
    if (requests.length > 1000) requests.shift();
    const ctx: PageContext = {
      csrfToken: token(random, 18),
      nonce: token(random, 12),
      generatedAt: now().toISOString(),
      quote: quotes[Math.floor(random() * quotes.length)] ?? '',
      path: url.pathname,
      recentlyViewed: Array.from({ length: opts.varyingStateLength ? Math.floor(random() * 4) : 2 }, () => 100 + Math.floor(random() * 900)),
    };
    const asset = staticAssets[url.pathname];
    if (asset && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(200, { 'content-type': asset.contentType, 'content-length': String(asset.body.length), 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' });
      res.end(method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (url.pathname === '/sitemap.xml') {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(sitemap(`http://${req.headers.host ?? 'localhost'}`));
      return;
    }
    if (url.pathname === '/robots.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('User-agent: *\nDisallow: /account\nSitemap: /sitemap.xml\n');
      return;
    }
    if (await handlePrivate(req, res, url, ctx, sessions)) return;
    if (method === 'POST' && (url.pathname === '/contact' || url.pathname === '/newsletter')) {
      await readBody(req);
      res.writeHead(303, { location: `${url.pathname === '/contact' ? '/contact' : '/'}?sent=1` });
      res.end();
      return;
    }
    const page = publicPages[url.pathname];
    if (page && (method === 'GET' || method === 'HEAD')) return sendHtml(res, 200, pageEdit ? pageEdit(page(ctx), url.pathname) : page(ctx), ctx.nonce);
    if (url.pathname === '/old-products') {
      res.writeHead(301, { location: '/products' });
      res.end();
      return;
    }
    sendHtml(res, 404, `<!DOCTYPE html><title>Not found</title><h1>Not found</h1>`, ctx.nonce);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    requests,
    privateRoutes: samplePrivateRoutes,
    setPageEdit(edit) {
      pageEdit = edit;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function handlePrivate(req: IncomingMessage, res: ServerResponse, url: URL, ctx: PageContext, sessions: Map<string, string>): Promise<boolean> {
  const user = sessionUser(req, sessions);
  if (url.pathname === '/login' && req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('user') && form.get('password') === 'demo') {
      const sid = randomBytes(18).toString('base64url');
      sessions.set(sid, form.get('user') ?? 'visitor');
      res.writeHead(303, { location: '/account', 'set-cookie': `session=${sid}; HttpOnly; Path=/; SameSite=Lax`, 'cache-control': 'no-store' });
      res.end();
    } else {
      sendHtml(res, 401, privatePages.login(ctx, true), ctx.nonce, { 'cache-control': 'no-store' });
    }
    return true;
  }
  if (url.pathname === '/login') {
    sendHtml(res, 200, privatePages.login(ctx, false), ctx.nonce, { 'cache-control': 'no-store' });
    return true;
  }
  if (url.pathname === '/account' || url.pathname.startsWith('/account/') || url.pathname.startsWith('/api/')) {
    if (!user) {
      res.writeHead(url.pathname.startsWith('/api/') ? 401 : 302, { location: '/login', 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    if (url.pathname === '/api/me') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ user, address: '12 Private Lane, 10115 Berlin' }));
      return true;
    }
    sendHtml(res, 200, privatePages.account(ctx, user), ctx.nonce, { 'cache-control': 'no-store' });
    return true;
  }
  return false;
}
