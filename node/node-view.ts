import { hostname, loadavg } from 'node:os';
import type { HeartbeatStats, NodeStanding } from '../common/protocol/node-api.js';
import type { DiskStore } from './cache/disk-store.js';
import type { HttpCache } from './cache/http-cache.js';
import type { NodeIdentity } from './identity.js';
import type { StatusView } from './status-page.js';
import type { TrafficStats } from './traffic.js';

// What the node knows about itself at any moment, for heartbeats and the status page.

export interface NodeState {
  standing: NodeStanding | null;
  /** The key the balancer signs our requests with; kept apart from the standing, which the status page shows. */
  requestKey: string | null;
  lastHeartbeatAt: string | null;
  lastError: string | null;
  draining: boolean;
  publicUrl: string;
  startedAt: string;
}

export interface NodeParts {
  identity: NodeIdentity;
  store: DiskStore;
  cache: HttpCache;
  traffic: TrafficStats;
  state: NodeState;
  config: { name?: string | undefined; balancer: string };
}

export function nodeName(config: { name?: string | undefined }): string {
  return config.name ?? hostname().slice(0, 64);
}

export function heartbeatStats(p: NodeParts): HeartbeatStats {
  const t = p.traffic.snapshot();
  const c = p.cache.counters();
  const s = p.store.stats();
  return {
    inFlight: t.inFlight, requestsTotal: t.requestsTotal, errorsTotal: t.errorsTotal, cacheHits: c.hits + c.revalidated + c.stale,
    cacheMisses: c.misses, cacheBytes: s.bytes, cacheEntries: s.entries, loadAvg1m: Math.max(0, loadavg()[0] ?? 0),
  };
}

export function statusView(p: NodeParts): StatusView {
  const c = p.cache.counters();
  const s = p.store.stats();
  const lookups = c.hits + c.revalidated + c.stale + c.misses;
  return {
    nodeId: p.identity.nodeId, name: nodeName(p.config), publicUrl: p.state.publicUrl, balancer: p.config.balancer,
    startedAt: p.state.startedAt, standing: p.state.standing, lastHeartbeatAt: p.state.lastHeartbeatAt, lastError: p.state.lastError,
    traffic: p.traffic.snapshot(),
    cache: { ...c, hitRate: lookups === 0 ? null : (c.hits + c.revalidated + c.stale) / lookups, bytes: s.bytes, entries: s.entries, capBytes: s.capBytes },
  };
}

/** Lines for the volunteer's terminal when the balancer's view of this node changes. */
export function standingChanges(before: NodeStanding | null, after: NodeStanding): string[] {
  const lines: string[] = [];
  if (before && before.status !== after.status) lines.push(`status: ${before.status} → ${after.status}`);
  const seen = new Set((before?.penalties ?? []).map((p) => `${p.at}|${p.kind}|${p.reason}`));
  const fresh = before ? after.penalties.filter((p) => !seen.has(`${p.at}|${p.kind}|${p.reason}`)) : [];
  for (const p of [...fresh].reverse()) lines.push(`penalty: ${p.kind} at ${p.at}: ${p.reason}`);
  const sitesBefore = (before?.sites ?? []).map((x) => x.host).join(', ');
  const sitesAfter = after.sites.map((x) => x.host).join(', ');
  if (before && sitesBefore !== sitesAfter) lines.push(`sites: ${sitesAfter || 'none'}`);
  return lines;
}
