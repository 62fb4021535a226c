import type { Logger } from '../../common/log.js';
import { MAX_INVALIDATE_TARGETS, signedInvalidation } from '../../common/protocol/node-invalidate.js';
import type { RoutingTable } from '../registry/table.js';
import type { RouteNode, RouteSite } from '../registry/types.js';
import type { Upstreams } from '../upstream/pools.js';

// Tells nodes to drop URLs from their caches (RFC 9111 §4.4): after an unsafe request changed
// a URL at the origin, every node serving the site; after a node served an outdated copy, that
// node. Signed like every request to a node (common/protocol/node-invalidate.ts); fire and
// forget, bounded.

const MAX_IN_FLIGHT = 256;

export class Invalidator {
  private inFlight = 0;
  dropped = 0;
  sent = 0;

  constructor(private readonly o: { table: RoutingTable; upstreams: Upstreams; nodeKey: (id: string) => string; log: Logger; now: () => number; timeoutMs?: number }) {}

  /** Per request: no I/O here. `nodes` defaults to every node assigned to the site. */
  push(site: RouteSite, targets: string[], nodes?: RouteNode[]): void {
    const list = nodes ?? [...this.o.table.allNodes()].filter((n) => n.siteIds.includes(site.id));
    for (const node of list) {
      if (this.inFlight >= MAX_IN_FLIGHT) {
        this.dropped++;
        continue;
      }
      this.inFlight++;
      this.send(node, site, targets.slice(0, MAX_INVALIDATE_TARGETS)).catch((err: unknown) => {
        this.o.log.debug({ nodeId: node.id, err: (err as Error).message }, 'invalidation not delivered');
      }).finally(() => this.inFlight--);
    }
  }

  private async send(node: RouteNode, site: RouteSite, targets: string[]): Promise<void> {
    const r = signedInvalidation(this.o.nodeKey(node.id), site.host, targets, this.o.now());
    const res = await this.o.upstreams.node(node.publicUrl).request({
      path: r.path, method: r.method, body: r.body, headers: r.headers,
      headersTimeout: this.o.timeoutMs ?? 2_000, bodyTimeout: this.o.timeoutMs ?? 2_000,
    });
    await res.body.dump();
    this.sent++;
  }
}
