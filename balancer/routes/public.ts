import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { RouteSite } from '../registry/types.js';
import { NODE_HEADER } from './exchange.js';
import type { Runtime } from './runtime.js';
import { serveRequest } from './serve.js';

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

function reject(reply: FastifyReply, status: number, error: string): void {
  void reply.code(status).header(NODE_HEADER, 'origin').header('cache-control', 'no-store').send({ error });
}

function hostOf(raw: string): string {
  // "site.test." (fully qualified) is the same site.
  const host = raw.trim().toLowerCase().replace(/\.(?=:\d+$|$)/, '');
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function countHeader(raw: readonly string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] ?? '').toLowerCase() === name) n++;
  return n;
}

/**
 * The visitors' side. Requests are vetted before any routing: origin-form targets only (no
 * absolute-form proxying, no CONNECT), exactly one Host naming a registered site (else 421:
 * we are not an open proxy), bounded headers.
 */
export interface PublicState {
  /** Set on shutdown: every new request gets 503 + Connection: close. */
  closing: boolean;
  /** Visitor requests being served right now. */
  inFlight: number;
}

export function buildPublicApp(rt: Runtime, limits: PublicServerLimits, state: PublicState): FastifyInstance {
  const sites = new WeakMap<IncomingMessage, RouteSite>();
  const app = Fastify({
    loggerInstance: rt.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    serverFactory: (handler) => {
      const server = createServer({
        maxHeaderSize: limits.maxHeaderSize, headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs, connectionsCheckingInterval: 500, requireHostHeader: true, insecureHTTPParser: false,
      }, handler);
      server.setTimeout(limits.connectionTimeoutMs);
      return server;
    },
  });
  app.removeAllContentTypeParsers();
  // Bodies are streamed to the origin untouched; fastify must not read them.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  app.addHook('onRequest', (request, reply, done) => {
    const problem = vet(rt, request.raw, limits, state);
    if ('error' in problem) {
      if (problem.status === 503) void reply.header('connection', 'close');
      rt.metrics.countRequest(String(problem.status));
      reject(reply, problem.status, problem.error);
      return;
    }
    sites.set(request.raw, problem);
    state.inFlight++;
    reply.raw.once('close', () => state.inFlight--);
    done();
  });
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const site = sites.get(request.raw);
    if (!site) return reject(reply, 421, 'BAL_ERR_UNKNOWN_HOST');
    reply.hijack();
    await serveWithGuard(rt, request.raw, reply.raw, site);
  };
  app.all('*', handler);
  app.setNotFoundHandler(handler);
  return app;
}

function vet(rt: Runtime, req: IncomingMessage, limits: PublicServerLimits, state: PublicState): RouteSite | { status: number; error: string } {
  if (state.closing) return { status: 503, error: 'BAL_ERR_SHUTTING_DOWN' };
  if (!(req.url ?? '').startsWith('/')) return { status: 400, error: 'BAL_ERR_BAD_TARGET' };
  if (req.rawHeaders.length / 2 > limits.maxHeaderCount) return { status: 431, error: 'BAL_ERR_TOO_MANY_HEADERS' };
  if (countHeader(req.rawHeaders, 'host') !== 1) return { status: 400, error: 'BAL_ERR_BAD_HOST' };
  return rt.table.siteByHost(hostOf(req.headers.host ?? '')) ?? { status: 421, error: 'BAL_ERR_UNKNOWN_HOST' };
}

async function serveWithGuard(rt: Runtime, req: IncomingMessage, res: ServerResponse, site: RouteSite): Promise<void> {
  try {
    await serveRequest(rt, req, res, site);
  } catch (err) {
    rt.log.error({ err }, 'request failed unexpectedly');
    if (!res.headersSent) {
      res.writeHead(502, { [NODE_HEADER]: 'origin', 'content-type': 'application/json' });
      res.end('{"error":"BAL_ERR_INTERNAL"}\n');
    } else res.destroy();
  }
}
