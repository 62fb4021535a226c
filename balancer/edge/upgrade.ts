import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocketRelay } from '../proxy/websocket.js';
import { clientAddress } from '../routes/client-address.js';
import type { Runtime } from '../routes/runtime.js';
import { NODE_HEADER } from '../routes/visit.js';
import { vet, type PublicServerLimits, type PublicState } from './public-server.js';

// HTTP/1.1 upgrade requests (WebSocket) on either port: vetted like any request (origin-form,
// bounded headers, one Host naming a registered site, else 421 and nothing relayed), then handed
// to the WebSocket relay, which only ever reaches the site's origin. HTTP/2 offers no WebSocket
// (we do not advertise RFC 8441's extended CONNECT), so browsers open these over HTTP/1.1.

const REASONS: Record<number, string> = { 400: 'Bad Request', 421: 'Misdirected Request', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable' };

function refuse(rt: Runtime, socket: Socket, status: number, error: string): void {
  const body = `{"error":"${error}"}\n`;
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n${NODE_HEADER}: origin\r\ncontent-type: application/json\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  rt.metrics.countRequest(String(status));
}

function isWebSocket(req: IncomingMessage): boolean {
  return req.method === 'GET' && String(req.headers.upgrade ?? '').toLowerCase().split(',').some((p) => p.trim() === 'websocket');
}

export function upgradeHandler(rt: Runtime, limits: PublicServerLimits, state: PublicState, relay: WebSocketRelay) {
  return (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    if (state.closing) return refuse(rt, socket, 503, 'BAL_ERR_SHUTTING_DOWN');
    const vetted = vet(rt, req, limits);
    if ('error' in vetted) return refuse(rt, socket, vetted.status, vetted.error);
    if (!isWebSocket(req) || vetted.hasBody) return refuse(rt, socket, 400, 'BAL_ERR_BAD_UPGRADE');
    const clientIp = clientAddress(socket.remoteAddress ?? '', req.headers['x-forwarded-for'], rt.trustedProxies);
    const proto = (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    if (!relay.relay({ req, socket, head, site: vetted.site, clientIp, proto })) return refuse(rt, socket, 429, 'BAL_ERR_TOO_MANY_WEBSOCKETS');
    rt.metrics.countRequest('origin_websocket');
  };
}
