import { createHash } from 'node:crypto';
import type { Logger } from '../../common/log.js';
import { NODE_REQUEST_AUTH_HEADER, signNodeRequest } from '../../common/protocol/node-request-auth.js';
import type { RoutingTable } from '../registry/table.js';
import type { RouteNode, RouteSite } from '../registry/types.js';
import type { Upstreams } from '../upstream/pools.js';

// Tells nodes to drop URLs from their caches (RFC 9111 §4.4): after an unsafe request changed
// a URL at the origin, every node serving the site; after a node served an outdated copy, that
// node. Signed like every request to a node; fire and forget, bounded.

export const INVALIDATE_PATH = '/.well-known/verity/invalidate';
const MAX_IN_FLIGHT = 256;
const MAX_TARGETS = 100;

export class Invalidator {
  private inFlight = 0;
  dropped = 0;
  sent = 0;

  constructor(private readonly o: { table: RoutingTable; upstreams: Upstreams; nodeKey: (id: string) => string; log: Logger; now: () => number; timeoutMs?: number }) {}

  /** Per request: no I/O here. `nodes` defaults to every node assigned to the site. */
  push(site: RouteSite, targets: string[], nodes?: RouteNode[]): void {
    const list = nodes ?? [...this.o.table.allNodes()].filter((n) => n.siteIds.includes(site.id));
    const body = Buffer.from(JSON.stringify({ targets: targets.slice(0, MAX_TARGETS) }));
    const bodySha256 = createHash('sha256').update(body).digest('hex');
    for (const node of list) {
      if (this.inFlight >= MAX_IN_FLIGHT) {
        this.dropped++;
        continue;
      }
      this.inFlight++;
      this.send(node, site, body, bodySha256).catch((err: unknown) => {
        this.o.log.debug({ nodeId: node.id, err: (err as Error).message }, 'invalidation not delivered');
      }).finally(() => this.inFlight--);
    }
  }

  private async send(node: RouteNode, site: RouteSite, body: Buffer, bodySha256: string): Promise<void> {
    const auth = signNodeRequest(this.o.nodeKey(node.id), { method: 'POST', host: site.host, target: INVALIDATE_PATH, bodySha256 }, this.o.now());
    const res = await this.o.upstreams.node(node.publicUrl).request({
      path: INVALIDATE_PATH, method: 'POST', body,
      headers: ['host', site.host, 'content-type', 'application/json', 'content-length', String(body.length), NODE_REQUEST_AUTH_HEADER, auth],
      headersTimeout: this.o.timeoutMs ?? 2_000, bodyTimeout: this.o.timeoutMs ?? 2_000,
    });
    await res.body.dump();
    this.sent++;
  }
}
