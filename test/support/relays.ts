import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

// Relays that put a node behind a real network effect, on loopback only: added delay (a node far
// away), a line that breaks under a flood, and a TLS-terminator-like HTTP proxy that tells the
// control plane which public address a registration "came from" (X-Forwarded-For).

export interface TcpRelay {
  url: string;
  port: number;
  /** Connections open right now. */
  open(): number;
  /** While true, every connection is cut after `cutAfterBytes` of answer (a saturated line). */
  setFlooded(on: boolean): void;
  close(): Promise<void>;
}

export interface TcpRelayOptions {
  target: { host: string; port: number };
  /** Each chunk waits this long, in both directions: about 2 × delayMs per round trip. */
  delayMs?: number;
  cutAfterBytes?: number;
}

function pipeDelayed(from: Socket, to: Socket, delayMs: number, onChunk?: (n: number) => boolean): void {
  from.on('data', (c: Buffer) => {
    const send = () => {
      if (onChunk && !onChunk(c.length)) {
        to.destroy();
        from.destroy();
        return;
      }
      if (!to.destroyed) to.write(c);
    };
    if (delayMs > 0) setTimeout(send, delayMs);
    else send();
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
}

export async function startTcpRelay(o: TcpRelayOptions): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let flooded = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const upstream = connect(o.target.port, o.target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    let answered = 0;
    const cutAt = flooded ? (o.cutAfterBytes ?? 64) : Infinity;
    pipeDelayed(client, upstream, o.delayMs ?? 0);
    pipeDelayed(upstream, client, o.delayMs ?? 0, (n) => (answered += n) <= cutAt);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`, port,
    open: () => sockets.size,
    setFlooded: (on) => {
      flooded = on;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ForwardingProxy {
  url: string;
  close(): Promise<void>;
}

/** An HTTP proxy in front of a control plane that adds `X-Forwarded-For: <address>`, as a trusted TLS terminator would. */
export async function startForwardingProxy(target: string, forwardedFor: string): Promise<ForwardingProxy> {
  const server: HttpServer = createHttpServer((req, res) => {
    const up = request(new URL(req.url ?? '/', target), { method: req.method, headers: { ...req.headers, host: new URL(target).host, 'x-forwarded-for': forwardedFor }, agent: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
