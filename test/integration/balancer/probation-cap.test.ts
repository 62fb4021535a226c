import { describe, expect, it } from 'vitest';
import { createNodeApiPlugin } from '../../../balancer/control/node-api.js';
import { createJoinToken } from '../../../common/db/queries/tokens.js';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';
import { insertTestSite, startBalancer, visit, waitFor } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import { spawnNode, useNodeProcesses } from '../../support/node-process.js';
import { startForwardingProxy } from '../../support/relays.js';

// 25 probation nodes in 25 subnets (each registered through a proxy that gives it a public
// address of its own /24; the addresses are never contacted) against one trusted node: together
// they get at most the probation share of the site's traffic (default 10 %).

const db = useTestDatabase();
const scene = useBalancerScene(db);
const nodes = useNodeProcesses(db);

async function startNode(controlUrl: string, token: string) {
  const dir = nodes.dataDir();
  return nodes.track(spawnNode(['--balancer', controlUrl, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', dir, '--token', token])).ready();
}

describe('probation cap', () => {
  it('gives 25 probation nodes in 25 subnets at most 10 % of a site’s traffic together', async () => {
    const bal = scene.track(await startBalancer({
      pool: db.pool, plugins: [createNodeApiPlugin({ heartbeatIntervalMs: 2_000 })],
      config: { probationShare: 0.1, trustedProxies: ['127.0.0.1/32'] },
    }));
    const siteId = await insertTestSite(db.pool, { host: SCENE_HOST, origin: scene.origin.url });
    const { token } = await createJoinToken(db.pool, { siteId, uses: 26, ttlMs: 600_000 });
    await waitFor(() => bal.balancer.runtime.table.siteById(siteId));
    const trusted = await startNode(bal.controlUrl, token);
    for (let i = 0; i < 6; i++) await recordTrustEvent(db.pool, trusted.nodeId, { kind: 'audit_pass', reason: 'clean audit' });
    const newcomers: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const started = await Promise.all(Array.from({ length: 5 }, async (_, j) => {
        const proxy = scene.track(await startForwardingProxy(bal.controlUrl, `45.${10 + batch * 5 + j}.7.20`));
        return startNode(proxy.url, token);
      }));
      newcomers.push(...started.map((s) => s.nodeId));
    }
    const subnets = await db.pool.query<{ subnet: string; status: string }>('SELECT subnet, status FROM nodes WHERE id = ANY($1)', [newcomers]);
    expect(new Set(subnets.rows.map((r) => r.subnet)).size).toBe(25);
    expect(subnets.rows.every((r) => r.status === 'probation')).toBe(true);
    await waitFor(() => newcomers.every((id) => bal.balancer.runtime.table.node(id)) && bal.balancer.runtime.table.node(trusted.nodeId)?.status === 'active');
    await visit(bal.publicUrl, '/page', { host: SCENE_HOST });
    let toNewcomers = 0;
    let toNodes = 0;
    const ids = new Set(newcomers);
    for (let i = 0; i < 400; i++) {
      const by = String((await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node']);
      if (by === 'origin') continue;
      toNodes++;
      if (ids.has(by)) toNewcomers++;
    }
    expect(toNodes).toBeGreaterThanOrEqual(390);
    expect(toNewcomers / toNodes).toBeLessThanOrEqual(0.1);
    // A cap, not a ban: they still get their slice, so they can earn trust.
    expect(toNewcomers).toBeGreaterThanOrEqual(30);
  });
});
