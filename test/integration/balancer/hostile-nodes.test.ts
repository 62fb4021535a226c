import { describe, expect, it } from 'vitest';
import { signAuditPin } from '../../../common/protocol/audit-pin.js';
import { visit, waitFor, waitPublished, type StartBalancerOptions } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene, type SceneSetup } from '../../support/balancer-scene.js';
import { defaultAssets, originSecurityHeaders } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import type { NodeMode } from '../../support/hostile-node.js';

// Hostile nodes against a real balancer and a real origin, nodes as real servers misbehaving on
// purpose. Whatever a node does, a visitor gets the origin's answer (from the node when its
// bytes match, else from the origin); the node pays in trust or availability.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const HOST = SCENE_HOST;

/** The scene, with `paths` already published by the origin (nodes had no say in that). */
async function setup(modes: NodeMode[], paths: string[], opts: StartBalancerOptions = {}): Promise<SceneSetup> {
  const s = await scene.setup(modes, opts);
  for (const p of paths) await waitPublished(s.bal, s.siteId, p, HOST);
  return s;
}

async function strikes(nodeId: string, kind: string): Promise<Array<{ reason: string; evidence_id: string | null; confirmation: string | null }>> {
  const { rows } = await db.pool.query<{ reason: string; evidence_id: string | null; confirmation: string | null }>('SELECT reason, evidence_id, confirmation FROM trust_events WHERE node_id = $1 AND kind = $2', [nodeId, kind]);
  return rows;
}

const asset = (path: string): string | Buffer => {
  const body = defaultAssets().get(path)?.body;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) throw new Error(`no fixed asset ${path}`);
  return body;
};

describe('hostile nodes', () => {
  it('Set-Cookie from a node never reaches the visitor; the origin\'s headers do; the node is struck', async () => {
    const { bal, ids } = await setup(['set-cookie'], ['/page']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.headers['x-verity-node']).toBe(ids[0]);
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(r.headers['content-security-policy']).toBe(originSecurityHeaders['content-security-policy']);
    expect((await waitFor(() => strikes(ids[0] ?? '', 'header_strike').then((s) => s.length > 0 && s)))[0]?.reason).toContain('set-cookie');
  });

  it('weakened security headers are replaced by the origin\'s; the node is struck', async () => {
    const { bal, ids } = await setup(['weak-headers'], ['/page']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.headers['strict-transport-security']).toBe(originSecurityHeaders['strict-transport-security']);
    expect(r.headers['content-security-policy']).toBe(originSecurityHeaders['content-security-policy']);
    for (const h of ['clear-site-data', 'alt-svc', 'access-control-allow-origin', 'link', 'refresh']) expect(r.headers[h]).toBeUndefined();
    const s = await waitFor(() => strikes(ids[0] ?? '', 'header_strike').then((x) => x.length > 0 && x));
    expect(s[0]?.reason).toMatch(/strict-transport-security: max-age=0/);
  });

  it('a redirect to another site never reaches the visitor: the origin\'s page does', async () => {
    const { bal, ids } = await setup(['redirect'], ['/page']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.headers.location).toBeUndefined();
    expect(r.headers['x-verity-node']).not.toBe(ids[0]);
  });

  it('altered bytes never reach the visitor: origin copy served, strike with evidence', async () => {
    const { bal, ids } = await setup(['tamper'], ['/app.js']);
    for (let i = 0; i < 3; i++) {
      const r = await visit(bal.publicUrl, '/app.js', { host: HOST });
      expect(r.text).toBe(asset('/app.js'));
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

  it('audit pins get the same integrity check: a pinned tamperer\'s bytes are replaced and struck', async () => {
    const { bal, ids } = await setup(['tamper'], ['/style.css']);
    const pin = signAuditPin(bal.auditSecret, { nodeId: ids[0] ?? '', host: HOST, path: '/style.css', clientIp: '81.2.69.142' });
    const r = await visit(bal.publicUrl, '/style.css', { host: HOST, headers: { 'x-verity-audit-pin': pin } });
    expect(r.text).toBe(asset('/style.css'));
    await waitFor(() => strikes(ids[0] ?? '', 'integrity_mismatch').then((x) => x.length > 0));
  });

  it('an honest node\'s bytes are verified and served by the node, whatever the URL looks like', async () => {
    const { bal, ids } = await setup(['honest'], ['/big.bin']);
    const r = await visit(bal.publicUrl, '/big.bin', { host: HOST });
    expect(r.headers['x-verity-node']).toBe(ids[0]);
    expect(r.body.equals(asset('/big.bin') as Buffer)).toBe(true);
    expect(bal.balancer.runtime.metrics.registry.getSingleMetric('verity_balancer_requests_total')).toBeDefined();
  });

  it('a node that compresses bytes the origin sent plain: the origin serves, no strike', async () => {
    const { bal, ids } = await setup(['gzip'], ['/style.css']);
    const r = await visit(bal.publicUrl, '/style.css', { host: HOST });
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.text).toBe(asset('/style.css'));
    await bal.balancer.runtime.strikes.flush();
    expect(await strikes(ids[0] ?? '', 'integrity_mismatch')).toEqual([]);
  });

  it('a truncated body is never a silent 200: the visitor gets the origin\'s whole page; availability strike', async () => {
    const { bal, ids } = await setup(['truncate'], ['/page']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.body.equals(Buffer.from(asset('/page')))).toBe(true);
    await waitFor(() => strikes(ids[0] ?? '', 'truncation_strike').then((x) => x.length > 0));
  });

  it.each(['garbage-status', 'bad-header', 'huge-headers', 'refuse', 'error500'] as NodeMode[])('%s: the origin answers instead, the process lives', async (mode) => {
    const { bal, nodes, ids } = await setup([mode], ['/page']);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.headers['x-verity-node']).toBe('origin');
    nodes[0]?.setMode('honest');
    await waitFor(async () => (await visit(bal.publicUrl, '/page', { host: HOST })).headers['x-verity-node'] === ids[0], 15_000, 200);
  });

  it('a node that never answers: the GET goes to another node, or the origin after the attempt timeout', async () => {
    const alone = await setup(['hang'], ['/page'], { config: { attemptTimeout: 1_000 } });
    const t0 = Date.now();
    const r = await visit(alone.bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.headers['x-verity-node']).toBe('origin');
    expect(Date.now() - t0).toBeLessThan(3_000);
    await alone.bal.close();
    await db.pool.query('DELETE FROM nodes');
    await db.pool.query('DELETE FROM sites');
    const pair = await setup(['hang', 'honest'], ['/page'], { deps: { random: () => 0 } });
    for (let i = 0; i < 3; i++) {
      const ok = await visit(pair.bal.publicUrl, '/page', { host: HOST });
      expect(ok.status).toBe(200);
      expect(ok.headers['x-verity-node']).toBe(pair.ids[1]);
    }
  });

  it('a dripping node is cut at the overall deadline and the origin answers', async () => {
    const { bal } = await setup(['drip'], ['/page'], { config: { deadline: 2_000, attemptTimeout: 1_000 } });
    const t0 = Date.now();
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect(r.headers['x-verity-node']).toBe('origin');
  });

  it('an endless body hits the size cap: memory bounded, the origin answers', async () => {
    const { bal } = await setup(['endless'], ['/page']);
    const before = process.memoryUsage().rss;
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.body.equals(Buffer.from(asset('/page')))).toBe(true);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('keep-alive toward nodes: many requests, one connection', async () => {
    const { bal, nodes } = await setup(['honest'], ['/page']);
    for (let i = 0; i < 10; i++) await visit(bal.publicUrl, '/page', { host: HOST });
    expect(nodes[0]?.requests.every((q) => q.headers.connection !== 'close')).toBe(true);
    expect(nodes[0]?.openSockets()).toBe(1);
  });
});
