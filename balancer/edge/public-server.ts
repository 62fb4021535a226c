import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RouteSite } from '../registry/types.js';
import { handleVisitor } from '../routes/handle.js';
import type { Runtime } from '../routes/runtime.js';
import { NODE_HEADER } from '../routes/visit.js';
import { isPoisoned, poisonConnection } from './connection-guard.js';
import { hostOf } from './host.js';
import { applySitePolicy, type HttpChallenges } from './site-policy.js';
import { trackConnections, type ConnectionTracker } from './shutdown.js';

// The visitors' port: node:http straight into one handler, no framework. Every request is vetted
// before any routing: origin-form targets only (no absolute-form proxying; CONNECT never reaches
// us), bounded headers, exactly one Host naming a registered site (else 421: we are not an open
// proxy), and framing we can prove: Node's strict parser (no obs-fold, no bare CR, no
// Content-Length with Transfer-Encoding, no two lengths) plus Transfer-Encoding `chunked` and
// nothing else. A refused request closes its connection, so nothing after it on the wire is
// ever read as a request.

export interface PublicServerLimits {
  /** Whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** Headers must arrive within this (slowloris). */
  headersTimeoutMs: number;
  /** Idle socket limit. */
  connectionTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderSize: number;
  maxHeaderCount: number;
}

export const defaultServerLimits: PublicServerLimits = {
  requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, connectionTimeoutMs: 60_000, keepAliveTimeoutMs: 5_000, maxHeaderSize: 16_384, maxHeaderCount: 100,
};

export interface PublicState {
  /** Set on shutdown: every new request gets 503 + Connection: close. */
  closing: boolean;
  /** Visitor requests being served right now. */
  inFlight: number;
  /** The server's connections, for the shutdown drain. */
  connections: ConnectionTracker | null;
}

/**
 * A refused request closes its connection: whatever follows it on the wire (a body we did not
 * read, a request smuggled behind it) is never parsed as a request of its own.
 */
function reject(rt: Runtime, res: ServerResponse, status: number, error: string): void {
  const body = `{"error":"${error}"}\n`;
  poisonConnection(res);
  res.writeHead(status, [NODE_HEADER, 'origin', 'cache-control', 'no-store', 'content-type', 'application/json', 'content-length', String(body.length), 'connection', 'close']);
  res.end(body);
  rt.metrics.countRequest(String(status));
}

function hostCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}

export type Vetted = { site: RouteSite; hasBody: boolean } | { status: number; error: string };

/** Per request: no I/O. */
export function vet(rt: Runtime, req: IncomingMessage, limits: PublicServerLimits): Vetted {
  if ((req.url ?? '').charCodeAt(0) !== 47 /* / */) return { status: 400, error: 'BAL_ERR_BAD_TARGET' };
  if (req.rawHeaders.length / 2 > limits.maxHeaderCount) return { status: 431, error: 'BAL_ERR_TOO_MANY_HEADERS' };
  if (hostCount(req.rawHeaders) !== 1) return { status: 400, error: 'BAL_ERR_BAD_HOST' };
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') return { status: 400, error: 'BAL_ERR_BAD_FRAMING' };
  const cl = req.headers['content-length'];
  const site = rt.table.siteByHost(hostOf(req.headers.host ?? ''));
  if (!site) return { status: 421, error: 'BAL_ERR_UNKNOWN_HOST' };
  return { site, hasBody: te !== undefined || (cl !== undefined && cl !== '0') };
}

function onClose(this: ServerResponse & { verityState?: PublicState }): void {
  if (this.verityState) this.verityState.inFlight--;
}

/** The options of every HTTP/1.1 server of the public side (plain, and behind TLS). */
export function http1Options(limits: PublicServerLimits): ServerOptions {
  return {
    maxHeaderSize: limits.maxHeaderSize, headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs, connectionsCheckingInterval: 500, requireHostHeader: true, insecureHTTPParser: false,
    joinDuplicateHeaders: false,
  };
}

/** The visitor handler both ports share: vetting, the site's HTTPS policy, then the request path. */
export function visitorHandler(rt: Runtime, limits: PublicServerLimits, state: PublicState, challenges: HttpChallenges | null) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    // Requests pipelined behind a refused one are dropped with their connection.
    if (isPoisoned(req.socket)) return void req.socket.destroy();
    if (state.closing) return reject(rt, res, 503, 'BAL_ERR_SHUTTING_DOWN');
    const vetted = vet(rt, req, limits);
    if ('error' in vetted) return reject(rt, res, vetted.status, vetted.error);
    if (applySitePolicy(req, res, vetted.site, challenges, vetted.hasBody)) return;
    state.inFlight++;
    (res as ServerResponse & { verityState?: PublicState }).verityState = state;
    res.once('close', onClose);
    try {
      handleVisitor(rt, req, res, vetted.site, vetted.hasBody);
    } catch (err) {
      rt.log.error({ err }, 'request failed unexpectedly');
      if (!res.headersSent) reject(rt, res, 502, 'BAL_ERR_INTERNAL');
      else res.destroy();
    }
  };
}

/** A malformed request gets one clear 400 and its connection closed (Node's default, made explicit). */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET' || isPoisoned(socket)) return void socket.destroy();
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  // Every answer says who served it, even one to a request we could not parse.
  socket.write(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n${NODE_HEADER}: origin\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  socket.destroy();
}

export function createPublicServer(rt: Runtime, limits: PublicServerLimits, state: PublicState, challenges: HttpChallenges | null = null): Server {
  const server = createServer(http1Options(limits), visitorHandler(rt, limits, state, challenges));
  server.setTimeout(limits.connectionTimeoutMs);
  server.on('clientError', onClientError);
  state.connections = trackConnections(server);
  return server;
}
