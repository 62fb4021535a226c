import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createNodeApiPlugin } from '../../../balancer/control/node-api.js';
import { createJoinToken } from '../../../common/db/queries/tokens.js';
import { listTrustEvents, recordTrustEvent } from '../../../common/db/queries/trust.js';
import { insertTestSite, startBalancer, visit, waitFor } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import { spawnNode, useNodeProcesses } from '../../support/node-process.js';
import { startTcpRelay } from '../../support/relays.js';
import { freePort } from '../../support/ports.js';

// Strikes measure the node, not the Internet: an honest `verity node` whose line is flooded
// (every answer cut short while strangers hammer its port) loses availability, never integrity.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const nodes = useNodeProcesses(db);

/** Strangers hammering the node's port: `n` requests at once, each abandoned after a short while. */
function flood(url: string, n: number): Promise<void[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => {
    const req = request(`${url}/page`, { agent: false, headers: { host: SCENE_HOST } }, (res) => {
      res.resume();
      res.on('close', () => resolve());
    });
    req.setTimeout(2_000, () => req.destroy());
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.end();
  })));
}

describe('a flooded node', () => {
  it('loses availability, not integrity', async () => {
    const bal = scene.track(await startBalancer({
      pool: db.pool, plugins: [createNodeApiPlugin({ heartbeatIntervalMs: 500 })],
      config: { healthInterval: 200, attemptTimeout: 1_000, deadline: 3_000 }, deps: { background: { health: true } },
    }));
    const siteId = await insertTestSite(db.pool, { host: SCENE_HOST, origin: scene.origin.url });
    const { token } = await createJoinToken(db.pool, { siteId, uses: 1, ttlMs: 600_000 });
    const port = await freePort();
    const line = scene.track(await startTcpRelay({ target: { host: '127.0.0.1', port }, cutAfterBytes: 40 }));
    const dir = nodes.dataDir();
    const node = await nodes.track(spawnNode(['--balancer', bal.controlUrl, '--listen', `127.0.0.1:${port}`, '--public-url', line.url, '--status-listen', '127.0.0.1:0', '--data-dir', dir, '--token', token])).ready();
    for (let i = 0; i < 6; i++) await recordTrustEvent(db.pool, node.nodeId, { kind: 'audit_pass', reason: 'clean audit' });
    await waitFor(() => bal.balancer.runtime.table.node(node.nodeId)?.status === 'active');
    await visit(bal.publicUrl, '/page', { host: SCENE_HOST });
    expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node']).toBe(node.nodeId);
    const before = (await listTrustEvents(db.pool, node.nodeId)).length;
    const { rows } = await db.pool.query<{ integrity: number; availability: number }>('SELECT integrity, availability FROM nodes WHERE id = $1', [node.nodeId]);
    const start = rows[0];
    // The flood: the line breaks every answer while strangers hammer the port; visitors keep coming.
    line.setFlooded(true);
    const hammer = flood(line.url, 100);
    for (let i = 0; i < 20; i++) expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).status).toBe(200);
    await hammer;
    await waitFor(async () => (await listTrustEvents(db.pool, node.nodeId)).slice(before).some((e) => e.kind === 'health_fail'), 15_000);
    const during = (await listTrustEvents(db.pool, node.nodeId)).slice(before);
    // Unchanged but for the slow decay toward the prior (half-life 14 days).
    for (const e of during) expect(e.integrityAfter).toBeGreaterThanOrEqual((start?.integrity ?? 1) - 1e-6);
    expect(Math.min(...during.map((e) => e.availabilityAfter))).toBeLessThan(start?.availability ?? 0);
    const after = await db.pool.query<{ status: string; integrity: number; proven_failures: number }>('SELECT status, integrity, proven_failures FROM nodes WHERE id = $1', [node.nodeId]);
    expect(after.rows[0]).toMatchObject({ status: 'active', proven_failures: 0 });
    // The flood over, the node is back in rotation on its own.
    line.setFlooded(false);
    await waitFor(async () => (await listTrustEvents(db.pool, node.nodeId)).slice(before).some((e) => e.kind === 'health_ok'), 15_000);
  });
});
