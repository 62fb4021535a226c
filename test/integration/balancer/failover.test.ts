import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../common/db/embedded.js';
import { insertTestNode, insertTestSite, startBalancer, visit, waitFor, type StartBalancerOptions } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene, type SceneSetup } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import type { HostileNode, NodeMode } from '../../support/hostile-node.js';

// Faults: refused connections, visitors leaving mid-stream, half the nodes failing.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const HOST = SCENE_HOST;

function withNodes(modes: NodeMode[], opts: StartBalancerOptions = {}): Promise<SceneSetup> {
  return scene.setup(modes, { ...opts, config: { deadline: 5_000, bufferLimit: 256 * 1024, ...opts.config } });
}

describe('failures', () => {
  it('a refused node connection is a 502, not a dead process (http-proxy has no error listener by default)', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    await insertTestNode(db.pool, { url: `http://127.0.0.1:${await freePort()}`, siteIds: [siteId] });
    const bal = scene.track(await startBalancer({ pool: db.pool }));
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(502);
    expect((await visit(bal.publicUrl, '/page', { host: HOST, headers: { cookie: 'a=b' } })).status).toBe(200);
  });

  it('an https origin is reached over TLS (keep-alive https agent); unreachable → 502, no crash', async () => {
    await insertTestSite(db.pool, { host: HOST, origin: `https://127.0.0.1:${await freePort()}` });
    const bal = scene.track(await startBalancer({ pool: db.pool }));
    const r = await visit(bal.publicUrl, '/account', { host: HOST, headers: { cookie: 'a=b' } });
    expect(r.status).toBe(502);
    expect((await visit(bal.controlUrl, '/healthz', { host: 'localhost' })).status).toBe(200);
  });

  it('16: 1000 visitors abort mid-stream → node sockets back to baseline within seconds', async () => {
    const { bal, nodes, ids } = await withNodes(['slow-body']);
    const node = nodes[0] as HostileNode;
    const u = new URL(bal.publicUrl);
    const aborted: Array<Promise<void>> = [];
    const statuses: string[] = [];
    for (let i = 0; i < 1000; i++) {
      aborted.push(new Promise<void>((resolve) => {
        const req = request({ host: u.hostname, port: u.port, path: '/page', headers: { host: HOST }, agent: false }, (res) => {
          statuses.push(String(res.statusCode) + String(res.headers['x-verity-node']));
          res.once('data', () => {
            req.destroy();
            resolve();
          });
          res.on('error', () => resolve());
        });
        req.on('error', () => resolve());
        req.setTimeout(15_000, () => req.destroy());
        req.end();
      }));
    }
    await Promise.all(aborted);
    expect(statuses.filter((s) => s !== `200${ids[0]}`)).toEqual([]);
    expect(node.requests.length).toBeGreaterThan(900);
    await waitFor(() => node.openSockets() <= 5, 10_000, 100);
    // Visitors leaving is not the node's fault.
    await bal.balancer.runtime.strikes.flush();
    expect((await db.pool.query('SELECT 1 FROM trust_events')).rowCount).toBe(0);
  });

  it('30: half the nodes failing → visitors still served, ejection capped, origin when none is healthy', async () => {
    const { bal, ids, nodes } = await withNodes(['honest', 'honest', 'error500', 'refuse']);
    let ok = 0;
    for (let i = 0; i < 40; i++) if ((await visit(bal.publicUrl, '/page', { host: HOST })).status === 200) ok++;
    expect(ok).toBeGreaterThanOrEqual(36);
    const rt = bal.balancer.runtime;
    const ejected = ids.filter((id) => rt.outlier.isEjected(id, rt.now()));
    expect(ejected.length).toBeLessThanOrEqual(2);
    expect(ejected.every((id) => id === ids[2] || id === ids[3])).toBe(true);
    // No healthy node at all: the health prober's verdict takes them out; the origin serves.
    for (const n of nodes) n.setMode('hang');
    for (const id of ids) rt.unhealthy.add(id);
    const r = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(r.status).toBe(200);
    expect(r.headers['x-verity-node']).toBe('origin');
  });

  it('active health probes take a silent node out and bring it back', async () => {
    const { bal, ids, nodes } = await withNodes(['honest'], { deps: { background: { health: true, siteRefresh: true } }, config: { healthInterval: 200 } });
    const rt = bal.balancer.runtime;
    nodes[0]?.setMode('hang');
    await waitFor(() => rt.unhealthy.has(ids[0] ?? ''), 15_000);
    nodes[0]?.setMode('honest');
    await waitFor(() => !rt.unhealthy.has(ids[0] ?? ''), 15_000);
    // Trust events are written off the probe's path: wait for both.
    const kinds = await waitFor(async () => {
      const { rows } = await db.pool.query<{ kind: string }>('SELECT kind FROM trust_events WHERE node_id = $1 ORDER BY id', [ids[0]]);
      return rows.length >= 2 && rows.map((r) => r.kind);
    });
    expect(kinds).toEqual(['health_fail', 'health_ok']);
  });
});
