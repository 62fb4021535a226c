import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CACHE_STATUS_HEADER, NODE_HEALTH_PATH } from '../common/protocol/node-api.js';
import type { HttpCache } from './cache/http-cache.js';
import { etagMatches } from './cache/freshness.js';
import { getHeader, pairsFromRaw, withoutHopByHop, type HeaderPairs } from './cache/http-headers.js';
import { OriginError } from './origin-fetch.js';
import type { TrafficStats } from './traffic.js';

// The node's public listener: what the balancer proxies visitors to. Only assigned sites are
// served (anything else 421); bytes go out exactly as the origin sent them.

export interface NodeServerOptions {
  cache: HttpCache;
  /** Assigned site host → origin URL; changes as the balancer reports. */
  originFor: (host: string) => string | null;
  traffic: TrafficStats;
  maxConcurrent: number;
  health: () => Record<string, unknown>;
  isDraining: () => boolean;
}

const NOT_MODIFIED_KEEP = new Set(['etag', 'cache-control', 'content-location', 'date', 'expires', 'vary', 'last-modified']);

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

export function hostOf(req: IncomingMessage): string | null {
  const host = req.headers.host;
  if (!host) return null;
  return host.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase();
}

function responseHeaders(pairs: HeaderPairs, extra: HeaderPairs, bodyLength: number | null): string[] {
  const out = withoutHopByHop(pairs).filter(([n]) => {
    const lower = n.toLowerCase();
    // Our own Age (for stored responses) replaces the origin's; on a miss the origin's stands.
    const replaced = extra.some(([e]) => e.toLowerCase() === lower);
    return !replaced && lower !== CACHE_STATUS_HEADER && (bodyLength === null || lower !== 'content-length');
  });
  if (bodyLength !== null) out.push(['Content-Length', String(bodyLength)]);
  return [...out, ...extra].flat();
}

async function serveSite(req: IncomingMessage, res: ServerResponse, host: string, origin: string, opts: NodeServerOptions): Promise<void> {
  const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
  const path = req.url ?? '/';
  const reply = await opts.cache.handle({ host, origin, method, path, headers: req.headers, rawHeaders: pairsFromRaw(req.rawHeaders) });
  opts.traffic.served(host, reply.cacheStatus, reply.body.length);
  const extra: HeaderPairs = [[CACHE_STATUS_HEADER, reply.cacheStatus]];
  if (reply.ageS !== null) extra.unshift(['Age', String(reply.ageS)]);
  const clientEtag = req.headers['if-none-match'];
  if (reply.status === 200 && reply.cacheStatus !== 'BYPASS' && etagMatches(clientEtag ?? null, getHeader(reply.headers, 'etag'))) {
    const kept = reply.headers.filter(([n]) => NOT_MODIFIED_KEEP.has(n.toLowerCase()));
    res.writeHead(304, responseHeaders(kept, extra, null));
    res.end();
    return;
  }
  const bodiless = reply.status === 204 || reply.status === 304 || (reply.status >= 100 && reply.status < 200);
  // HEAD answered from a stored GET: the length of that body; a HEAD passed to the origin: its headers.
  const length = bodiless || (method === 'HEAD' && reply.cacheStatus === 'BYPASS') ? null : reply.body.length;
  res.writeHead(reply.status, responseHeaders(reply.headers, extra, length));
  res.end(method === 'HEAD' || bodiless ? undefined : reply.body);
}

function failure(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof OriginError && err.kind === 'timeout') plain(res, 504, 'origin timeout\n');
  else if (err instanceof OriginError && err.kind === 'too_large') plain(res, 502, 'origin response too large\n');
  else plain(res, 502, 'origin unreachable\n');
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: NodeServerOptions): Promise<void> {
  if (req.url === NODE_HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
    const body = JSON.stringify({ ok: !opts.isDraining(), ...opts.health() });
    res.writeHead(opts.isDraining() ? 503 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const host = hostOf(req);
  const origin = host ? opts.originFor(host) : null;
  if (!host || !origin) return plain(res, 421, 'this node does not serve that site\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'only GET and HEAD reach volunteer nodes\n', { allow: 'GET, HEAD' });
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
  const server = createServer((req, res) => {
    // Request bodies are never used (GET/HEAD only); drain them so the socket stays usable.
    req.resume();
    handle(req, res, opts).catch(() => res.destroy());
  });
  // Slow clients must not hold sockets forever (Node's defaults are generous or off).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
