import type { Server } from 'node:http';
import type { Logger } from '../../common/log.js';
import { createWebSocketRelay, type WebSocketOptions } from '../proxy/websocket.js';
import type { RoutingTable } from '../registry/table.js';
import type { Runtime } from '../routes/runtime.js';
import type { CertStore } from '../tls/cert-store.js';
import { http1Options, onClientError, visitorHandler, type PublicServerLimits, type PublicState } from './public-server.js';
import { createTlsListener, type TlsListener } from './tls-server.js';
import { upgradeHandler } from './upgrade.js';

// The parts of the visitors' side beyond plain HTTP, put together for balancer/app.ts: the
// HTTPS port (certificates by SNI from the store, ACME's TLS-ALPN-01 challenges), and WebSocket
// upgrades on both ports, relayed to the origin only.

export function httpsListener(o: { rt: Runtime; table: RoutingTable; certs: CertStore; limits: PublicServerLimits; state: PublicState; log: Logger }): TlsListener {
  const { certs, table } = o;
  return createTlsListener({
    limits: o.limits, log: o.log, onRequest: visitorHandler(o.rt, o.limits, o.state, certs), onClientError, http1Options: http1Options(o.limits),
    certificates: {
      forHost: (host) => {
        const site = table.siteByHost(host);
        return site ? certs.forSite(site.id)?.context ?? null : null;
      },
      alpnChallenge: (host) => certs.alpnChallenge(host),
    },
  });
}

export function relayWebSockets(o: { rt: Runtime; limits: PublicServerLimits; state: PublicState; servers: Array<Server | undefined> } & WebSocketOptions): void {
  const onUpgrade = upgradeHandler(o.rt, o.limits, o.state, createWebSocketRelay({ idleTimeoutMs: o.idleTimeoutMs, perClient: o.perClient }));
  for (const s of o.servers) s?.on('upgrade', onUpgrade);
}
