import type { CacheStatus } from './cache/http-cache.js';

// Counters for the heartbeat and the status page. Per request: no I/O.

export interface SiteTraffic {
  requests: number;
  errors: number;
  bytes: number;
  hits: number;
}

export interface TrafficStats {
  begin(): void;
  end(): void;
  served(host: string, status: CacheStatus, bytes: number): void;
  failed(host: string): void;
  inFlight(): number;
  snapshot(): { inFlight: number; requestsTotal: number; errorsTotal: number; bytesTotal: number; byStatus: Record<CacheStatus, number>; sites: Record<string, SiteTraffic> };
}

export function createTrafficStats(): TrafficStats {
  let inFlight = 0;
  let requestsTotal = 0;
  let errorsTotal = 0;
  let bytesTotal = 0;
  const byStatus: Record<CacheStatus, number> = { HIT: 0, MISS: 0, REVALIDATED: 0, STALE: 0, BYPASS: 0 };
  const sites = new Map<string, SiteTraffic>();
  const site = (host: string): SiteTraffic => {
    let s = sites.get(host);
    if (!s) sites.set(host, (s = { requests: 0, errors: 0, bytes: 0, hits: 0 }));
    return s;
  };
  return {
    begin: () => {
      inFlight += 1;
    },
    end: () => {
      inFlight -= 1;
    },
    served(host, status, bytes) {
      requestsTotal += 1;
      bytesTotal += bytes;
      byStatus[status] += 1;
      const s = site(host);
      s.requests += 1;
      s.bytes += bytes;
      if (status === 'HIT' || status === 'REVALIDATED' || status === 'STALE') s.hits += 1;
    },
    failed(host) {
      requestsTotal += 1;
      errorsTotal += 1;
      const s = site(host);
      s.requests += 1;
      s.errors += 1;
    },
    inFlight: () => inFlight,
    snapshot: () => ({ inFlight, requestsTotal, errorsTotal, bytesTotal, byStatus: { ...byStatus }, sites: Object.fromEntries([...sites].map(([h, s]) => [h, { ...s }])) }),
  };
}
