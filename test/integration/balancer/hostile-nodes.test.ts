import { describe, expect, it } from 'vitest';
import { signAuditPin } from '../../../common/protocol/audit-pin.js';
import { visit, waitFor, type StartBalancerOptions } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene, type SceneSetup } from '../../support/balancer-scene.js';
import { defaultAssets, originSecurityHeaders } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import type { NodeMode } from '../../support/hostile-node.js';

// SECURITY-TESTS.md "Hostile nodes" 10–17 and "http-proxy as shipped": real balancer, real
// origin, nodes as real servers misbehaving on purpose.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const HOST = SCENE_HOST;

async function setup(modes: NodeMode[], opts: StartBalancerOptions = {}): Promise<SceneSetup> {
  const s = await scene.setup(modes, opts);
  await waitFor(() => s.bal.balancer.runtime.policies.get(s.siteId));
  return s;
}

async function strikes(nodeId: string, kind: string): Promise<Array<{ reason: string; evidence_id: string | null; confirmation: string | null }>> {
  const { rows } = await db.pool.query<{ reason: string; evidence_id: string | null; confirmation: string | null }>('SELECT reason, evidence_id, confirmation FROM trust_events WHERE node_id = $1 AND kind = $2', [nodeId, kind]);
  return rows;
}

describe('hostile nodes', () => {
  it('10: Set-Cookie, cross-site redirect, weakened HSTS/CSP, Clear-Site-Data, Alt-Svc, CORS * → stripped, origin headers applied, strike', async () => {
    const { bal, ids } = await setup(['set-cookie']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.headers['x-verity-node']).toBe(ids[0]);
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(r.headers['content-security-policy']).toBe(originSecurityHeaders['content-security-policy']);
    expect((await waitFor(() => strikes(ids[0] ?? '', 'header_strike').then((s) => s.length > 0 && s)))[0]?.reason).toContain('set-cookie');
  });

  it('10: weakened security headers are replaced by the origin’s; the node is struck', async () => {
    const { bal, ids } = await setup(['weak-headers']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.headers['strict-transport-security']).toBe(originSecurityHeaders['strict-transport-security']);
    expect(r.headers['content-security-policy']).toBe(originSecurityHeaders['content-security-policy']);
    for (const h of ['clear-site-data', 'alt-svc', 'access-control-allow-origin', 'link', 'refresh']) expect(r.headers[h]).toBeUndefined();
    const s = await waitFor(() => strikes(ids[0] ?? '', 'header_strike').then((x) => x.length > 0 && x));
    expect(s[0]?.reason).toMatch(/strict-transport-security: max-age=0/);
  });

  it('10: a redirect to another site is dropped and struck', async () => {
    const { bal, ids } = await setup(['redirect']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.headers.location).toBeUndefined();
    const s = await waitFor(() => strikes(ids[0] ?? '', 'header_strike').then((x) => x.length > 0 && x));
    expect(s[0]?.reason).toContain('cross-site https://evil.example/phish');
  });

  it('11: altered static bytes never reach the visitor: origin copy served, strike with evidence', async () => {
    const { bal, ids } = await setup(['tamper']);
    const expected = defaultAssets().get('/app.js')?.body;
    const first = await visit(bal.publicUrl, '/app.js', { host: HOST });
    expect(first.text).toBe(expected);
    expect(first.headers['x-verity-node']).toBe('origin');
    for (let i = 0; i < 3; i++) {
      const r = await visit(bal.publicUrl, '/app.js', { host: HOST });
      expect(r.text).toBe(expected);
      expect(r.headers['x-verity-node']).toBe('origin');
    }
    const s = await waitFor(() => strikes(ids[0] ?? '', 'integrity_mismatch').then((x) => x.length > 0 && x));
    // Bytes that differ from the origin's digest are unambiguous: they count in full.
    expect(s[0]?.confirmation).toBe('unambiguous');
    const { rows } = await db.pool.query<{ node_id: string; audit_id: string | null; meta: { nodeSha256: string; originSha256: string; diff: { actual: string } } }>(
      'SELECT node_id, audit_id, meta FROM evidence WHERE id = $1', [s[0]?.evidence_id]);
    expect(rows[0]?.node_id).toBe(ids[0]);
    expect(rows[0]?.audit_id).toBeNull();
    expect(rows[0]?.meta.nodeSha256).not.toBe(rows[0]?.meta.originSha256);
    expect(rows[0]?.meta.diff.actual).toContain('evil.example');
  });

  it('11: audit pins get the same integrity check: a pinned tamperer’s static bytes are replaced and struck', async () => {
    const { bal, ids } = await setup(['tamper']);
    const expected = defaultAssets().get('/style.css')?.body;
    await visit(bal.publicUrl, '/style.css', { host: HOST });
    const pin = signAuditPin(bal.auditSecret, { nodeId: ids[0] ?? '', host: HOST, path: '/style.css', clientIp: '81.2.69.142' });
    const r = await visit(bal.publicUrl, '/style.css', { host: HOST, headers: { 'x-verity-audit-pin': pin } });
    expect(r.text).toBe(expected);
    await waitFor(() => strikes(ids[0] ?? '', 'integrity_mismatch').then((x) => x.length > 0));
  });

  it('11: an honest node’s static bytes are verified and served by the node', async () => {
    const { bal, ids } = await setup(['honest']);
    await visit(bal.publicUrl, '/big.bin', { host: HOST });
    const r = await visit(bal.publicUrl, '/big.bin', { host: HOST });
    expect(r.headers['x-verity-node']).toBe(ids[0]);
    expect(r.body.equals(defaultAssets().get('/big.bin')?.body as Buffer)).toBe(true);
  });

  it('11: a node that compresses a static file anyway is judged on the decoded bytes: served, no strike', async () => {
    const { bal, ids } = await setup(['gzip']);
    await visit(bal.publicUrl, '/style.css', { host: HOST });
    const r = await visit(bal.publicUrl, '/style.css', { host: HOST });
    expect(r.headers['x-verity-node']).toBe(ids[0]);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.text).toBe(defaultAssets().get('/style.css')?.body);
    await bal.balancer.runtime.strikes.flush();
    expect(await strikes(ids[0] ?? '', 'integrity_mismatch')).toEqual([]);
  });

  it('12: a truncated body is never a silent 200; strike', async () => {
    const { bal, ids } = await setup(['truncate']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(502);
    await waitFor(() => strikes(ids[0] ?? '', 'truncation_strike').then((x) => x.length > 0));
  });

  it.each(['garbage-status', 'bad-header', 'huge-headers', 'refuse'] as NodeMode[])('13: %s → 502, process alive', async (mode) => {
    const { bal, nodes } = await setup([mode]);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(502);
    expect(r.headers['x-verity-node']).toBe('origin');
    nodes[0]?.setMode('honest');
    expect((await visit(bal.publicUrl, '/page', { host: HOST })).status).toBe(200);
  });

  it('14: a node that never answers → 504; with another node the GET is retried there', async () => {
    const alone = await setup(['hang']);
    const t0 = Date.now();
    const r = await visit(alone.bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(4_500);
    await alone.bal.close();
    await db.pool.query('DELETE FROM nodes');
    await db.pool.query('DELETE FROM sites');
    const pair = await setup(['hang', 'honest'], { deps: { random: () => 0 } });
    for (let i = 0; i < 3; i++) {
      const ok = await visit(pair.bal.publicUrl, '/page', { host: HOST });
      expect(ok.status).toBe(200);
      expect(ok.headers['x-verity-node']).toBe(pair.ids[1]);
    }
  });

  it('15: a dripping node is cut at the overall deadline', async () => {
    const { bal } = await setup(['drip'], { config: { deadline: 2_000 } });
    const t0 = Date.now();
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(3_500);
  });

  it('17: an endless body hits the size cap: 502, memory bounded', async () => {
    const { bal } = await setup(['endless']);
    const before = process.memoryUsage().rss;
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(502);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('keep-alive toward nodes: many requests, one connection', async () => {
    const { bal, nodes } = await setup(['honest']);
    for (let i = 0; i < 10; i++) await visit(bal.publicUrl, '/page', { host: HOST });
    expect(nodes[0]?.requests.every((q) => q.headers.connection !== 'close')).toBe(true);
    expect(nodes[0]?.openSockets()).toBe(1);
  });
});
