import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signAuditPin } from '../../../common/protocol/audit-pin.js';
import { insertTestNode, insertTestSite, startBalancer, visit, waitFor, waitPublished, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type HostileNode } from '../../support/hostile-node.js';

const db = useTestDatabase();
const HOST = 'site.test';
let origin: TestOrigin;
let node: HostileNode;
/** Requests the balancer proxied to the origin (its background fetches carry no X-Forwarded-For). */
const proxiedToOrigin = () => origin.requests.filter((q) => q.headers['x-forwarded-for'] !== undefined);

beforeAll(async () => {
  origin = await startOrigin();
  node = await startHostileNode({ origin: origin.url });
});
afterAll(async () => {
  await node.close();
  await origin.close();
});

describe('request path', () => {
  let bal: StartedBalancer;
  let nodeId: string;
  beforeEach(async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url, privateRoutes: ['/account/**', '/admin'] });
    nodeId = await insertTestNode(db.pool, { url: node.url, siteIds: [siteId] });
    bal = await startBalancer({ pool: db.pool });
    // The origin published /page (its first visitors and the balancer's confirmation).
    await waitPublished(bal, siteId, '/page', HOST);
    origin.requests.length = 0;
    node.requests.length = 0;
  });
  afterEach(async () => {
    await bal.close();
  });

  it('unknown Host → 421, nothing proxied', async () => {
    const r = await visit(bal.publicUrl, '/', { host: 'unknown.test' });
    expect(r.status).toBe(421);
    expect(r.headers['x-verity-node']).toBe('origin');
    expect(proxiedToOrigin().length + node.requests.length).toBe(0);
  });

  it('a fully qualified Host (trailing dot, port) is the same site', async () => {
    const r = await visit(bal.publicUrl, '/page', { host: `${HOST}.:8080` });
    expect(r.headers['x-verity-node']).toBe(nodeId);
  });

  it('a public page is served by the node, which learns nothing about the visitor', async () => {
    const r = await visit(bal.publicUrl, '/page', {
      host: HOST,
      headers: { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6', 'x-real-ip': '6.6.6.6', te: 'trailers', connection: 'x-secret, keep-alive', 'x-secret': 's', 'keep-alive': '5' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['x-verity-node']).toBe(nodeId);
    expect(r.text).toContain('<h1>Page</h1>');
    expect(node.requests).toHaveLength(1);
    const seen = node.requests[0]?.headers ?? {};
    for (const h of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'te', 'x-secret', 'keep-alive', 'proxy-authorization', 'cookie', 'authorization']) expect(seen[h]).toBeUndefined();
    expect(seen.host).toBe(HOST);
  });

  it.each([
    ['cookie', { headers: { cookie: 'session=abc' } }],
    ['authorization', { headers: { authorization: 'Bearer abc' } }],
    ['POST', { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['PUT', { method: 'PUT', body: 'x' }],
    ['PATCH', { method: 'PATCH', body: 'x' }],
    ['DELETE', { method: 'DELETE' }],
    ['private route', { path: '/account/settings' }],
    ['private route (encoded)', { path: '/%61ccount/settings' }],
    ['token query', { path: '/page?token=abc' }],
    ['service worker', { headers: { 'service-worker': 'script' } }],
  ] as Array<[string, { method?: string; body?: string; headers?: Record<string, string>; path?: string }]>)('%s → origin only, the node sees nothing', async (_name, o) => {
    const r = await visit(bal.publicUrl, o.path ?? '/page', { host: HOST, method: o.method, body: o.body, headers: o.headers });
    expect(r.headers['x-verity-node']).toBe('origin');
    expect(node.requests).toHaveLength(0);
    expect(proxiedToOrigin().length).toBeGreaterThan(0);
  });

  it('the origin gets a clean X-Forwarded-For of our own, never the forged one', async () => {
    await visit(bal.publicUrl, '/echo', { host: HOST, method: 'POST', body: '{}', headers: { 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6', cookie: 'a=b' } });
    const seen = origin.requests.at(-1)?.headers ?? {};
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-real-ip']).toBeUndefined();
    expect(seen.forwarded).toBe('for=127.0.0.1;host=site.test;proto=http');
    expect(seen.cookie).toBe('a=b');
  });

  it('quarantined node → origin (fail closed); trust change seen through NOTIFY', async () => {
    await db.pool.query("UPDATE nodes SET status = 'quarantined' WHERE id = $1", [nodeId]);
    await waitFor(() => bal.balancer.runtime.table.node(nodeId)?.status === 'quarantined');
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.headers['x-verity-node']).toBe('origin');
    expect(node.requests).toHaveLength(0);
  });

  it('audit pin: routes to the pinned node even when quarantined; header stripped; replay and forgery → 403', async () => {
    await db.pool.query("UPDATE nodes SET status = 'quarantined' WHERE id = $1", [nodeId]);
    await waitFor(() => bal.balancer.runtime.table.node(nodeId)?.status === 'quarantined');
    const pin = signAuditPin(bal.auditSecret, { nodeId, host: HOST, path: '/page', clientIp: '81.2.69.142' });
    const r = await visit(bal.publicUrl, '/page', { host: HOST, headers: { 'x-verity-audit-pin': pin } });
    expect(r.status).toBe(200);
    expect(r.headers['x-verity-node']).toBe(nodeId);
    expect(node.requests[0]?.headers['x-verity-audit-pin']).toBeUndefined();
    const replay = await visit(bal.publicUrl, '/page', { host: HOST, headers: { 'x-verity-audit-pin': pin } });
    expect(replay.status).toBe(403);
    const forged = signAuditPin('another-secret-0123456789abcdef', { nodeId, host: HOST, path: '/page', clientIp: '1.2.3.4' });
    const bad = await visit(bal.publicUrl, '/page', { host: HOST, headers: { 'x-verity-audit-pin': forged } });
    expect(bad.status).toBe(403);
    const wrongPath = signAuditPin(bal.auditSecret, { nodeId, host: HOST, path: '/other', clientIp: '1.2.3.4' });
    expect((await visit(bal.publicUrl, '/page', { host: HOST, headers: { 'x-verity-audit-pin': wrongPath } })).status).toBe(403);
    expect(node.requests).toHaveLength(1);
    // The honest node fetched /page from the origin itself; the balancer sent nothing there.
    expect(origin.requests.filter((q) => q.url === '/page' && q.headers['x-forwarded-for'] !== undefined)).toHaveLength(0);
  });

  it('no node serves the site → origin', async () => {
    await db.pool.query('DELETE FROM node_sites');
    await waitFor(() => bal.balancer.runtime.table.indexFor([...bal.balancer.runtime.table.allSites()][0]?.id ?? '').all.length === 0);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.headers['x-verity-node']).toBe('origin');
  });
});
