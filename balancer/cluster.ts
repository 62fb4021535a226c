import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Logger } from '../common/log.js';

// `verity balancer --workers N`: N processes share the public port (node:cluster hands out
// connections), each with its own routing table and publications fed by LISTEN/NOTIFY, exactly
// like separate balancers on one database. The primary keeps the control plane (one place for
// the admin API, the node API and /metrics), sums the workers' metrics into its own, and
// drains them on SIGTERM.

const ASK = 'verity:metrics-req';
const ANSWER = 'verity:metrics-res';

type Metrics = Array<MetricObjectWithValues<MetricValue<string>>>;
interface Ask { type: typeof ASK; id: number }
interface Answer { type: typeof ANSWER; id: number; metrics: Metrics }

/** In a worker: answer the primary's metric requests from this registry. */
export function answerMetricsRequests(registry: Registry): void {
  process.on('message', (msg: Ask) => {
    if (msg?.type !== ASK) return;
    void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: ANSWER, id: msg.id, metrics } satisfies Answer));
  });
}

/** In the primary: its own metrics plus every worker's, summed (gauges of shared state: the first). */
export class ClusterRegistry extends Registry {
  private next = 0;

  private async workersMetrics(timeoutMs = 2_000): Promise<Metrics[]> {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
    const id = this.next++;
    return Promise.all(workers.map((w) => new Promise<Metrics>((resolve) => {
      const timer = setTimeout(() => done([]), timeoutMs);
      const onMessage = (msg: Answer): void => {
        if (msg?.type === ANSWER && msg.id === id) done(msg.metrics);
      };
      function done(m: Metrics): void {
        clearTimeout(timer);
        w.off('message', onMessage);
        resolve(m);
      }
      w.on('message', onMessage);
      w.send({ type: ASK, id } satisfies Ask);
    })));
  }

  private async aggregated(): Promise<Registry> {
    const local = await super.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([local, ...(await this.workersMetrics())] as Parameters<typeof AggregatorRegistry.aggregate>[0]);
  }

  override async metrics(): Promise<string> {
    return (await this.aggregated()).metrics();
  }

  override async getMetricsAsJSON(): Promise<Metrics> {
    return (await this.aggregated()).getMetricsAsJSON() as Promise<Metrics>;
  }
}

export interface WorkerPoolOptions {
  count: number;
  log: Logger;
  /** Extra environment for the workers (the database the primary opened, the worker flag). */
  env: Record<string, string>;
}

/**
 * Forks the workers, resolves once every one is listening, and replaces any that dies while we
 * are not stopping. stop() sends SIGTERM to all (each drains like a single balancer) and waits.
 */
export async function startWorkers(o: WorkerPoolOptions): Promise<{ publicUrl: string; tlsUrl: string | null; stop(): Promise<void> }> {
  let stopping = false;
  const fork = (): Worker => {
    const w = cluster.fork(o.env);
    w.on('exit', (code, signal) => {
      if (stopping) return;
      o.log.error({ pid: w.process.pid, code, signal }, 'balancer worker died; starting another');
      setTimeout(fork, 1_000).unref();
    });
    return w;
  };
  const workers = Array.from({ length: o.count }, fork);
  const urls = await Promise.all(workers.map((w) => new Promise<{ url: string; tlsUrl: string | null }>((resolve, reject) => {
    w.once('message', (m: { type?: string; url?: string; tlsUrl?: string | null }) => (m?.type === 'verity:ready' ? resolve({ url: m.url ?? '', tlsUrl: m.tlsUrl ?? null }) : undefined));
    w.once('exit', (code) => reject(new Error(`a balancer worker exited during start (code ${String(code)})`)));
  })));
  return {
    publicUrl: urls[0]?.url ?? '',
    tlsUrl: urls[0]?.tlsUrl ?? null,
    async stop() {
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
      await Promise.all(alive.map((w) => new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.process.kill('SIGTERM');
      })));
    },
  };
}

/** In a worker: tell the primary this worker listens, and where. */
export function reportReady(url: string, tlsUrl: string | null = null): void {
  process.send?.({ type: 'verity:ready', url, tlsUrl });
}
