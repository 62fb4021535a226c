// Per-node, per-minute traffic figures the balancer collects on the request path and writes to
// `node_traffic` once a minute (recordNodeTraffic). Pure and bounded: a fixed histogram per
// (node, minute), so memory does not grow with traffic.

export interface TrafficSample {
  nodeId: string;
  minute: Date;
  /** Requests the auditor pinned to this node, counted apart from visitors'. */
  audit: boolean;
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

// Bucket upper bounds in ms: 1 ms … ~60 s, each 25% wider than the last.
const BOUNDS: number[] = (() => {
  const b: number[] = [];
  for (let v = 1; v < 60_000; v *= 1.25) b.push(v);
  b.push(Number.POSITIVE_INFINITY);
  return b;
})();

function bucketOf(ms: number): number {
  let lo = 0;
  let hi = BOUNDS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= (BOUNDS[mid] ?? Number.POSITIVE_INFINITY)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

interface Bucket {
  requests: number;
  errors: number;
  histogram: Uint32Array;
}

/** The latency below which a share q of the requests fell (bucket upper bound; last finite bound for the overflow). */
export function percentileOf(histogram: Uint32Array, q: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= rank) return Math.round(Math.min(BOUNDS[i] ?? 60_000, 60_000) * 10) / 10;
  }
  return null;
}

export interface TrafficWindow {
  /** Per request: no await, no I/O. `audit`: the request was an audit pinned to this node. */
  observe: (nodeId: string, durationMs: number, isError: boolean, nowMs: number, audit?: boolean) => void;
  /** Takes out every minute that has ended by `nowMs` (or everything with `all`), for writing. */
  drain: (nowMs: number, all?: boolean) => TrafficSample[];
}

// Keyed by node id and kind: visitor and audit traffic are separate rows of node_traffic.
const keyOf = (nodeId: string, audit: boolean): string => `${audit ? 'a' : 'v'}:${nodeId}`;

export function createTrafficWindow(): TrafficWindow {
  const buckets = new Map<string, Map<number, Bucket>>();
  return {
    observe(nodeId, durationMs, isError, nowMs, audit = false) {
      const minute = Math.floor(nowMs / 60_000) * 60_000;
      const key = keyOf(nodeId, audit);
      let perNode = buckets.get(key);
      if (!perNode) buckets.set(key, (perNode = new Map()));
      let b = perNode.get(minute);
      if (!b) perNode.set(minute, (b = { requests: 0, errors: 0, histogram: new Uint32Array(BOUNDS.length) }));
      b.requests++;
      if (isError) b.errors++;
      const i = bucketOf(Math.max(0, durationMs));
      b.histogram[i] = (b.histogram[i] ?? 0) + 1;
    },
    drain(nowMs, all = false) {
      const current = Math.floor(nowMs / 60_000) * 60_000;
      const out: TrafficSample[] = [];
      for (const [key, perNode] of buckets) {
        const audit = key.startsWith('a:');
        const nodeId = key.slice(2);
        for (const [minute, b] of perNode) {
          if (!all && minute >= current) continue;
          out.push({ nodeId, minute: new Date(minute), audit, requests: b.requests, errors: b.errors, p50Ms: percentileOf(b.histogram, 0.5), p99Ms: percentileOf(b.histogram, 0.99) });
          perNode.delete(minute);
        }
        if (perNode.size === 0) buckets.delete(key);
      }
      return out;
    },
  };
}
