import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../common/db/embedded.js';
import { insertTestNode, insertTestSite, startBalancer, visit, waitFor, waitPublished, type StartBalancerOptions } from '../../support/balancer-harness.js';
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
  it('a refused node connection costs the node, not the visitor (the origin answers) nor the process', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: scene.origin.url });
    const nodeId = await insertTestNode(db.pool, { url: `http://127.0.0.1:${await freePort()}`, siteIds: [siteId] });
    const bal = scene.track(await startBalancer({ pool: db.pool }));
    await waitPublished(bal, siteId, '/page', HOST);
    for (let i = 0; i < 3; i++) {
      const r = await visit(bal.publicUrl, '/page', { host: HOST });
      expect(r.status).toBe(200);
      expect(r.headers['x-verity-node']).toBe('origin');
    }
    expect(bal.balancer.runtime.outlier.isEjected(nodeId, Date.now())).toBe(true);
    expect((await visit(bal.publicUrl, '/page', { host: HOST, headers: { cookie: 'a=b' } })).status).toBe(200);
  });

  it('an https origin is reached over TLS (keep-alive https agent); unreachable → 502, no crash', async () => {
    await insertTestSite(db.pool, { host: HOST, origin: `https://127.0.0.1:${await freePort()}` });
    const bal = scene.track(await startBalancer({ pool: db.pool }));
    const r = await visit(bal.publicUrl, '/account', { host: HOST, headers: { cookie: 'a=b' } });
    expect(r.status).toBe(502);
    expect((await visit(bal.controlUrl, '/healthz', { host: 'localhost' })).status).toBe(200);
  });

  it('200 visitors abort mid-download → node sockets back to baseline within seconds, no strike', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32BE(i, i);
    scene.origin.set('/download.bin', { body: big, type: 'application/octet-stream' });
    const { bal, nodes, ids, siteId } = await withNodes(['slow-honest']);
    await waitPublished(bal, siteId, '/download.bin', HOST);
    const node = nodes[0] as HostileNode;
    const u = new URL(bal.publicUrl);
    const aborted: Array<Promise<void>> = [];
    const statuses: string[] = [];
    for (let i = 0; i < 200; i++) {
      aborted.push(new Promise<void>((resolve) => {
        const req = request({ host: u.hostname, port: u.port, path: '/download.bin', headers: { host: HOST }, agent: false }, (res) => {
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
    // Past the buffer budget some are answered by the origin: never an error.
    expect(statuses.filter((s) => !s.startsWith('200'))).toEqual([]);
    // Under load some wait too long for a connection to the node and the origin answers them.
    expect(statuses.filter((s) => s === `200${ids[0]}`).length).toBeGreaterThan(20);
    expect(node.requests.length).toBeGreaterThan(150);
    await waitFor(() => node.openSockets() <= 5, 10_000, 100);
    // Visitors leaving is not the node's fault.
    await bal.balancer.runtime.strikes.flush();
    expect((await db.pool.query('SELECT 1 FROM trust_events')).rowCount).toBe(0);
  });

  it('30: half the nodes failing → visitors still served, ejection capped, origin when none is healthy', async () => {
    const { bal, ids, nodes, siteId } = await withNodes(['honest', 'honest', 'error500', 'refuse']);
    await waitPublished(bal, siteId, '/page', HOST);
    let ok = 0;
    let byNodes = 0;
    for (let i = 0; i < 40; i++) {
      const r = await visit(bal.publicUrl, '/page', { host: HOST });
      if (r.status === 200) ok++;
      if (r.headers['x-verity-node'] === ids[0] || r.headers['x-verity-node'] === ids[1]) byNodes++;
    }
    expect(ok).toBe(40);
    expect(byNodes).toBeGreaterThanOrEqual(30);
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
