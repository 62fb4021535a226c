import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signAuditPin } from '../../../common/protocol/audit-pin.js';
import { insertTestNode, insertTestSite, startBalancer, visit, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { defaultAssets, startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type NodeMode } from '../../support/hostile-node.js';

// Routing policy end to end: the probation cap shared by a /24, the published integrity
// manifest, and the audit pin's visitor address used for geo.

const db = useTestDatabase();
const HOST = 'site.test';
let origin: TestOrigin;
const opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => {
  await origin.close();
});
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function node(mode: NodeMode = 'honest'): Promise<string> {
  const n = await startHostileNode({ origin: origin.url, mode });
  opened.push(n);
  return n.url;
}

async function balancer(o: Parameters<typeof startBalancer>[0] = {}): Promise<StartedBalancer> {
  const b = await startBalancer({ pool: db.pool, ...o });
  opened.push(b);
  return b;
}

describe('routing policy', () => {
  it('probation nodes of one /24 share one small cap; the rest goes to trusted nodes', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url });
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
    origin.set('/integrity.json', { body: JSON.stringify({ files: { '/app.js': createHash('sha256').update(js).digest('hex') } }), type: 'application/json' });
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url, manifestUrl: `${origin.url}/integrity.json` });
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

  it('an audit pin’s visitor address is the one used for geo', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url });
    const nodeId = await insertTestNode(db.pool, { url: await node(), siteIds: [siteId] });
    const asked: string[] = [];
    const bal = await balancer({ deps: { geo: (ip) => (asked.push(ip), null) } });
    const pin = signAuditPin(bal.auditSecret, { nodeId, host: HOST, path: '/page', clientIp: '81.2.69.142' });
    await visit(bal.publicUrl, '/page', { host: HOST, headers: { 'x-verity-audit-pin': pin } });
    expect(asked).toEqual(['81.2.69.142']);
  });
});
