import { describe, expect, it } from 'vitest';
import { visit, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import type { NodeMode } from '../../support/hostile-node.js';

// Shadow sampling, URL samples for the auditor, and the control plane's /metrics and /healthz.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const HOST = SCENE_HOST;

async function withNode(mode: NodeMode, shadowShare: number): Promise<{ bal: StartedBalancer; nodeId: string; siteId: string; results: Array<{ mismatched: string[] }> }> {
  const results: Array<{ mismatched: string[] }> = [];
  const { bal, ids, siteId } = await scene.setup([mode], { config: { shadowShare }, deps: { onShadowResult: (r) => results.push(r) } });
  return { bal, nodeId: ids[0] ?? '', siteId, results };
}

describe('shadow sampling', () => {
  it('a doctored page queues a deep audit (reason shadow) and a light strike', async () => {
    const { bal, nodeId, siteId } = await withNode('tamper', 1);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.headers['x-verity-node']).toBe(nodeId);
    const audit = await waitFor(async () => (await db.pool.query<{ node_id: string; site_id: string; url: string }>("SELECT node_id, site_id::text, url FROM audits WHERE reason = 'shadow'")).rows[0]);
    expect(audit).toEqual({ node_id: nodeId, site_id: siteId, url: '/page' });
    await waitFor(async () => (await db.pool.query("SELECT 1 FROM trust_events WHERE node_id = $1 AND kind = 'shadow_mismatch'", [nodeId])).rowCount);
  });

  it('an honest page compares equal: no audit, no strike', async () => {
    const { bal, results } = await withNode('honest', 1);
    await visit(bal.publicUrl, '/page', { host: HOST });
    await waitFor(() => results.length > 0);
    expect(results[0]?.mismatched).toEqual([]);
    expect((await db.pool.query("SELECT 1 FROM audits")).rowCount).toBe(0);
  });
});

describe('url samples and metrics', () => {
  it('records what visitors ask for (public requests only) in batches', async () => {
    const { bal, siteId } = await withNode('honest', 0);
    for (let i = 0; i < 3; i++) await visit(bal.publicUrl, '/page', { host: HOST });
    await visit(bal.publicUrl, '/mine', { host: HOST, headers: { cookie: 'session=1' } });
    await bal.balancer.runtime.samples.flush();
    const { rows } = await db.pool.query<{ path: string; hits: number }>('SELECT path, hits FROM url_samples WHERE site_id = $1', [siteId]);
    expect(rows).toEqual([{ path: '/page', hits: 3 }]);
  });

  it('/metrics shows requests by outcome, latency, nodes by status, audits by verdict; /healthz answers', async () => {
    const { bal } = await withNode('honest', 0);
    await visit(bal.publicUrl, '/page', { host: HOST });
    await visit(bal.publicUrl, '/page', { host: HOST, headers: { cookie: 'a=b' } });
    const m = await visit(bal.controlUrl, '/metrics', { host: 'localhost' });
    expect(m.text).toMatch(/verity_balancer_requests_total\{outcome="node"\} 1/);
    expect(m.text).toMatch(/verity_balancer_requests_total\{outcome="origin_credentials"\} 1/);
    expect(m.text).toMatch(/verity_balancer_upstream_seconds_count\{target="node"\} 1/);
    expect(m.text).toMatch(/verity_nodes\{status="active"\} 1/);
    expect(m.text).toMatch(/verity_audits\{verdict="pass"\} 0/);
    expect(m.text).toMatch(/verity_balancer_retries_total 0/);
    expect((await visit(bal.controlUrl, '/healthz', { host: 'localhost' })).text).toBe('{"ok":true}');
  });
});
