import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signAuditPin } from '../../../common/protocol/audit-pin.js';
import { listSiteWarnings, replaceManifest } from '../../../common/db/queries/manifests.js';
import { insertTestNode, insertTestSite, startBalancer, visit, waitFor, waitPublished, type StartBalancerOptions, type StartedBalancer } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { defaultAssets } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type NodeMode } from '../../support/hostile-node.js';

// Routing policy end to end: the probation cap shared by a /24, published manifests,
// revalidation at the origin's freshness, and the audit pin's visitor address.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const HOST = SCENE_HOST;
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
const asset = (path: string): string => String(defaultAssets().get(path)?.body);

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
    await waitPublished(bal, siteId, '/page', HOST);
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

  it('a manifest publishes files before any visitor asked: the first request is served by a node, verified', async () => {
    const js = asset('/app.js');
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    const honest = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const bal = await balancer();
    await replaceManifest(db.pool, siteId, new Map([['/app.js', { sha256: sha(js), size: Buffer.byteLength(js), pieces: null, contentType: 'text/javascript' }]]));
    await waitFor(async () => {
      await bal.balancer.revalidator.settled();
      return [...bal.balancer.runtime.publications.all()].some((p) => p.url === '/app.js' && p.mode === 'stable' && p.source === 'manifest');
    });
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

  it('a manifest the origin contradicts: the origin\'s bytes win and the admin sees a warning', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const bal = await balancer();
    await replaceManifest(db.pool, siteId, new Map([['/style.css', { sha256: sha('not the origin\'s bytes'), size: 22, pieces: null, contentType: null }]]));
    const warning = await waitFor(async () => (await listSiteWarnings(db.pool, siteId))[0]);
    expect(warning.kind).toBe('manifest_mismatch');
    expect(warning.message).toContain('/style.css');
    expect([...bal.balancer.runtime.publications.all()].find((p) => p.url === '/style.css')?.source).not.toBe('manifest');
    const r = await visit(bal.publicUrl, '/style.css', { host: HOST });
    expect(r.text).toBe(asset('/style.css'));
  });

  it('the older integrity-manifest URL vouches too: one origin answer that matches it publishes the file', async () => {
    const js = asset('/app.js');
    scene.origin.set('/integrity.json', { body: JSON.stringify({ files: { '/app.js': sha(js) } }), type: 'application/json' });
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url, manifestUrl: `${scene.origin.url}/integrity.json` });
    const honest = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const bal = await balancer({ deps: { random: () => 0.99 } });
    await waitFor(() => bal.balancer.runtime.manifests.vouches(siteId, '/app.js', { encoding: null, sha256: sha(js), size: Buffer.byteLength(js) } as never));
    expect((await visit(bal.publicUrl, '/app.js', { host: HOST })).headers['x-verity-node']).toBe('origin');
    expect((await visit(bal.publicUrl, '/app.js', { host: HOST })).headers['x-verity-node']).toBe(honest);
  });

  it('a stable URL is revalidated at the origin\'s freshness while nodes keep serving; a change is learned again', async () => {
    scene.origin.set('/style.css', { body: 'body { color: #123; }\n', type: 'text/css', headers: { 'cache-control': 'public, max-age=2' } });
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    const nodeId = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const bal = await balancer();
    await waitPublished(bal, siteId, '/style.css', HOST);
    const served = new Set<string>();
    for (let i = 0; i < 30; i++) {
      served.add(String((await visit(bal.publicUrl, '/style.css', { host: HOST })).headers['x-verity-node']));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(served.has(nodeId)).toBe(true);
    expect(scene.origin.requests.some((q) => q.url === '/style.css' && q.headers['if-none-match'] !== undefined)).toBe(true);
    // The owner changes the file: it is learned again, and nodes serve the new bytes, verified.
    scene.origin.set('/style.css', { body: 'body { color: #456; }\n', type: 'text/css', headers: { 'cache-control': 'public, max-age=2' } });
    const fresh = await waitFor(async () => {
      const r = await visit(bal.publicUrl, '/style.css', { host: HOST });
      return r.headers['x-verity-node'] === nodeId && r.text.includes('#456') && r;
    }, 20_000, 100);
    expect(fresh.text).toBe('body { color: #456; }\n');
    await bal.balancer.runtime.strikes.flush();
    expect((await db.pool.query("SELECT 1 FROM trust_events WHERE kind = 'integrity_mismatch'")).rowCount).toBe(0);
  });

  it('an audit pin\'s visitor address is the visitor\'s address for the balancer (the origin sees it too)', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    const nodeId = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const bal = await balancer();
    const pin = signAuditPin(bal.auditSecret, { nodeId, host: HOST, path: '/never-seen', clientIp: '81.2.69.142' });
    const r = await visit(bal.publicUrl, '/never-seen', { host: HOST, headers: { 'x-verity-audit-pin': pin } });
    // Not published: the origin serves even an audit, and says so.
    expect(r.headers['x-verity-node']).toBe('origin');
    expect(scene.origin.requests.find((q) => q.url === '/never-seen')?.headers['x-forwarded-for']).toBe('81.2.69.142');
  });
});
