import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import httpProxy from 'http-proxy';
import type { RouteSite } from '../registry/types.js';
import { originRequestHeaders } from '../upstream/request-headers.js';

// WebSocket upgrades go to the site's origin, never to a node (a node may only serve bytes the
// origin published; a live connection is the origin's business). http-proxy does the relaying,
// which is what it does best; around it: the same Host, site and trusted-proxy rules as any
// request (vetted by the caller), the origin's header policy (the visitor's forwarding claims
// replaced by ours), an idle timeout on both legs, a cap of open WebSockets per client, and an
// 'error' listener (without one, a refused origin connection would kill the process).

export interface WebSocketOptions {
  /** A WebSocket with no traffic either way for this long is closed. */
  idleTimeoutMs: number;
  /** Most open WebSockets per client address. */
  perClient: number;
}

export interface UpgradeRequest {
  req: IncomingMessage;
  socket: Socket;
  head: Buffer;
  site: RouteSite;
  clientIp: string;
  proto: 'http' | 'https';
}

export interface WebSocketRelay {
  /** Relays one vetted upgrade request to the origin; false when the client is over its cap. */
  relay(u: UpgradeRequest): boolean;
  /** Open WebSockets now. */
  readonly open: number;
}

function destroy(this: Socket): void {
  this.destroy();
}

export function createWebSocketRelay(o: WebSocketOptions): WebSocketRelay {
  const proxy = httpProxy.createProxyServer({ ws: true, xfwd: false, changeOrigin: false, secure: true });
  const perClient = new Map<string, number>();
  let open = 0;
  proxy.on('error', (_err: Error, _req: IncomingMessage, res: unknown) => {
    // For an upgrade, `res` is the client's socket.
    (res as Socket | undefined)?.destroy?.();
  });
  // After http-proxy set its own socket options (it clears timeouts): our idle timeout on both
  // legs, and each leg closes with the other.
  proxy.on('proxyReqWs', (proxyReq: ClientRequest, _req: IncomingMessage, socket: Socket) => {
    socket.setTimeout(o.idleTimeoutMs, destroy);
    proxyReq.once('upgrade', (_res: IncomingMessage, proxySocket: Socket) => {
      proxySocket.setTimeout(o.idleTimeoutMs, destroy);
      proxySocket.on('error', destroy);
      proxySocket.once('close', () => socket.destroy());
      socket.once('close', () => proxySocket.destroy());
    });
  });
  return {
    get open() {
      return open;
    },
    relay(u) {
      const count = perClient.get(u.clientIp) ?? 0;
      if (count >= o.perClient) return false;
      perClient.set(u.clientIp, count + 1);
      open++;
      u.socket.once('close', () => {
        open--;
        const n = (perClient.get(u.clientIp) ?? 1) - 1;
        if (n <= 0) perClient.delete(u.clientIp);
        else perClient.set(u.clientIp, n);
      });
      const flat = originRequestHeaders(u.req.headers, { host: u.site.host, clientIp: u.clientIp, proto: u.proto, encoding: null });
      const headers: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) headers[flat[i] as string] = flat[i + 1] as string;
      headers.connection = 'upgrade';
      headers.upgrade = 'websocket';
      // http-proxy sends the request's own headers: ours replace them.
      u.req.headers = headers;
      const base = u.site.origin.pathname === '/' ? '' : u.site.origin.pathname.replace(/\/$/, '');
      u.req.url = base + (u.req.url ?? '/');
      proxy.ws(u.req, u.socket, u.head, { target: u.site.origin.origin });
      return true;
    },
  };
}
