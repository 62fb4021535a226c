import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signAuditPin } from '../../../common/protocol/audit-pin.js';
import { insertTestNode, insertTestSite, startBalancer, visit, waitFor, type StartBalancerOptions, type StartedBalancer } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { defaultAssets } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type NodeMode } from '../../support/hostile-node.js';

// Routing policy end to end: the probation cap shared by a /24, the published integrity
// manifest, and the audit pin's visitor address used for geo.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const HOST = SCENE_HOST;

async function node(mode: NodeMode = 'honest'): Promise<string> {
  return scene.track(await startHostileNode({ origin: scene.origin.url, mode })).url;
}

async function balancer(o: StartBalancerOptions = {}): Promise<StartedBalancer> {
  return scene.track(await startBalancer({ pool: db.pool, ...o }));
}

describe('routing policy', () => {
  it('probation nodes of one /24 share one small cap; the rest goes to trusted nodes', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    const trusted = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId], status: 'active' });
    const sybils = new Set<string>();
    const url = await node();
    for (let i = 0; i < 5; i++) sybils.add(await insertTestNode(db.pool, { url, siteIds: [siteId], status: 'probation', subnet: '203.0.113.0/24', integrity: 0.99, availability: 0.99 }));
    const bal = await balancer({ config: { probationShare: 0.05 } });
    const served = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const id = String((await visit(bal.publicUrl, '/page', { host: HOST })).headers['x-verity-node']);
      served.set(id, (served.get(id) ?? 0) + 1);
    }
    const toSybils = [...sybils].reduce((a, id) => a + (served.get(id) ?? 0), 0);
    expect(toSybils).toBeGreaterThan(0);
    expect(toSybils).toBeLessThanOrEqual(7);
    expect(served.get(trusted) ?? 0).toBeGreaterThanOrEqual(93);
  });

  it('hashes from the published manifest verify a file on its very first request', async () => {
    const js = defaultAssets().get('/app.js')?.body as string;
    scene.origin.set('/integrity.json', { body: JSON.stringify({ files: { '/app.js': createHash('sha256').update(js).digest('hex') } }), type: 'application/json' });
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url, manifestUrl: `${scene.origin.url}/integrity.json` });
    const honest = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const bal = await balancer();
    await waitFor(() => bal.balancer.runtime.hashes.lookup(siteId, '/app.js', Date.now()));
    const r = await visit(bal.publicUrl, '/app.js', { host: HOST });
    expect(r.headers['x-verity-node']).toBe(honest);
    expect(r.text).toBe(js);
    await db.pool.query("UPDATE nodes SET status = 'quarantined' WHERE id = $1", [honest]);
    const rogue = await insertTestNode(db.pool, { url: await node('tamper'), siteIds: [siteId] });
    await waitFor(() => bal.balancer.runtime.table.node(rogue));
    const t = await visit(bal.publicUrl, '/app.js', { host: HOST });
    expect(t.text).toBe(js);
    expect(t.headers['x-verity-node']).toBe('origin');
  });

  it('an expired hash with an ETag is revalidated in the background while nodes keep serving', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    const nodeId = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const bal = await balancer({ deps: { hashTtlMs: 300 } });
    await visit(bal.publicUrl, '/style.css', { host: HOST });
    expect((await visit(bal.publicUrl, '/style.css', { host: HOST })).headers['x-verity-node']).toBe(nodeId);
    await new Promise((r) => setTimeout(r, 400));
    const stale = await visit(bal.publicUrl, '/style.css', { host: HOST });
    expect(stale.headers['x-verity-node']).toBe(nodeId);
    await waitFor(() => scene.origin.requests.some((q) => q.url === '/style.css' && q.headers['if-none-match'] !== undefined));
    // The owner changes the file: the revalidation learns its new hash, nodes serve it verified.
    scene.origin.set('/style.css', { body: 'body { color: #456; }\n', type: 'text/css' });
    await new Promise((r) => setTimeout(r, 400));
    await visit(bal.publicUrl, '/style.css', { host: HOST });
    const fresh = await waitFor(async () => {
      const r = await visit(bal.publicUrl, '/style.css', { host: HOST });
      return r.headers['x-verity-node'] === nodeId && r.text.includes('#456') && r;
    });
    expect(fresh.text).toBe('body { color: #456; }\n');
    await bal.balancer.runtime.strikes.flush();
    expect((await db.pool.query("SELECT 1 FROM trust_events WHERE kind = 'integrity_mismatch'")).rowCount).toBe(0);
  });

  it('an audit pin’s visitor address is the one used for geo', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    const nodeId = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const asked: string[] = [];
    const bal = await balancer({ deps: { geo: (ip) => (asked.push(ip), null) } });
    const pin = signAuditPin(bal.auditSecret, { nodeId, host: HOST, path: '/page', clientIp: '81.2.69.142' });
    await visit(bal.publicUrl, '/page', { host: HOST, headers: { 'x-verity-audit-pin': pin } });
    expect(asked).toEqual(['81.2.69.142']);
  });
});
