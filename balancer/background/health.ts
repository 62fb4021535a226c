import type { LookupFunction } from 'node:net';
import type { Pool } from '../../common/db/pool.js';
import { recordTrustEvent } from '../../common/db/queries/trust.js';
import { isRoutable } from '../../common/domain/trust.js';
import type { Logger } from '../../common/log.js';
import type { RoutingTable } from '../registry/table.js';
import type { RouteNode } from '../registry/types.js';
import type { OutlierDetector } from '../selection/outlier.js';
import { fetchCopy } from './origin-fetch.js';
import { probePinned } from '../upstream/node-tls.js';
import type { RttRecorder } from './rtt.js';

// Active health: every node that may get traffic is asked GET /.well-known/verity/health.
// Two failures in a row take it out of rotation; one success brings it back (and ends an
// ejection early). Transitions, not every probe, become trust events. Each answered probe is
// also a round-trip time (connection, request and answer: never less than one real round
// trip), which checks the locations nodes declare when this balancer knows where it is.

export const HEALTH_PATH = '/.well-known/verity/health';

export interface HealthOptions {
  pool: Pool;
  log: Logger;
  table: RoutingTable;
  outlier: OutlierDetector;
  unhealthy: Set<string>;
  intervalMs: number;
  timeoutMs?: number;
  concurrency?: number;
  now: () => number;
  /** Resolves (and checks) node names, as for visitor traffic (balancer/proxy/node-lookup.ts). */
  lookup?: LookupFunction;
  /** Where answered probes' round-trip times go (set when the balancer's --location is known). */
  rtt?: RttRecorder;
  /** Monotonic clock for round-trip times (default performance.now). */
  monotonicMs?: () => number;
}

export class HealthProber {
  private failures = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: HealthOptions) {}

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.round = this.probeAll().finally(() => {
        this.round = null;
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.intervalMs);
      });
    };
    this.timer = setTimeout(tick, Math.min(this.opts.intervalMs, 1_000));
  }

  async probeAll(): Promise<void> {
    const nodes = [...this.opts.table.allNodes()].filter((n) => isRoutable(n.status) && !n.draining);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < nodes.length && !this.stopped) {
        const node = nodes[next++] as RouteNode;
        await this.probe(node);
      }
    };
    await Promise.all(Array.from({ length: this.opts.concurrency ?? 16 }, worker));
  }

  private async probe(node: RouteNode): Promise<void> {
    const url = new URL(node.publicUrl.href.replace(/\/$/, '') + HEALTH_PATH);
    let ok = false;
    const clock = this.opts.monotonicMs ?? (() => performance.now());
    const started = clock();
    try {
      // Over TLS, the node's registered key only (upstream/node-tls.ts).
      const timeoutMs = this.opts.timeoutMs ?? 2_000;
      const status = url.protocol === 'https:' ? await probePinned(url, node.tlsSpki === null ? [] : [node.tlsSpki], { timeoutMs, lookup: this.opts.lookup })
        : (await fetchCopy(url, { timeoutMs, maxBytes: 64 * 1024, lookup: this.opts.lookup })).status;
      ok = status >= 200 && status < 300;
    } catch {
      ok = false;
    }
    if (ok) {
      this.opts.rtt?.observe(node.id, node.publicUrl.href, clock() - started);
      this.failures.delete(node.id);
      this.opts.outlier.reinstate(node.id);
      if (this.opts.unhealthy.delete(node.id)) this.record(node.id, 'health_ok', 'health probe answers again');
      return;
    }
    const count = (this.failures.get(node.id) ?? 0) + 1;
    this.failures.set(node.id, count);
    if (count >= 2 && !this.opts.unhealthy.has(node.id)) {
      this.opts.unhealthy.add(node.id);
      this.record(node.id, 'health_fail', `health probe failed ${count} times in a row`);
    }
  }

  private record(nodeId: string, kind: 'health_ok' | 'health_fail', reason: string): void {
    recordTrustEvent(this.opts.pool, nodeId, { kind, reason, actor: 'balancer' }, new Date(this.opts.now()))
      .catch((err: unknown) => this.opts.log.warn({ err: (err as Error).message, nodeId }, 'health event not recorded'));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
  }
}
