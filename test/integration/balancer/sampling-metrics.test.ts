import { describe, expect, it } from 'vitest';
import { visit, visitPublished, waitFor, waitPublished, type StartedBalancer } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import type { NodeMode } from '../../support/hostile-node.js';

// Shadow sampling of dynamic pages a site lets nodes serve, URL samples for the auditor, and the
// control plane's /metrics and /healthz.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const HOST = SCENE_HOST;

async function withNode(mode: NodeMode, shadowShare: number): Promise<{ bal: StartedBalancer; nodeId: string; siteId: string; results: Array<{ mismatched: string[] }> }> {
  const results: Array<{ mismatched: string[] }> = [];
  let n = 0;
  // A page whose text changes on every request: dynamic.
  scene.origin.set('/news', { body: () => `<!doctype html><html><head><script src="/app.js"></script></head><body><p>edition ${++n}</p></body></html>`, type: 'Text/HTML; charset=utf-8' });
  const { bal, ids, siteId } = await scene.setup([mode], { config: { shadowShare }, deps: { onShadowResult: (r) => results.push(r) } });
  await db.pool.query("UPDATE sites SET dynamic_policy = 'sampled' WHERE id = $1", [siteId]);
  await waitFor(() => bal.balancer.runtime.table.siteById(siteId)?.dynamicPolicy === 'sampled');
  return { bal, nodeId: ids[0] ?? '', siteId, results };
}

describe('shadow sampling (--dynamic sampled)', () => {
  it('a doctored dynamic page queues a deep audit (reason shadow) and a light strike', async () => {
    const { bal, nodeId, siteId } = await withNode('tamper', 1);
    const r = await visitPublished(bal, '/news', { host: HOST });
    expect(r.headers['x-verity-node']).toBe(nodeId);
    const audit = await waitFor(async () => (await db.pool.query<{ node_id: string; site_id: string; url: string }>("SELECT node_id, site_id::text, url FROM audits WHERE reason = 'shadow'")).rows[0]);
    expect(audit).toEqual({ node_id: nodeId, site_id: siteId, url: '/news' });
    await waitFor(async () => (await db.pool.query("SELECT 1 FROM trust_events WHERE node_id = $1 AND kind = 'shadow_mismatch'", [nodeId])).rowCount);
  });

  it('an honest dynamic page compares equal: no audit, no strike', async () => {
    const { bal, results } = await withNode('honest', 1);
    await visitPublished(bal, '/news', { host: HOST });
    await waitFor(() => results.length > 0);
    expect(results[0]?.mismatched).toEqual([]);
    expect((await db.pool.query('SELECT 1 FROM audits')).rowCount).toBe(0);
  });
});

describe('url samples and metrics', () => {
  it('records what nodes served visitors (public requests only), and who they looked like, in batches', async () => {
    const { bal, siteId, nodeId } = await withNode('honest', 0);
    await waitPublished(bal, siteId, '/page', HOST);
    const looks = { 'accept-language': 'pt-BR,pt;q=0.9', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36', 'sec-fetch-site': 'same-origin' };
    for (let i = 0; i < 3; i++) await visit(bal.publicUrl, '/page', { host: HOST, headers: looks });
    await visit(bal.publicUrl, '/mine', { host: HOST, headers: { cookie: 'session=1' } });
    await bal.balancer.runtime.samples.flush();
    const { rows } = await db.pool.query<{ path: string; hits: number }>('SELECT path, hits FROM url_samples WHERE site_id = $1', [siteId]);
    expect(rows).toEqual([{ path: '/page', hits: 3 }]);
    const mix = await db.pool.query('SELECT node_id, path, accept_language, sec_fetch_site, conditional, secure FROM visitor_samples WHERE site_id = $1', [siteId]);
    expect(mix.rows).toContainEqual({ node_id: nodeId, path: '/page', accept_language: 'pt-BR,pt;q=0.9', sec_fetch_site: 'same-origin', conditional: false, secure: false });
  });

  it('/metrics shows requests by outcome, latency, nodes by status, audits by verdict; /healthz answers', async () => {
    const { bal, siteId } = await withNode('honest', 0);
    await waitPublished(bal, siteId, '/page', HOST);
    await visit(bal.publicUrl, '/page', { host: HOST });
    await visit(bal.publicUrl, '/page', { host: HOST, headers: { cookie: 'a=b' } });
    const m = await visit(bal.controlUrl, '/metrics', { host: 'localhost' });
    expect(m.text).toMatch(/verity_balancer_requests_total\{outcome="node_verified"\} 1/);
    expect(m.text).toMatch(/verity_balancer_requests_total\{outcome="origin_credentials"\} 1/);
    expect(m.text).toMatch(/verity_balancer_requests_total\{outcome="origin_unpublished"\} 1/);
    expect(m.text).toMatch(/verity_balancer_upstream_seconds_count\{target="origin"\} [1-9]/);
    expect(m.text).toMatch(/verity_nodes\{status="active"\} 1/);
    expect(m.text).toMatch(/verity_audits\{verdict="pass"\} 0/);
    expect(m.text).toMatch(/verity_balancer_retries_total 0/);
    expect(m.text).toMatch(/verity_balancer_budget_refusals_total 0/);
    expect((await visit(bal.controlUrl, '/healthz', { host: 'localhost' })).text).toBe('{"ok":true}');
  });
});
