import { afterEach, describe, expect, it } from 'vitest';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';
import { insertTestNode, insertTestSite, startBalancer, visit, visitPublished, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { useOriginAndNode } from '../../support/balancer-scene.js';

// The routing table follows PostgreSQL: two balancers on one database agree on a trust change
// within a second; killed connections are survived, re-established and resynced.

const db = useTestDatabase();
const HOST = 'site.test';
const upstreams = useOriginAndNode();
const opened: StartedBalancer[] = [];

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

async function two(): Promise<{ a: StartedBalancer; b: StartedBalancer; nodeId: string; siteId: string }> {
  const siteId = await insertTestSite(db.pool, { host: HOST, origin: upstreams.origin.url });
  const nodeId = await insertTestNode(db.pool, { url: upstreams.node.url, siteIds: [siteId] });
  const a = await startBalancer({ url: db.url });
  const b = await startBalancer({ url: db.url });
  opened.push(a, b);
  return { a, b, nodeId, siteId };
}

describe('routing table sync', () => {
  it('two balancers on one database agree on a trust change within 1 s', async () => {
    const { a, b, nodeId } = await two();
    for (const bal of [a, b]) expect((await visitPublished(bal, '/page', { host: HOST })).headers['x-verity-node']).toBe(nodeId);
    const t0 = Date.now();
    await recordTrustEvent(db.pool, nodeId, { kind: 'admin_quarantine', reason: 'test', actor: 'test' });
    await waitFor(() => [a, b].every((bal) => bal.balancer.runtime.table.node(nodeId)?.status === 'quarantined'), 5_000, 10);
    expect(Date.now() - t0).toBeLessThan(1_000);
    for (const bal of [a, b]) expect((await visit(bal.publicUrl, '/page', { host: HOST })).headers['x-verity-node']).toBe('origin');
  });

  it('a new site and a new node reach running balancers (triggers on sites, nodes, node_sites)', async () => {
    const { a } = await two();
    const site2 = await insertTestSite(db.pool, { host: 'two.test', origin: upstreams.origin.url });
    await waitFor(() => a.balancer.runtime.table.siteByHost('two.test'), 5_000, 10);
    const n2 = await insertTestNode(db.pool, { url: upstreams.node.url, siteIds: [site2] });
    await waitFor(() => a.balancer.runtime.table.indexFor(site2).all.some((n) => n.id === n2), 5_000, 10);
    expect((await visitPublished(a, '/page', { host: 'two.test' })).headers['x-verity-node']).toBe(n2);
  });

  it('28: connections killed (idle and LISTEN) → keeps serving from memory, reconnects, resyncs everything', async () => {
    const { a, nodeId } = await two();
    const sync = a.balancer.sync;
    const loadsBefore = sync.loads;
    // The listener is killed in the same transaction that bans the node: the notification has
    // nobody to go to, so only the full resync after reconnecting can learn of the ban.
    await db.pool.query(`UPDATE nodes SET status = 'banned' WHERE id = '${nodeId}';
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'verity-balancer-test' AND pid <> pg_backend_pid()`);
    await waitFor(() => sync.loads > loadsBefore && sync.connected, 15_000);
    await waitFor(() => a.balancer.runtime.table.node(nodeId)?.status === 'banned', 5_000);
    expect((await visit(a.publicUrl, '/page', { host: HOST })).headers['x-verity-node']).toBe('origin');
    const health = await visit(a.controlUrl, '/healthz', { host: 'localhost' });
    expect(health.status).toBe(200);
  });

  it('28: a query in flight when its connection dies does not crash the balancer', async () => {
    const { a } = await two();
    const pending = a.balancer.runtime.pool.query('SELECT pg_sleep(5)').catch((err: Error) => err);
    await waitFor(async () => (await db.pool.query("SELECT 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' AND state = 'active'")).rowCount);
    await db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'verity-balancer-test' AND pid <> pg_backend_pid()");
    expect(await pending).toBeInstanceOf(Error);
    expect((await visit(a.publicUrl, '/page', { host: HOST })).status).toBe(200);
    await waitFor(() => a.balancer.sync.connected, 15_000);
    expect((await visit(a.controlUrl, '/healthz', { host: 'localhost' })).status).toBe(200);
  });
});

describe('publications are shared', () => {
  it('what one balancer learned, another serves from nodes after one origin visit; a change made through one is forgotten by both', async () => {
    const { a, b, nodeId } = await two();
    await visitPublished(a, '/page', { host: HOST });
    await a.balancer.runtime.publicationSync.flush();
    // b has never seen /page: its first visitor goes to the origin, and b recalls it meanwhile.
    expect((await visit(b.publicUrl, '/page', { host: HOST })).headers['x-verity-node']).toBe('origin');
    await waitFor(() => b.balancer.runtime.publications.family([...b.balancer.runtime.table.allSites()][0]?.id ?? '', '/page'), 5_000, 20);
    expect((await visit(b.publicUrl, '/page', { host: HOST })).headers['x-verity-node']).toBe(nodeId);
    await visit(a.publicUrl, '/page', { host: HOST, method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await a.balancer.runtime.publicationSync.flush();
    await waitFor(() => !b.balancer.runtime.publications.family([...b.balancer.runtime.table.allSites()][0]?.id ?? '', '/page'), 5_000, 20);
    expect((await visit(b.publicUrl, '/page', { host: HOST })).headers['x-verity-node']).toBe('origin');
  });
});
