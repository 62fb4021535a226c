import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

// Graceful shutdown of the visitors' side without losing a request that reached us. Node's
// server.close() (and fastify's forceCloseConnections 'idle') destroys every connection it
// counts as idle, which includes one that just answered `Connection: close` and is still
// flushing that answer: under load the visitor got ECONNRESET and no response. So we stop
// accepting at the socket level, let answered connections close by themselves, and only
// destroy keep-alive connections that sit idle between requests.

interface Tracked {
  /** Requests received on this connection. */
  served: number;
  /** A request on it is not answered yet. */
  busy: boolean;
}

export interface ConnectionTracker {
  /** When the last connection was accepted or request arrived (ms, Date.now). */
  readonly lastArrival: number;
  readonly open: number;
  /** Destroys keep-alive connections idle between requests; returns how many are left. */
  reapIdle(): number;
  destroyAll(): void;
}

export function trackConnections(server: Server): ConnectionTracker {
  const sockets = new Map<Socket, Tracked>();
  let lastArrival = 0;
  server.on('connection', (socket: Socket) => {
    lastArrival = Date.now();
    sockets.set(socket, { served: 0, busy: false });
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    lastArrival = Date.now();
    const t = sockets.get(req.socket);
    if (!t) return;
    t.served++;
    t.busy = true;
    res.once('close', () => {
      t.busy = false;
    });
  });
  return {
    get lastArrival() {
      return lastArrival;
    },
    get open() {
      return sockets.size;
    },
    reapIdle() {
      for (const [socket, t] of sockets) {
        // Closing on its own (Connection: close) or still writing: leave it be.
        if (t.served === 0 || t.busy || socket.writableEnded || socket.writableLength > 0) continue;
        socket.destroy();
      }
      return sockets.size;
    },
    destroyAll() {
      for (const socket of sockets.keys()) socket.destroy();
    },
  };
}

/**
 * Closing a listening socket resets every connection the kernel completed but we did not
 * accept yet; under steady traffic that is one per busy visitor, each with its request sent
 * and lost. Listening again with a backlog of 0 makes the kernel stop queueing (new SYNs are
 * dropped, so those visitors retry and meet a closed port: refused, request never sent); what
 * is queued gets accepted in the meantime. Node exposes no public way to do this.
 */
function refuseQueueing(server: NetServer): void {
  const handle = (server as unknown as { _handle?: { listen?: (backlog: number) => number } })._handle;
  if (typeof handle?.listen === 'function') handle.listen(0);
}

/**
 * Resolves just after the server accepted what the kernel had queued (or after a moment with
 * no connection): closing the listening socket resets every connection still queued, whose
 * visitors already sent their request.
 */
function afterAcceptRound(server: NetServer): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(quiet);
      server.off('connection', onConnection);
      resolve();
    };
    const onConnection = (): void => {
      server.off('connection', onConnection);
      clearTimeout(quiet);
      // setImmediate runs after the poll phase, i.e. after this accept round ended.
      setImmediate(done);
    };
    const quiet = setTimeout(done, 20);
    server.on('connection', onConnection);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Called once new requests get 503 + Connection: close: waits for in-flight requests, then for
 * a quiet moment (no arrival for quietMs, bounded), stops accepting (later visitors are
 * refused, never accepted and dropped), and waits, bounded, for the open connections to close.
 */
export async function drainConnections(server: NetServer, tracker: ConnectionTracker, inFlight: () => number, o: { deadlineMs: number; quietMs: number }): Promise<void> {
  const until = Date.now() + o.deadlineMs + 1_000;
  while (inFlight() > 0 && Date.now() < until) await sleep(50);
  const graceUntil = Math.min(until, Date.now() + o.deadlineMs);
  while (Date.now() < graceUntil && Date.now() - tracker.lastArrival < o.quietMs) await sleep(50);
  refuseQueueing(server);
  await sleep(50);
  await afterAcceptRound(server);
  // The listening socket only: http.Server.close() would also destroy "idle" connections.
  NetServer.prototype.close.call(server);
  const closeUntil = Date.now() + o.deadlineMs;
  while (tracker.reapIdle() > 0 && Date.now() < closeUntil) await sleep(25);
  tracker.destroyAll();
}
