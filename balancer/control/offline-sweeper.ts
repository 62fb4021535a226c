import { listStaleNodes } from '../../common/db/queries/node-registry.js';
import { recordTrustEvent } from '../../common/db/queries/trust.js';
import type { ControlDeps } from './types.js';

export interface OfflineSweeperOptions {
  intervalMs: number;
  /** A routable node whose last heartbeat is older than this is marked offline. */
  staleAfterMs: number;
}

// One sweeper at a time across all balancers sharing the database, so a node is never marked
// offline twice for one silence.
const SWEEP_LOCK_KEY = 0x76657269; // "veri"

/**
 * Marks nodes offline (trust event 'heartbeat_missed') when their heartbeats stop; the node
 * API records 'heartbeat_resumed' on the next accepted heartbeat. Returns the ids marked, or
 * [] when another balancer's sweep holds the lock.
 */
export async function sweepOfflineNodes(deps: Pick<ControlDeps, 'pool' | 'log' | 'now'>, staleAfterMs: number): Promise<string[]> {
  const client = await deps.pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [SWEEP_LOCK_KEY]);
    if (!rows[0]?.locked) return [];
    try {
      return await markStale(deps, staleAfterMs);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

async function markStale(deps: Pick<ControlDeps, 'pool' | 'log' | 'now'>, staleAfterMs: number): Promise<string[]> {
  const now = deps.now();
  const stale = await listStaleNodes(deps.pool, new Date(now - staleAfterMs));
  const marked: string[] = [];
  for (const node of stale) {
    const silentS = node.lastSeenAt ? Math.round((now - node.lastSeenAt.getTime()) / 1000) : null;
    const reason = silentS === null ? 'no heartbeat received' : `no heartbeat for ${silentS} s`;
    await recordTrustEvent(deps.pool, node.id, { kind: 'heartbeat_missed', reason }, new Date(now));
    marked.push(node.id);
  }
  if (marked.length > 0) deps.log.info({ sweep: { offline: marked } }, 'nodes marked offline');
  return marked;
}

/** Runs the sweep every intervalMs until the returned function is called. */
export function startOfflineSweeper(deps: Pick<ControlDeps, 'pool' | 'log' | 'now'>, opts: OfflineSweeperOptions): () => void {
  let stopped = false;
  let running = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = true;
    sweepOfflineNodes(deps, opts.staleAfterMs)
      .catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'offline sweep failed'))
      .finally(() => {
        running = false;
      });
  }, opts.intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
