import { buildGridIndex, type GridIndex } from '../selection/grid-index.js';
import type { RouteNode, RouteSite } from './types.js';

// The routing table: every site and node in memory, with a location index per site. Reads are
// the request path (synchronous, no I/O); writes come from the loader and NOTIFY handler.

const emptyIndex: GridIndex = buildGridIndex([]);

export class RoutingTable {
  private sitesByHost = new Map<string, RouteSite>();
  private sitesById = new Map<string, RouteSite>();
  private nodes = new Map<string, RouteNode>();
  private indexes = new Map<string, GridIndex>();
  private listeners: Array<(nodeId: string) => void> = [];
  private siteListeners: Array<(site: RouteSite) => void> = [];

  siteByHost(host: string): RouteSite | undefined {
    return this.sitesByHost.get(host);
  }

  siteById(id: string): RouteSite | undefined {
    return this.sitesById.get(id);
  }

  node(id: string): RouteNode | undefined {
    return this.nodes.get(id);
  }

  indexFor(siteId: string): GridIndex {
    return this.indexes.get(siteId) ?? emptyIndex;
  }

  allNodes(): IterableIterator<RouteNode> {
    return this.nodes.values();
  }

  allSites(): IterableIterator<RouteSite> {
    return this.sitesById.values();
  }

  /** The TLS keys registered by the nodes at this URL origin (connect time, not per request). */
  pinsFor(origin: string): string[] {
    const pins: string[] = [];
    for (const n of this.nodes.values()) if (n.tlsSpki !== null && n.publicUrl.origin === origin) pins.push(n.tlsSpki);
    return pins;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Called with a node id whenever that node's row changed (for caches keyed by node). */
  onNodeChanged(fn: (nodeId: string) => void): void {
    this.listeners.push(fn);
  }

  /** Called with a site whenever it was added or changed. */
  onSiteChanged(fn: (site: RouteSite) => void): void {
    this.siteListeners.push(fn);
  }

  replaceAll(sites: RouteSite[], nodes: RouteNode[]): void {
    this.sitesByHost = new Map(sites.map((s) => [s.host, s]));
    this.sitesById = new Map(sites.map((s) => [s.id, s]));
    this.nodes = new Map(nodes.map((n) => [n.id, n]));
    this.rebuild(new Set(sites.map((s) => s.id)));
  }

  upsertSite(id: string, site: RouteSite | null): void {
    const old = this.sitesById.get(id);
    if (old) this.sitesByHost.delete(old.host);
    if (site) {
      this.sitesById.set(id, site);
      this.sitesByHost.set(site.host, site);
      for (const fn of this.siteListeners) fn(site);
    } else {
      this.sitesById.delete(id);
      this.indexes.delete(id);
    }
  }

  /** A node row changed. Trust and status change in place; location or sites rebuild the index. */
  upsertNode(id: string, next: RouteNode | null): void {
    const old = this.nodes.get(id);
    if (old && next && sameShape(old, next)) {
      old.status = next.status;
      old.draining = next.draining;
      old.integrity = next.integrity;
      old.availability = next.availability;
      old.subnet = next.subnet;
      old.name = next.name;
      old.tlsSpki = next.tlsSpki;
    } else {
      if (next) this.nodes.set(id, next);
      else this.nodes.delete(id);
      this.rebuild(new Set([...(old?.siteIds ?? []), ...(next?.siteIds ?? [])]));
    }
    for (const fn of this.listeners) fn(id);
  }

  private rebuild(siteIds: Set<string>): void {
    const bySite = new Map<string, RouteNode[]>();
    for (const id of siteIds) bySite.set(id, []);
    for (const n of this.nodes.values()) {
      for (const s of n.siteIds) bySite.get(s)?.push(n);
    }
    for (const [id, list] of bySite) this.indexes.set(id, buildGridIndex(list));
  }
}

function sameShape(a: RouteNode, b: RouteNode): boolean {
  return a.publicUrl.href === b.publicUrl.href && a.location?.lat === b.location?.lat && a.location?.lon === b.location?.lon
    && a.siteIds.length === b.siteIds.length && a.siteIds.every((s) => b.siteIds.includes(s));
}
