import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { consumeJoinToken } from '../../../common/db/queries/tokens.js';
import { createSession } from '../../../common/db/queries/sessions.js';
import { startControlPlane, type ControlPlane } from '../../support/control-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { seedAudit, seedNode, seedSite, seedTrustEvents, tamperedAuditParts } from '../../support/seed.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const db = useTestDatabase();
let cp: ControlPlane;

beforeAll(async () => {
  cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin], adminToken: ADMIN_TOKEN });
});
afterAll(async () => {
  await cp.close();
});

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${cp.url}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string> | undefined) } });
}
function post(path: string, body: unknown, headers: Record<string, string> = auth): Promise<Response> {
  return fetch(`${cp.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

describe('admin API authentication', () => {
  it.each(['/api/v1/sites', '/api/v1/nodes', '/api/v1/audits', '/api/v1/nodes/x/trust-events', '/api/v1/audits/x', '/api/v1/evidence/x'])('%s → 401 JSON without the token', async (path) => {
    const variants: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${ADMIN_TOKEN}` }, { cookie: 'verity_session=forgedforgedforgedforged' }];
    for (const headers of variants) {
      const res = await fetch(`${cp.url}${path}`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await res.json()).toMatchObject({ error: 'unauthorized' });
    }
  });

  it('POST actions without the token changes nothing', async () => {
    const node = await seedNode(db.pool, { status: 'active' });
    const res = await post(`/api/v1/nodes/${node}/actions`, { action: 'ban', reason: 'x' }, {});
    expect(res.status).toBe(401);
    const { rows } = await db.pool.query('SELECT status FROM nodes WHERE id = $1', [node]);
    expect(rows[0].status).toBe('active');
  });

  it('accepts a dashboard session; its writes need the CSRF token and our origin', async () => {
    const node = await seedNode(db.pool, { status: 'active' });
    const { cookieValue, session } = await createSession(db.pool, { actor: 'dashboard', ttlMs: 60_000, now: new Date() });
    const cookie = { cookie: `verity_session=${cookieValue}` };
    expect((await fetch(`${cp.url}/api/v1/nodes`, { headers: cookie })).status).toBe(200);
    expect((await post(`/api/v1/nodes/${node}/actions`, { action: 'quarantine', reason: 'r' }, cookie)).status).toBe(403);
    expect((await post(`/api/v1/nodes/${node}/actions`, { action: 'quarantine', reason: 'r' }, { ...cookie, 'x-csrf-token': 'nope' })).status).toBe(403);
    const crossSite = await post(`/api/v1/nodes/${node}/actions`, { action: 'quarantine', reason: 'r' }, { ...cookie, 'x-csrf-token': session.csrfToken, origin: 'http://evil.example' });
    expect(crossSite.status).toBe(403);
    const ok = await post(`/api/v1/nodes/${node}/actions`, { action: 'quarantine', reason: 'r' }, { ...cookie, 'x-csrf-token': session.csrfToken });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'quarantined' });
  });

  it('refuses an expired session', async () => {
    const { cookieValue } = await createSession(db.pool, { actor: 'dashboard', ttlMs: 1000, now: new Date(Date.now() - 10_000) });
    expect((await fetch(`${cp.url}/api/v1/nodes`, { headers: { cookie: `verity_session=${cookieValue}` } })).status).toBe(401);
  });
});

describe('admin API reads', () => {
  it('lists sites and nodes in the contract shape', async () => {
    const site = await seedSite(db.pool, { host: 'shop.example', origin: 'http://127.0.0.1:9000/', privateRoutes: ['/account/**'] });
    const seen = new Date('2026-01-02T03:04:05.000Z');
    const id = await seedNode(db.pool, { name: 'paris-1', status: 'probation', integrity: 0.62, availability: 0.9, lat: 48.85, lon: 2.35, country: 'FR', siteIds: [site.id], lastSeenAt: seen });
    expect(await (await api('/api/v1/sites')).json()).toEqual([{ id: site.id, host: 'shop.example', origin: 'http://127.0.0.1:9000/', privateRoutes: ['/account/**'], publicRoutes: [], dynamicPolicy: 'origin' }]);
    expect(await (await api('/api/v1/nodes')).json()).toEqual([{
      id, name: 'paris-1', status: 'probation', integrity: 0.62, availability: 0.9, location: { lat: 48.85, lon: 2.35, country: 'FR' }, sites: ['shop.example'], lastSeenAt: seen.toISOString(),
      // Added with the location checks (docs/trust.md): a node written without registering is not checked yet.
      declaredLocation: { lat: 48.85, lon: 2.35 },
      locationCheck: { status: 'unchecked', source: 'declared', reason: 'not checked yet: the next registration checks it', checkedAt: null },
    }]);
  });

  it('gives trust events oldest first and 404 for an unknown node', async () => {
    const id = await seedNode(db.pool);
    await seedTrustEvents(db.pool, id, [
      { at: new Date('2026-01-02T00:00:00Z'), kind: 'audit_tampered', integrityAfter: 0.3, availabilityAfter: 0.9, reason: 'script injected' },
      { at: new Date('2026-01-01T00:00:00Z'), kind: 'registered', integrityAfter: 0.5, availabilityAfter: 0.5, reason: 'joined' },
    ]);
    const events = await (await api(`/api/v1/nodes/${id}/trust-events`)).json();
    expect(events).toEqual([
      { at: '2026-01-01T00:00:00.000Z', kind: 'registered', integrityAfter: 0.5, availabilityAfter: 0.5, reason: 'joined', auditId: null },
      { at: '2026-01-02T00:00:00.000Z', kind: 'audit_tampered', integrityAfter: 0.3, availabilityAfter: 0.9, reason: 'script injected', auditId: null },
    ]);
    expect((await api('/api/v1/nodes/0123456789abcdef0123456789abcdef/trust-events')).status).toBe(404);
  });

  it('filters audits by node and verdict, newest first, with a limit', async () => {
    const site = await seedSite(db.pool, { host: 'shop.example' });
    const a = await seedNode(db.pool, { siteIds: [site.id] });
    const b = await seedNode(db.pool, { siteIds: [site.id] });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const pass1 = await seedAudit(db.pool, { nodeId: a, siteId: site.id, verdict: 'pass', startedAt: new Date(t0) });
    const tampered = await seedAudit(db.pool, { nodeId: a, siteId: site.id, verdict: 'tampered', startedAt: new Date(t0 + 60_000), url: 'http://shop.example/cart', ...tamperedAuditParts() });
    await seedAudit(db.pool, { nodeId: b, siteId: site.id, verdict: 'pass', startedAt: new Date(t0 + 120_000) });
    await seedAudit(db.pool, { nodeId: a, siteId: site.id, verdict: null, startedAt: new Date(t0 + 180_000) });
    const all = await (await api('/api/v1/audits')).json();
    expect(all).toHaveLength(3);
    const forA = await (await api(`/api/v1/audits?node=${a}`)).json();
    expect(forA.map((x: { id: string }) => x.id)).toEqual([tampered, pass1]);
    const onlyTampered = await (await api('/api/v1/audits?verdict=tampered')).json();
    expect(onlyTampered).toHaveLength(1);
    expect(onlyTampered[0]).toMatchObject({ id: tampered, nodeId: a, siteHost: 'shop.example', url: 'http://shop.example/cart', verdict: 'tampered', startedAt: new Date(t0 + 60_000).toISOString() });
    expect(onlyTampered[0].findings[0]).toEqual({ kind: 'new_third_party_script', severity: 'critical', summary: 'node added a script from cdn.evil-ads.example' });
    expect(await (await api('/api/v1/audits?limit=1')).json()).toHaveLength(1);
    expect((await api('/api/v1/audits?verdict=evil')).status).toBe(400);
    expect((await api('/api/v1/audits?limit=0')).status).toBe(400);
  });

  it('gives one audit with evidence links served safely', async () => {
    const site = await seedSite(db.pool);
    const node = await seedNode(db.pool, { siteIds: [site.id] });
    const id = await seedAudit(db.pool, { nodeId: node, siteId: site.id, verdict: 'tampered', ...tamperedAuditParts() });
    await db.pool.query("INSERT INTO evidence (audit_id, kind, content_type, body) VALUES ($1, 'raw', 'text/html', $2)", [id, Buffer.from('<script>alert(1)</script>')]);
    const audit = await (await api(`/api/v1/audits/${id}`)).json();
    expect(audit).toMatchObject({ id, nodeId: node, verdict: 'tampered', status: 'done' });
    const kinds = audit.evidence.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['origin_screenshot', 'node_screenshot', 'diff_image', 'fragments', 'headers_diff', 'blocked_requests']));
    const shot = audit.evidence.find((e: { kind: string }) => e.kind === 'diff_image');
    expect(shot.url).toBe(`/api/v1/evidence/${shot.id}`);
    const img = await api(shot.url);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(img.headers.get('x-content-type-options')).toBe('nosniff');
    expect(img.headers.get('content-security-policy')).toContain('sandbox');
    expect(img.headers.get('content-disposition')).toMatch(/^inline; filename="diff_image-/);
    expect(Buffer.from(await img.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    const raw = audit.evidence.find((e: { kind: string }) => e.kind === 'raw');
    const html = await api(raw.url);
    expect(html.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(html.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect((await api('/api/v1/audits/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await api('/api/v1/audits/not-a-uuid')).status).toBe(404);
    expect((await api('/api/v1/evidence/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });
});

describe('admin API actions', () => {
  it('quarantines, reinstates and bans with a reason, as trust events and admin log rows', async () => {
    const node = await seedNode(db.pool, { status: 'active' });
    const q = await post(`/api/v1/nodes/${node}/actions`, { action: 'quarantine', reason: 'injected ads' });
    expect(q.status).toBe(200);
    expect(await q.json()).toMatchObject({ id: node, status: 'quarantined' });
    expect(await (await post(`/api/v1/nodes/${node}/actions`, { action: 'reinstate', reason: 'owner fixed it' })).json()).toMatchObject({ status: 'active' });
    expect(await (await post(`/api/v1/nodes/${node}/actions`, { action: 'ban', reason: 'again' })).json()).toMatchObject({ status: 'banned' });
    const events = await (await api(`/api/v1/nodes/${node}/trust-events`)).json();
    expect(events.map((e: { kind: string; reason: string }) => [e.kind, e.reason])).toEqual([
      ['admin_quarantine', 'injected ads'], ['admin_reinstate', 'owner fixed it'], ['admin_ban', 'again'],
    ]);
    const log = await (await api('/api/v1/admin-log')).json();
    expect(log.map((l: { action: string }) => l.action)).toEqual(['node.ban', 'node.reinstate', 'node.quarantine']);
    expect(log[0]).toMatchObject({ actor: 'admin-api', targetId: node, reason: 'again' });
  });

  it('refuses bad actions and unknown nodes', async () => {
    const node = await seedNode(db.pool);
    expect((await post(`/api/v1/nodes/${node}/actions`, { action: 'delete', reason: '' })).status).toBe(400);
    expect((await post(`/api/v1/nodes/${node}/actions`, { reason: '' })).status).toBe(400);
    const unknown = await post('/api/v1/nodes/0123456789abcdef0123456789abcdef/actions', { action: 'ban', reason: 'x' });
    expect(unknown.status).toBe(404);
  });

  it('requires a reason for every node action, and changes nothing without one', async () => {
    const node = await seedNode(db.pool);
    for (const body of [{ action: 'ban' }, { action: 'quarantine', reason: '' }, { action: 'reinstate', reason: '   ' }]) {
      const res = await post(`/api/v1/nodes/${node}/actions`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).message).toMatch(/^reason: required: say why/);
    }
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM trust_events WHERE node_id = $1 AND kind LIKE 'admin_%'", [node]);
    expect(rows[0].n).toBe(0);
  });

  it('takes a site manifest (PUT), refuses a malformed one, and lists the site\'s warnings', async () => {
    const site = await seedSite(db.pool, { host: 'shop.example' });
    const sha = 'ab'.repeat(32);
    const put = (body: unknown) => fetch(`${cp.url}/api/v1/sites/shop.example/manifest`, { method: 'PUT', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
    const ok = await put({ files: { '/app.js': { sha256: sha, size: 12 }, '/big.bin': { sha256: sha, size: 2 * 1024 * 1024, pieces: Buffer.alloc(64).toString('base64') } } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ site: 'shop.example', paths: 2 });
    const { rows } = await db.pool.query('SELECT path FROM site_manifests WHERE site_id = $1 ORDER BY path', [site.id]);
    expect(rows.map((r) => r.path)).toEqual(['/app.js', '/big.bin']);
    expect((await put({ files: { 'no-slash': { sha256: sha, size: 1 } } })).status).toBe(400);
    expect((await put({ files: { '/x': { sha256: 'short', size: 1 } } })).status).toBe(400);
    expect((await fetch(`${cp.url}/api/v1/sites/nope.example/manifest`, { method: 'PUT', headers: { 'content-type': 'application/json', ...auth }, body: '{"files":{}}' })).status).toBe(404);
    expect((await fetch(`${cp.url}/api/v1/sites/shop.example/manifest`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"files":{}}' })).status).toBe(401);
    await db.pool.query("INSERT INTO site_warnings (site_id, kind, message) VALUES ($1, 'manifest_mismatch', 'the origin disagrees')", [site.id]);
    expect(await (await api('/api/v1/sites/shop.example/warnings')).json()).toMatchObject([{ kind: 'manifest_mismatch', message: 'the origin disagrees' }]);
    const log = await (await api('/api/v1/admin-log')).json();
    expect(log[0]).toMatchObject({ action: 'manifest', targetId: 'shop.example' });
  });

  it('creates and revokes join tokens', async () => {
    await seedSite(db.pool, { host: 'shop.example' });
    const res = await post('/api/v1/tokens', { site: 'shop.example', uses: 2, ttlSeconds: 3600 });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created.token).toMatch(/^vjt_/);
    const listed = await (await api('/api/v1/tokens')).json();
    expect(listed[0]).toMatchObject({ id: created.id, site: 'shop.example', usesAllowed: 2, usesCount: 0, revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect((await post(`/api/v1/tokens/${created.id}/revoke`, {})).status).toBe(200);
    expect(await consumeJoinToken(db.pool, created.token)).toBeNull();
    expect((await post(`/api/v1/tokens/${created.id}/revoke`, {})).status).toBe(404);
    expect((await post('/api/v1/tokens', { site: 'nope.example' })).status).toBe(404);
  });

  it('takes token lifetimes with units, refuses bare numbers, and defaults like the CLI (24 h)', async () => {
    await seedSite(db.pool, { host: 'ttl.example' });
    const lifetime = async (body: Record<string, unknown>): Promise<number> => {
      const res = await post('/api/v1/tokens', { site: 'ttl.example', ...body });
      expect(res.status, JSON.stringify(body)).toBe(201);
      const { rows } = await db.pool.query('SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM join_tokens WHERE id = $1', [(await res.json()).id]);
      return rows[0].s;
    };
    expect(await lifetime({})).toBe(24 * 3600);
    expect(await lifetime({ ttl: '7d' })).toBe(7 * 24 * 3600);
    expect(await lifetime({ ttlSeconds: 3600 })).toBe(3600);
    const bare = await post('/api/v1/tokens', { site: 'ttl.example', ttl: '7' });
    expect(bare.status).toBe(400);
    expect((await bare.json()).message).toBe('ttl: "7" has no unit: write 7s, 7m, 7h or 7d');
    expect((await post('/api/v1/tokens', { site: 'ttl.example', ttl: '5s' })).status).toBe(400);
  });

  it('queues a rescan as a new audit with reason rescan', async () => {
    const site = await seedSite(db.pool);
    const node = await seedNode(db.pool, { siteIds: [site.id] });
    const id = await seedAudit(db.pool, { nodeId: node, siteId: site.id, verdict: 'tampered', url: 'http://shop.example/p/1' });
    const res = await post(`/api/v1/audits/${id}/rescan`, {});
    expect(res.status).toBe(201);
    const { id: newId } = await res.json();
    const { rows } = await db.pool.query('SELECT node_id, url, reason, status FROM audits WHERE id = $1', [newId]);
    expect(rows[0]).toEqual({ node_id: node, url: 'http://shop.example/p/1', reason: 'rescan', status: 'queued' });
  });
});
