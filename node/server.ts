import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { NODE_HEALTH_PATH, NODE_INVALIDATE_PATH } from '../common/protocol/node-api.js';
import { MAX_INVALIDATE_BODY_BYTES, invalidateBody } from '../common/protocol/node-invalidate.js';
import type { HttpCache } from './cache/http-cache.js';
import { pairsFromRaw, type HeaderPairs } from './cache/http-headers.js';
import { OriginError } from './origin-fetch.js';
import { sendReply } from './reply.js';
import { authenticate } from './request-auth.js';
import type { TrafficStats } from './traffic.js';

// The node's public listener. It answers the balancer only (a signed request, else 401), serves
// only assigned sites (anything else 421), and relays the origin's bytes exactly as sent. The
// health probe is the one thing anyone may ask.

export interface NodeServerOptions {
  cache: HttpCache;
  /** Assigned site host → origin URL; changes as the balancer reports. */
  originFor: (host: string) => string | null;
  /** The key the balancer signs this node's requests with; null until registered. */
  requestKey: () => string | null;
  traffic: TrafficStats;
  maxConcurrent: number;
  health: () => Record<string, unknown>;
  isDraining: () => boolean;
  now?: () => number;
  /** The node's own TLS key and certificate (node/tls-identity.ts); absent: plain HTTP. */
  tls?: { keyPem: string; certPem: string };
}

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

export function hostOf(req: IncomingMessage): string | null {
  const host = req.headers.host;
  if (!host) return null;
  return host.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase();
}

const FAILURES: Record<OriginError['kind'], [number, string]> = {
  timeout: [504, 'origin timeout'],
  too_large: [502, 'origin response too large'],
  overlong: [502, 'origin sent more bytes than its Content-Length declared'],
  failed: [502, 'origin unreachable'],
};

function failure(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  const [status, text] = err instanceof OriginError ? FAILURES[err.kind] : FAILURES.failed;
  plain(res, status, `${text}\n`);
}

/** 1xx interim responses (102, 103) from the origin, passed on before the final one. */
function interim(res: ServerResponse) {
  return (status: number, headers: HeaderPairs): void => {
    if (res.headersSent) return;
    if (status === 102) return void res.writeProcessing();
    const hints: Record<string, string | string[]> = {};
    for (const [n, v] of headers) {
      const k = n.toLowerCase();
      const prev = hints[k];
      hints[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
    }
    res.writeEarlyHints(hints);
  };
}

async function serveSite(req: IncomingMessage, res: ServerResponse, host: string, origin: string, opts: NodeServerOptions): Promise<void> {
  const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
  const reply = await opts.cache.handle({ host, origin, method, path: req.url ?? '/', headers: req.headers, rawHeaders: pairsFromRaw(req.rawHeaders), onInterim: interim(res) });
  const sent = await sendReply(req, res, reply);
  opts.traffic.served(host, reply.cacheStatus, sent);
}

async function invalidate(res: ServerResponse, host: string, body: Buffer, cache: HttpCache): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return plain(res, 400, 'the body is not JSON\n');
  }
  const parsed = invalidateBody.safeParse(json);
  if (!parsed.success) return plain(res, 400, `bad invalidation: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}\n`);
  const dropped = await cache.invalidate(host, parsed.data.targets);
  res.writeHead(204, { 'x-verity-dropped': String(dropped) });
  res.end();
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: NodeServerOptions): Promise<void> {
  if (req.url === NODE_HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
    const body = JSON.stringify({ ok: !opts.isDraining(), ...opts.health() });
    res.writeHead(opts.isDraining() ? 503 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const isInvalidation = req.method === 'POST' && req.url === NODE_INVALIDATE_PATH;
  if (req.method !== 'GET' && req.method !== 'HEAD' && !isInvalidation) return plain(res, 405, 'only GET and HEAD reach volunteer nodes\n', { allow: 'GET, HEAD' });
  const host = hostOf(req) ?? '';
  const auth = await authenticate({ req, host, key: opts.requestKey(), nowMs: (opts.now ?? Date.now)(), bodyLimit: isInvalidation ? MAX_INVALIDATE_BODY_BYTES : null });
  if (!auth.ok) return plain(res, auth.status, `${auth.reason}\n`, auth.status === 401 ? { 'www-authenticate': 'Verity-Request-Auth' } : { connection: 'close' });
  const origin = opts.originFor(host);
  if (!origin) return plain(res, 421, 'this node does not serve that site\n');
  if (isInvalidation) return invalidate(res, host, auth.body, opts.cache);
  if (!req.url?.startsWith('/')) return plain(res, 400, 'bad request target\n');
  if (opts.isDraining()) return plain(res, 503, 'node is draining\n', { connection: 'close' });
  if (opts.traffic.inFlight() >= opts.maxConcurrent) return plain(res, 503, 'node is at its concurrency limit\n', { 'retry-after': '1' });
  opts.traffic.begin();
  try {
    await serveSite(req, res, host, origin, opts);
  } catch (err) {
    opts.traffic.failed(host);
    failure(res, err);
  } finally {
    opts.traffic.end();
  }
}

export function createNodeServer(opts: NodeServerOptions): Server {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // Only the invalidation endpoint reads a body; drain the others so the socket stays usable.
    if (!(req.method === 'POST' && req.url === NODE_INVALIDATE_PATH)) req.resume();
    handle(req, res, opts).catch(() => res.destroy());
  };
  // An https.Server is an http.Server behind TLS (the same timeouts and close methods).
  const server = opts.tls ? (createHttpsServer({ key: opts.tls.keyPem, cert: opts.tls.certPem, minVersion: 'TLSv1.2' }, onRequest) as unknown as Server) : createServer(onRequest);
  // Slow clients must not hold sockets forever (Node's defaults are generous or off).
  server.headersTimeout = 10_000;
  // A whole response may stream for long (large downloads); idle sockets are cut instead.
  server.requestTimeout = 0;
  server.timeout = 60_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
