import { createNodeApiPlugin } from '../../balancer/control/node-api.js';
import { createJoinToken } from '../../common/db/queries/tokens.js';
import { startBalancer, insertTestSite, waitFor, type StartedBalancer, type StartBalancerOptions } from './balancer-harness.js';
import type { BalancerScene } from './balancer-scene.js';
import type { TestDatabase } from './db.js';
import { startDoctoringProxy, type Doctor, type DoctoringProxy } from './doctoring-proxy.js';
import { spawnNode, type useNodeProcesses } from './node-process.js';
import { freePort } from './ports.js';

// Real `verity node` processes behind a real balancer (with its node API), each enrolled with a
// join token like any volunteer; a rogue one is the same real node behind a doctoring proxy.

export const REAL_HOST = 'real.test';

export interface RealNode {
  nodeId: string;
  /** Where the node itself listens (the proxy's target, for a rogue). */
  url: string;
  proxy: DoctoringProxy | null;
}

export interface RealScene {
  bal: StartedBalancer;
  siteId: string;
  /** Starts a real node (behind `doctor` if given), enrolled, and trusted (active). */
  node(doctor?: Doctor, o?: { flipAt?: number }): Promise<RealNode>;
}

export async function startRealScene(db: TestDatabase, scene: BalancerScene, nodes: ReturnType<typeof useNodeProcesses>, opts: StartBalancerOptions = {}): Promise<RealScene> {
  const bal = scene.track(await startBalancer({
    pool: db.pool, plugins: [createNodeApiPlugin({ heartbeatIntervalMs: 500 })], ...opts,
    config: { attemptTimeout: 2_000, deadline: 10_000, ...opts.config },
  }));
  const siteId = await insertTestSite(db.pool, { host: REAL_HOST, origin: scene.origin.url });
  return {
    bal, siteId,
    async node(doctor, o = {}) {
      const { token } = await createJoinToken(db.pool, { siteId, uses: 1, ttlMs: 600_000 });
      const port = await freePort();
      const proxy = doctor ? scene.track(await startDoctoringProxy({ nodePort: port, doctor, flipAt: o.flipAt })) : null;
      const publicUrl = proxy?.url ?? `http://127.0.0.1:${port}`;
      const ready = await nodes.track(spawnNode([
        '--balancer', bal.controlUrl, '--listen', `127.0.0.1:${port}`, '--public-url', publicUrl, '--status-listen', '127.0.0.1:0',
        '--data-dir', nodes.dataDir(), '--token', token, '--cache-size', String(512 * 1024 * 1024),
      ])).ready();
      // Trusted from the start: probation would hold back its share of traffic.
      await db.pool.query("UPDATE nodes SET status = 'active' WHERE id = $1", [ready.nodeId]);
      await waitFor(() => bal.balancer.runtime.table.node(ready.nodeId)?.status === 'active');
      return { nodeId: ready.nodeId, url: `http://127.0.0.1:${port}`, proxy };
    },
  };
}
