import { isVerityError, type VerityError } from '../common/errors.js';
import type { HeartbeatStats, NodeAnswer } from '../common/protocol/node-api.js';
import type { BalancerClient } from './balancer-client.js';
import { backoffMs } from './enroll.js';

// Signed heartbeats every few seconds (the balancer says how often). A counter that is always
// above the last one the balancer accepted; the balancer tells us that value at registration.

export interface Counter {
  next(): number;
  /** After a register: continue above what the balancer has seen. */
  resetAbove(lastAccepted: number): void;
}

export function createCounter(): Counter {
  let value = 0;
  return {
    next: () => (value += 1),
    resetAbove: (last) => {
      value = Math.max(value, last);
    },
  };
}

export interface HeartbeatOptions {
  client: BalancerClient;
  counter: Counter;
  stats: () => HeartbeatStats;
  intervalMs: () => number;
  onStanding: (s: NodeAnswer) => void;
  onError: (err: VerityError | Error) => void;
  /** The balancer banned us: stop serving. */
  onFatal: (err: VerityError) => void;
  /** The balancer lost track of us (unknown node, counter out of step): register again. */
  reRegister: () => Promise<void>;
}

export interface Heartbeats {
  stop(): Promise<void>;
}

export function startHeartbeats(o: HeartbeatOptions): Heartbeats {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let failures = 0;
  let current: Promise<void> = Promise.resolve();

  const beat = async (): Promise<void> => {
    try {
      o.onStanding(await o.client.heartbeat(o.counter.next(), o.stats()));
      failures = 0;
    } catch (err) {
      failures += 1;
      if (isVerityError(err, 'NODE_ERR_REVOKED')) {
        stopped = true;
        o.onFatal(err);
        return;
      }
      o.onError(err as Error);
      if (isVerityError(err, 'NODE_ERR_UNKNOWN') || isVerityError(err, 'NODE_ERR_REPLAY')) {
        await o.reRegister().catch((e: unknown) => {
          if (isVerityError(e) && (e.code === 'NODE_ERR_REVOKED' || e.code === 'NODE_ERR_TOKEN_REJECTED')) {
            stopped = true;
            o.onFatal(e);
          } else o.onError(e as Error);
        });
      }
    }
  };

  const schedule = () => {
    if (stopped) return;
    const delay = failures === 0 ? o.intervalMs() : Math.max(o.intervalMs(), backoffMs(failures - 1, 60_000));
    timer = setTimeout(() => {
      current = beat().finally(schedule);
    }, delay);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
