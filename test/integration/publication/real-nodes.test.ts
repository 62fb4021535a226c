import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { visit, waitFor, waitPublished } from '../../support/balancer-harness.js';
import { useBalancerScene } from '../../support/balancer-scene.js';
import { generatedBody } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { doctors } from '../../support/doctoring-proxy.js';
import { useNodeProcesses } from '../../support/node-process.js';
import { balancerKeyFor, signedRequest } from '../../support/node-signing.js';
import { REAL_HOST, startRealScene } from '../../support/real-node-scene.js';
import { PUBLISHED_KINDS } from '../../support/published-kinds.js';

// The publication model against real `verity node` processes: honest ones, and rogue ones (the
// same real node behind a proxy that doctors its answers). Zero altered bytes reach a visitor,
// the visitor gets the origin's metadata, and the rogue is struck.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const nodes = useNodeProcesses(db);
const MiB = 1024 * 1024;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

async function strikes(nodeId: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM trust_events WHERE node_id = $1 AND kind = 'integrity_mismatch'", [nodeId]);
  return rows[0]?.n ?? 0;
}

function download(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; servedBy: string; sha256: string; size: number }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    request({ hostname: u.hostname, port: u.port, path, agent: false, headers: { host: REAL_HOST, ...headers } }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        size += c.length;
      });
      res.on('end', () => (res.complete ? resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-verity-node']), sha256: hash.digest('hex'), size }) : reject(new Error('cut short'))));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

describe('real nodes', () => {
  it('a rogue real node swaps the bytes of every kind: none reach a visitor, the origin\'s do, and it is struck', async () => {
    for (const [path, asset] of Object.entries(PUBLISHED_KINDS)) scene.origin.set(path.split('?')[0] ?? path, asset);
    const s = await startRealScene(db, scene, nodes);
    const rogue = await s.node(doctors.swapBytes);
    for (const path of Object.keys(PUBLISHED_KINDS)) await waitPublished(s.bal, s.siteId, path, REAL_HOST);
    for (const [path, asset] of Object.entries(PUBLISHED_KINDS)) {
      const r = await visit(s.bal.publicUrl, path, { host: REAL_HOST });
      expect(sha(r.body), path).toBe(sha(asset.body));
    }
    expect(rogue.proxy?.doctored).toBeGreaterThan(0);
    await waitFor(async () => (await strikes(rogue.nodeId)) > 0);
  });

  it('an honest real node serves them all, verified, and is never struck', async () => {
    for (const [path, asset] of Object.entries(PUBLISHED_KINDS)) scene.origin.set(path.split('?')[0] ?? path, asset);
    const s = await startRealScene(db, scene, nodes);
    const honest = await s.node();
    for (const [path, asset] of Object.entries(PUBLISHED_KINDS)) {
      await waitPublished(s.bal, s.siteId, path, REAL_HOST);
      const r = await waitFor(async () => {
        const v = await visit(s.bal.publicUrl, path, { host: REAL_HOST });
        return v.headers['x-verity-node'] === honest.nodeId && v;
      });
      expect(sha(r.body), path).toBe(sha(asset.body));
    }
    const { rows } = await db.pool.query("SELECT kind FROM trust_events WHERE node_id = $1 AND kind IN ('integrity_mismatch', 'header_strike', 'truncation_strike')", [honest.nodeId]);
    expect(rows).toEqual([]);
  });

  it('a real node\'s relabelled type, year of max-age, own ETag, 204 and 304 never reach a visitor', async () => {
    const s = await startRealScene(db, scene, nodes);
    for (const doctor of [doctors.relabel, doctors.noContent, doctors.notModified]) {
      const rogue = await s.node(doctor);
      await waitPublished(s.bal, s.siteId, '/data.json', REAL_HOST).catch(() => undefined);
      scene.origin.set('/data.json', { body: '{"a":1}', type: 'application/json' });
      await waitPublished(s.bal, s.siteId, '/data.json', REAL_HOST);
      for (let i = 0; i < 3; i++) {
        const r = await visit(s.bal.publicUrl, '/data.json', { host: REAL_HOST });
        expect(r.status).toBe(200);
        expect(r.text).toBe('{"a":1}');
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['cache-control']).toBe('public, max-age=300');
        expect(r.headers.etag).not.toBe('"rogue"');
      }
      await db.pool.query("UPDATE nodes SET status = 'quarantined' WHERE id = $1", [rogue.nodeId]);
      await waitFor(() => s.bal.balancer.runtime.table.node(rogue.nodeId)?.status === 'quarantined');
    }
  });

  it('a 50 MB download through a rogue real node, with and without Range: the visitor\'s bytes are the origin\'s', async () => {
    const file = generatedBody(50 * MiB + 777);
    scene.origin.set('/downloads/app.iso', { body: file, type: 'application/octet-stream' });
    const s = await startRealScene(db, scene, nodes);
    const rogue = await s.node(doctors.swapBytes, { flipAt: 3 * MiB + 10 });
    await download(s.bal.publicUrl, '/downloads/app.iso');
    await waitFor(async () => {
      await s.bal.balancer.revalidator.settled();
      return [...s.bal.balancer.runtime.publications.all()].some((p) => p.url === '/downloads/app.iso' && p.mode === 'stable');
    }, 60_000);
    expect(await download(s.bal.publicUrl, '/downloads/app.iso')).toMatchObject({ status: 200, sha256: sha(file.bytes(0, file.size - 1)), size: file.size });
    const [from, to] = [2 * MiB + 3, 6 * MiB];
    expect(await download(s.bal.publicUrl, '/downloads/app.iso', { range: `bytes=${from}-${to}` })).toMatchObject({ status: 206, sha256: sha(file.bytes(from, to)) });
    expect(rogue.proxy?.doctored).toBeGreaterThan(0);
    await waitFor(async () => (await strikes(rogue.nodeId)) > 0);
  }, 120_000);
});

describe('the origin\'s own answers, with a real node', () => {
  it('an origin 5xx and a slow origin reach the visitor as the origin sent them, and count against no node', async () => {
    const s = await startRealScene(db, scene, nodes, { config: { attemptTimeout: 1_000 } });
    const honest = await s.node();
    scene.origin.set('/broken', { body: '<p>fine</p>', type: 'text/html' });
    scene.origin.set('/slow-page', { body: '<p>slow but fine</p>', type: 'text/html' });
    for (const p of ['/broken', '/slow-page']) await waitPublished(s.bal, s.siteId, p, REAL_HOST);
    // The node never fetched these: asked now, it goes to an origin that fails or dawdles.
    scene.origin.set('/broken', { body: '<h1>Our own maintenance page</h1>', type: 'text/html', status: 503, headers: { 'retry-after': '120' } });
    scene.origin.set('/slow-page', { body: '<p>slow but fine</p>', type: 'text/html', delayMs: 2_500 });
    const broken = await visit(s.bal.publicUrl, '/broken', { host: REAL_HOST });
    expect(broken.status).toBe(503);
    expect(broken.text).toContain('Our own maintenance page');
    expect(broken.headers['retry-after']).toBe('120');
    const slow = await visit(s.bal.publicUrl, '/slow-page', { host: REAL_HOST, timeoutMs: 20_000 });
    expect(slow.status).toBe(200);
    expect(slow.text).toBe('<p>slow but fine</p>');
    const rt = s.bal.balancer.runtime;
    expect(rt.outlier.isEjected(honest.nodeId, rt.now())).toBe(false);
    await rt.strikes.flush();
    const { rows } = await db.pool.query("SELECT kind FROM trust_events WHERE node_id = $1 AND kind NOT IN ('registered', 'health_ok')", [honest.nodeId]);
    expect(rows).toEqual([]);
  });

  it('a POST through the balancer makes both real nodes drop the URL within a second', async () => {
    const s = await startRealScene(db, scene, nodes);
    const a = await s.node();
    const b = await s.node();
    await waitPublished(s.bal, s.siteId, '/page', REAL_HOST);
    const cached = async (n: { nodeId: string; url: string }): Promise<string> => {
      const r = await signedRequest(n.url, await balancerKeyFor(db.pool, n.nodeId), '/page', { host: REAL_HOST });
      return String(r.headers['x-verity-cache']);
    };
    for (const n of [a, b]) {
      await cached(n);
      expect(await cached(n)).toBe('HIT');
    }
    const posted = Date.now();
    const r = await visit(s.bal.publicUrl, '/page', { host: REAL_HOST, method: 'POST', body: 'comment=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBeLessThan(400);
    for (const n of [a, b]) await waitFor(async () => (await cached(n)) !== 'HIT', 1_000, 50);
    expect(Date.now() - posted).toBeLessThan(1_500);
  });
});
