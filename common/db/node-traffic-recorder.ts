import { createTrafficWindow } from '../domain/traffic-window.js';
import type { Logger } from '../log.js';
import type { Queryable } from './pool.js';
import { recordNodeTraffic } from './queries/node-traffic.js';

// What a balancer needs to fill `node_traffic` (the dashboard's traffic share and latency):
// call observe() when a proxied response ends; finished minutes are written once a minute.

export interface NodeTrafficRecorder {
  /**
   * Per request: no await, no I/O. `audit`: an audit the auditor pinned to this node; counted
   * apart, so that audits of a quarantined node never look like a share of visitor traffic.
   */
  observe: (nodeId: string, durationMs: number, isError: boolean, audit?: boolean) => void;
  /** Writes every finished minute now (tests, shutdown). */
  flush: (all?: boolean) => Promise<void>;
  /** Stops the timer and writes what is left. */
  stop: () => Promise<void>;
}

export function startNodeTrafficRecorder(o: { db: Queryable; log: Logger; now: () => number; intervalMs?: number }): NodeTrafficRecorder {
  const window = createTrafficWindow();
  const flush = async (all = false): Promise<void> => {
    for (const sample of window.drain(o.now(), all)) {
      // Dashboard figures, not state: a failed write is logged and that minute is lost.
      await recordNodeTraffic(o.db, sample).catch((err: unknown) => o.log.warn({ err: (err as Error).message }, 'could not record node traffic'));
    }
  };
  const timer = setInterval(() => void flush(), o.intervalMs ?? 15_000);
  timer.unref();
  return {
    observe: (nodeId, durationMs, isError, audit = false) => window.observe(nodeId, durationMs, isError, o.now(), audit),
    flush,
    stop: async () => {
      clearInterval(timer);
      await flush(true);
    },
  };
}
