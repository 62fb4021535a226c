import { describe, expect, it } from 'vitest';
import { nodeApiPlugin } from '../../../balancer/control/node-api.js';
import { paths, signRequest } from '../../../common/protocol/node-api.js';
import { insertTestNode, visit, waitFor } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import { makeIdentity, makeSiteWithToken } from '../../support/node-fixtures.js';
import { startHostileNode } from '../../support/hostile-node.js';

// What buildBalancer starts and hands the control plane: the offline sweeper, and the trusted
// proxies for node registrations.

const db = useTestDatabase();
const scene = useBalancerScene(db);

async function status(id: string): Promise<string> {
  const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM nodes WHERE id = $1', [id]);
  return rows[0]?.status ?? 'missing';
}

describe('offline sweeper', () => {
  it('a node whose heartbeats stop is marked offline by a running balancer and gets no more traffic', async () => {
    const { bal, siteId } = await scene.setup([], { deps: { background: { offlineSweep: true }, offlineSweep: { intervalMs: 200, staleAfterMs: 1_500 } } });
    const node = scene.track(await startHostileNode({ origin: scene.origin.url }));
    const id = await insertTestNode(db.pool, { url: node.url, siteIds: [siteId] });
    await db.pool.query('UPDATE nodes SET last_seen_at = now() WHERE id = $1', [id]);
    await waitFor(async () => (await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node'] === id);
    expect(await status(id)).toBe('active');
    // No heartbeat from now on.
    await waitFor(async () => (await status(id)) === 'offline', 10_000, 100);
    const seen = node.requests.length;
    await waitFor(async () => (await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node'] === 'origin');
    for (let i = 0; i < 5; i++) expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node']).toBe('origin');
    expect(node.requests.length).toBeLessThanOrEqual(seen + 1);
  }, 30_000);
});

describe('trusted proxies on the control plane', () => {
  it('a node registering through a trusted proxy is recorded with its own address and subnet', async () => {
    const { bal } = await scene.setup([], { plugins: [nodeApiPlugin], config: { trustedProxies: ['127.0.0.1'] } });
    const { token } = await makeSiteWithToken(db.pool);
    const identity = makeIdentity();
    const { nonce } = await (await fetch(bal.controlUrl + paths.challenge, { method: 'POST' })).json() as { nonce: string };
    const body = { nodeId: identity.nodeId, publicKey: identity.publicKey, nonce, token, name: 'p', publicUrl: 'http://127.0.0.1:1', timestamp: Date.now() };
    const signed = signRequest(identity.privateKey, 'register', body);
    const res = await fetch(bal.controlUrl + paths.register, {
      method: 'POST', body: new Uint8Array(signed.bytes),
      headers: { 'content-type': 'application/json', 'x-verity-signature': signed.signature, 'x-forwarded-for': '10.9.9.9, 198.51.100.23' },
    });
    expect(res.status).toBe(200);
    const { rows } = await db.pool.query<{ ip: string; subnet: string }>('SELECT host(registered_ip) AS ip, subnet FROM nodes WHERE id = $1', [identity.nodeId]);
    expect(rows[0]).toEqual({ ip: '198.51.100.23', subnet: '198.51.100.0/24' });
  });
});
