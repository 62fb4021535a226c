import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session, type ServerOptions as H2Options } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContext, type TLSSocket } from 'node:tls';
import type { Logger } from '../../common/log.js';
import { hostOf } from './host.js';
import { peekFirstRecord } from './client-hello.js';
import { adaptRequest, H2VisitorResponse } from './h2-compat.js';
import { deferStart, h2Limits } from './h2-guard.js';
import type { PublicServerLimits } from './public-server.js';
import type { ConnectionTracker } from './shutdown.js';

// The HTTPS port: TLS with a certificate per site (SNI), then HTTP/2 or HTTP/1.1 as ALPN chose,
// both into the same visitor handler as the plain port. The listening socket is a plain TCP
// server so that a CA's TLS-ALPN-01 validation can be told apart before the handshake
// (edge/client-hello.ts); every other connection goes to the TLS server, and once the handshake
// is done, to an HTTP/2 or an HTTP/1.1 server that never listens itself.

export interface Certificates {
  /** The context for a host name a visitor asked for (SNI), or null: no handshake. */
  forHost(host: string): SecureContext | null;
  /** A TLS-ALPN-01 challenge certificate for this host, if one is in progress. */
  alpnChallenge(host: string): SecureContext | null;
}

export interface TlsListenerOptions {
  limits: PublicServerLimits;
  certificates: Certificates;
  log: Logger;
  /** The visitor handler (vetting included), shared with the plain port. */
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  /** HTTP/1.1 servers' clientError handler, shared with the plain port. */
  onClientError(err: NodeJS.ErrnoException, socket: Socket): void;
  /** Options of the HTTP/1.1 server, the same as the plain port's. */
  http1Options: ServerOptions;
}

export interface TlsListener {
  listener: NetServer;
  /** The HTTP/1.1 server behind TLS (its 'upgrade' event: WebSocket). */
  http1: HttpServer;
  tracker: ConnectionTracker;
  /** HTTP/2 sessions open now (tests, shutdown). */
  sessions(): number;
}

function sni(certificates: Certificates, pick: (c: Certificates, host: string) => SecureContext | null) {
  return (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    const ctx = pick(certificates, hostOf(servername));
    // No certificate for that name: no handshake (a name we do not serve learns nothing).
    if (ctx) cb(null, ctx);
    else cb(new Error('no certificate for this name'));
  };
}

export function createTlsListener(o: TlsListenerOptions): TlsListener {
  const { limits } = o;
  const common = { minVersion: 'TLSv1.2' as const, handshakeTimeout: limits.headersTimeoutMs };
  const tls = createTlsServer({ ...common, ALPNProtocols: ['h2', 'http/1.1'], SNICallback: sni(o.certificates, (c, h) => c.forHost(h)) });
  const challenges = createTlsServer({ ...common, ALPNProtocols: ['acme-tls/1'], SNICallback: sni(o.certificates, (c, h) => c.alpnChallenge(h)) });
  // The CA only needs the handshake.
  challenges.on('secureConnection', (s: TLSSocket) => s.end());
  const h1 = createHttpServer(o.http1Options, o.onRequest);
  h1.setTimeout(limits.connectionTimeoutMs);
  h1.on('clientError', o.onClientError);
  const h2 = createH2Server({ ...h2Limits(limits), Http2ServerResponse: H2VisitorResponse } as H2Options, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    deferStart(req, () => {
      adaptRequest(req);
      o.onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    });
  });
  h2.setTimeout(limits.connectionTimeoutMs);
  for (const s of [tls, challenges]) s.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
  tls.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else h1.emit('connection', socket);
  });
  const listener = createNetServer((socket: Socket) => {
    socket.on('error', () => undefined);
    peekFirstRecord(socket, limits.headersTimeoutMs, (first) => {
      if (!first) return void socket.destroy();
      (first.acmeTls1 ? challenges : tls).emit('connection', socket);
    });
  });
  const tracker = trackTls(listener, tls, h1, h2);
  return { listener, http1: h1, tracker, sessions: () => tracker.sessions.size };
}

/** The shutdown drain's view of the TLS side: TLS connections, HTTP/1.1 requests on them, HTTP/2 sessions. */
function trackTls(listener: NetServer, tls: NetServer, h1: HttpServer, h2: NetServer): ConnectionTracker & { sessions: Set<Http2Session> } {
  const sockets = new Map<TLSSocket, { served: number; busy: boolean }>();
  const sessions = new Set<Http2Session>();
  let lastArrival = 0;
  listener.on('connection', () => {
    lastArrival = Date.now();
  });
  tls.on('secureConnection', (socket: TLSSocket) => {
    sockets.set(socket, { served: 0, busy: false });
    socket.once('close', () => sockets.delete(socket));
  });
  h1.on('request', (req: IncomingMessage, res: ServerResponse) => {
    lastArrival = Date.now();
    const t = sockets.get(req.socket as TLSSocket);
    if (!t) return;
    t.served++;
    t.busy = true;
    res.once('close', () => {
      t.busy = false;
    });
  });
  h2.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  h2.on('request', () => {
    lastArrival = Date.now();
  });
  return {
    sessions,
    get lastArrival() {
      return lastArrival;
    },
    get open() {
      return sockets.size;
    },
    reapIdle() {
      // GOAWAY: streams in progress finish, no new one starts.
      for (const s of sessions) if (!s.closed) s.close();
      for (const [socket, t] of sockets) {
        if (t.served === 0 || t.busy || socket.alpnProtocol === 'h2' || socket.writableEnded || socket.writableLength > 0) continue;
        socket.destroy();
      }
      return sockets.size;
    },
    destroyAll() {
      for (const s of sessions) s.destroy();
      for (const socket of sockets.keys()) socket.destroy();
    },
  };
}
