import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Pool } from '../common/db/pool.js';
import { nodeStatuses } from '../common/domain/trust.js';
import type { RoutingTable } from './registry/table.js';

export interface BalancerMetrics {
  registry: Registry;
  requests: Counter<'outcome'>;
  upstreamSeconds: Histogram<'target'>;
  retries: Counter;
  ejections: Counter;
  integrityMismatches: Counter;
  strikes: Counter<'kind'>;
  /** Requests sent to the origin because buffered bodies reached the global budget. */
  budgetRefusals: Counter;
  /** Per request: cached label children. */
  countRequest(outcome: string): void;
  observeUpstream(target: 'node' | 'origin', seconds: number): void;
}

/** Children per label value are looked up once: the request path then pays no label hashing. */
function cachedChildren<T extends string, C>(make: (value: string) => C): (value: T) => C {
  const children = new Map<string, C>();
  return (value) => {
    let c = children.get(value);
    if (!c) children.set(value, (c = make(value)));
    return c;
  };
}

export function createMetrics(registry: Registry = new Registry()): BalancerMetrics {
  const m = buildMetrics(registry);
  const requests = cachedChildren((outcome) => m.requests.labels(outcome));
  const latency = cachedChildren((target) => m.upstreamSeconds.labels(target));
  return {
    ...m,
    countRequest: (outcome) => requests(outcome).inc(),
    observeUpstream: (target, seconds) => latency(target).observe(seconds),
  };
}

function buildMetrics(registry: Registry): Omit<BalancerMetrics, 'countRequest' | 'observeUpstream'> {
  return {
    registry,
    requests: new Counter({ name: 'verity_balancer_requests_total', help: 'visitor requests by outcome', labelNames: ['outcome'], registers: [registry] }),
    upstreamSeconds: new Histogram({
      name: 'verity_balancer_upstream_seconds', help: 'time to upstream response headers', labelNames: ['target'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }),
    retries: new Counter({ name: 'verity_balancer_retries_total', help: 'requests retried on another node', registers: [registry] }),
    ejections: new Counter({ name: 'verity_balancer_ejections_total', help: 'nodes ejected by passive health checks', registers: [registry] }),
    integrityMismatches: new Counter({ name: 'verity_balancer_integrity_mismatches_total', help: 'node responses whose bytes did not match the origin', registers: [registry] }),
    strikes: new Counter({ name: 'verity_balancer_strikes_total', help: 'strikes queued against nodes', labelNames: ['kind'], registers: [registry] }),
    budgetRefusals: new Counter({ name: 'verity_balancer_budget_refusals_total', help: 'requests sent to the origin because buffered bodies reached the global budget', registers: [registry] }),
  };
}

/** Gauges read when scraped: nodes by status from the table, audits by verdict from the database. */
export function registerStateGauges(metrics: BalancerMetrics, table: RoutingTable, pool: Pool): void {
  new Gauge({
    name: 'verity_nodes', help: 'nodes in the routing table by status', labelNames: ['status'], registers: [metrics.registry],
    collect() {
      const counts = new Map<string, number>(nodeStatuses.map((s) => [s, 0]));
      for (const n of table.allNodes()) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
      for (const [status, count] of counts) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'verity_audits', help: 'finished audits by verdict', labelNames: ['verdict'], registers: [metrics.registry],
    async collect() {
      const { rows } = await pool.query<{ verdict: string; count: number }>(
        "SELECT verdict, count(*)::int AS count FROM audits WHERE status = 'done' GROUP BY verdict",
      ).catch(() => ({ rows: [] as Array<{ verdict: string; count: number }> }));
      for (const verdict of ['pass', 'tampered', 'inconclusive', 'unreachable']) this.set({ verdict }, rows.find((r) => r.verdict === verdict)?.count ?? 0);
    },
  });
}
