import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { hashPassword } from '../../../common/auth/password.js';
import { deleteDrainedSites } from '../../../common/db/queries/site-owners.js';
import { createApiToken, createUser } from '../../../common/db/queries/users.js';
import { insertTestNode, insertTestSite, startBalancer, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { runCli } from '../../support/cli.js';
import { useTestDatabase } from '../../support/db.js';
import { fixed, startOriginServer, type TestOrigin } from '../../support/origin-server.js';

// Site owners through the admin API with their own API tokens, against a real balancer: they see
// and act on their own sites only, add a site by proving they run its origin (an HTTP file on a
// loopback origin), and a quarantine for their site, a pause and a deletion reach the routing table.

const db = useTestDatabase({ truncate: false });
let bal: StartedBalancer;
let origin: TestOrigin;
let alice: string;
let bob: string;
let shop: string;
let blog: string;
let node: string;

async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> & { length?: number } }> {
  const res = await fetch(`${bal.controlUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  origin = await startOriginServer();
  shop = await insertTestSite(db.pool, { host: 'shop.alice.test', origin: origin.url });
  blog = await insertTestSite(db.pool, { host: 'blog.bob.test', origin: origin.url });
  node = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [shop, blog], name: 'shared-node' });
  const a = await createUser(db.pool, { email: 'alice@example.org', role: 'owner', siteIds: [shop], createdBy: 'test', passwordHash: await hashPassword('alice-password-123') });
  const b = await createUser(db.pool, { email: 'bob@example.org', role: 'owner', siteIds: [blog], createdBy: 'test' });
  alice = (await createApiToken(db.pool, { userId: a.id, name: 'ci', siteIds: null })).token;
  bob = (await createApiToken(db.pool, { userId: b.id, name: 'ci', siteIds: null })).token;
  bal = await startBalancer({ pool: db.pool, plugins: [adminApiPlugin], config: { allowPrivateOwnerUrls: true } });
});
afterAll(async () => {
  await bal?.close();
  await origin?.close();
});

describe('site owners', () => {
  it('see their own sites, nodes and tokens only, and are refused the rest', async () => {
    const sites = (await call(alice, 'GET', '/api/v1/sites')).json as unknown as { host: string }[];
    expect(sites.map((s) => s.host)).toEqual(['shop.alice.test']);
    const nodes = (await call(alice, 'GET', '/api/v1/nodes')).json as unknown as { id: string; sites: string[] }[];
    expect(nodes).toEqual([expect.objectContaining({ id: node, sites: ['shop.alice.test'] })]);
    expect((await call(alice, 'GET', '/api/v1/sites/blog.bob.test')).status).toBe(403);
    expect((await call(alice, 'POST', '/api/v1/tokens', { site: 'blog.bob.test' })).status).toBe(403);
    expect((await call(alice, 'PATCH', '/api/v1/sites/blog.bob.test', { paused: true })).status).toBe(403);
    expect((await call(alice, 'POST', `/api/v1/sites/blog.bob.test/nodes/${node}/quarantine`, { reason: 'x' })).status).toBe(403);
    // Fleet-wide actions are admins': an owner quarantines for their own site only.
    expect((await call(alice, 'POST', `/api/v1/nodes/${node}/actions`, { action: 'ban', reason: 'x' })).status).toBe(403);
    expect((await call(alice, 'GET', '/api/v1/users')).status).toBe(403);
    expect((await call(alice, 'POST', '/api/v1/tokens', { site: 'shop.alice.test' })).status).toBe(201);
    expect(((await call(bob, 'GET', '/api/v1/tokens')).json as unknown as unknown[]).length).toBe(0);
    expect((await call('vat_not-a-real-token-0123456789', 'GET', '/api/v1/sites')).status).toBe(401);
  });

  it('add a site once its origin serves the challenge, and not before', async () => {
    const claim = await call(alice, 'POST', '/api/v1/sites', { host: 'new.alice.test', origin: origin.url, private: ['/account/**'] });
    expect(claim.status).toBe(202);
    const { url, body } = claim.json.challenge as { url: string; body: string };
    expect(url.startsWith(`${origin.url}/.well-known/verity-challenge/`)).toBe(true);
    const verify = `/api/v1/site-claims/${String(claim.json.claim)}/verify`;
    // Not served yet; then served wrong (an origin that echoes the path proves nothing).
    expect((await call(alice, 'POST', verify)).status).toBe(400);
    origin.route(new URL(url).pathname, fixed(new URL(url).pathname));
    const wrong = await call(alice, 'POST', verify);
    expect(wrong.status).toBe(400);
    expect(String(wrong.json.message)).toContain('not with the proof');
    expect((await call(bob, 'POST', verify)).status).toBe(404);
    origin.route(new URL(url).pathname, fixed(`${body}\n`));
    const added = await call(alice, 'POST', verify);
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ host: 'new.alice.test', privateRoutes: ['/account/**'], paused: false });
    expect(((await call(alice, 'GET', '/api/v1/sites')).json as unknown as { host: string }[]).map((s) => s.host)).toEqual(['new.alice.test', 'shop.alice.test']);
    await waitFor(() => bal.balancer.runtime.table.siteByHost('new.alice.test'));
    // Someone else's host cannot be claimed twice, and bad input is one clear error.
    expect((await call(bob, 'POST', '/api/v1/sites', { host: 'new.alice.test', origin: origin.url })).status).toBe(409);
    expect((await call(bob, 'POST', '/api/v1/sites', { host: 'x y', origin: 'ftp://x' })).status).toBe(400);
  });

  it('quarantine a node for their site: the routing table leaves it out of that site only', async () => {
    const table = bal.balancer.runtime.table;
    const ids = (siteId: string) => table.indexFor(siteId).all.map((n) => n.id);
    await waitFor(() => ids(shop).includes(node) && ids(blog).includes(node));
    expect((await call(alice, 'POST', `/api/v1/sites/shop.alice.test/nodes/${node}/quarantine`, { reason: 'wrong prices on /cart' })).status).toBe(200);
    await waitFor(() => !ids(shop).includes(node));
    expect(ids(blog)).toContain(node);
    expect((await db.pool.query<{ status: string }>('SELECT status FROM nodes WHERE id = $1', [node])).rows[0]?.status).toBe('active');
    expect((await call(alice, 'POST', `/api/v1/sites/shop.alice.test/nodes/${node}/quarantine`, { reason: '' })).status).toBe(400);
    expect((await call(alice, 'POST', `/api/v1/sites/shop.alice.test/nodes/${node}/reinstate`)).status).toBe(200);
    await waitFor(() => ids(shop).includes(node));
    const log = (await call(bal.adminToken, 'GET', '/api/v1/admin-log')).json as unknown as { actor: string; action: string; reason: string }[];
    expect(log).toContainEqual(expect.objectContaining({ actor: 'alice@example.org (token ci)', action: 'site.node.quarantine', reason: 'wrong prices on /cart' }));
    // Bob's view of the log has none of Alice's entries.
    expect(((await call(bob, 'GET', '/api/v1/admin-log')).json as unknown as { actor: string }[]).some((e) => e.actor.startsWith('alice'))).toBe(false);
  });

  it('edit, pause and delete (after a drain) their site', async () => {
    const table = bal.balancer.runtime.table;
    expect((await call(alice, 'PATCH', '/api/v1/sites/shop.alice.test', { private: ['/login'], dynamic: 'sampled' })).json).toMatchObject({ privateRoutes: ['/login'], dynamicPolicy: 'sampled' });
    await waitFor(() => table.siteByHost('shop.alice.test')?.dynamicPolicy === 'sampled');
    // A new origin must serve the site's challenge first (it does not).
    const moved = await call(alice, 'PATCH', '/api/v1/sites/shop.alice.test', { origin: 'http://127.0.0.1:9' });
    expect(moved.status).toBe(400);
    expect(String(moved.json.message)).toContain('ownership check');
    expect((await call(alice, 'PATCH', '/api/v1/sites/shop.alice.test', { paused: true })).json).toMatchObject({ paused: true });
    await waitFor(() => table.indexFor(shop).all.length === 0);
    const deleted = await call(alice, 'DELETE', '/api/v1/sites/new.alice.test');
    expect(deleted.status).toBe(202);
    const at = Date.parse(String(deleted.json.deleteAfter));
    expect(await deleteDrainedSites(db.pool, new Date(at - 1000))).toEqual([]);
    expect(await deleteDrainedSites(db.pool, new Date(at + 1000))).toEqual(['new.alice.test']);
    await waitFor(() => table.siteByHost('new.alice.test') === undefined);
  });

  it('are made from the CLI, which prints a password or a one-time login link once', async () => {
    const pw = await runCli(['user', 'add', '--email', 'carol@example.org', '--role', 'owner', '--site', 'blog.bob.test'], { DATABASE_URL: db.url });
    expect(pw.code, pw.stderr).toBe(0);
    expect(pw.stdout).toMatch(/^password: \S{20}$/m);
    const link = await runCli(['user', 'add', '--email', 'dave@example.org', '--role', 'admin', '--dashboard-url', 'https://verity.example.org/'], { DATABASE_URL: db.url });
    expect(link.stdout).toMatch(/^login link: https:\/\/verity\.example\.org\/login\/link\/vll_\S+$/m);
    // The admin log names who ran them: the operating-system user on the database host.
    const log = (await call(bal.adminToken, 'GET', '/api/v1/admin-log')).json as unknown as { actor: string; action: string; targetId: string }[];
    expect(log).toContainEqual(expect.objectContaining({ actor: `cli:${userInfo().username}`, action: 'user.add', targetId: 'carol@example.org' }));
    expect((await runCli(['user', 'add', '--email', 'carol@example.org', '--role', 'owner'], { DATABASE_URL: db.url })).code).toBe(1);
    const bad = await runCli(['user', 'add', '--email', 'not-an-email', '--role', 'owner'], { DATABASE_URL: db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
