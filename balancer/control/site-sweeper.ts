import { deleteDrainedSites } from '../../common/db/queries/site-owners.js';
import type { ControlDeps } from './types.js';

// Deletes the sites whose owners deleted them, once paused long enough for nodes to drain
// (balancer/control/site-ops.ts). Any balancer may do it: the DELETE is idempotent.

export function startSiteSweeper(deps: Pick<ControlDeps, 'pool' | 'log' | 'now'>, intervalMs = 5_000): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    deleteDrainedSites(deps.pool, new Date(deps.now()))
      .then((hosts) => {
        if (hosts.length > 0) deps.log.info({ sites: hosts }, 'deleted sites removed after their drain');
      })
      .catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'site sweep failed'))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
