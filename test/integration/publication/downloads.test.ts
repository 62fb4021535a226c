import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { insertTestNode, waitFor, waitPublished } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { generatedBody } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode } from '../../support/hostile-node.js';

// Downloads and media, verified piece by piece (1 MiB): a node streams them, every piece is
// checked before the visitor gets it, Range requests too; a node that alters one byte gets no
// altered byte to the visitor, the origin finishes the file, and the node is struck.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const MiB = 1024 * 1024;

interface Download {
  status: number;
  servedBy: string;
  sha256: string;
  size: number;
  contentRange: string | undefined;
}

/** Downloads through the balancer, hashing as it goes (nothing held). */
function download(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<Download> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: u.hostname, port: u.port, path, agent: false, headers: { host: SCENE_HOST, ...headers } }, (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        size += c.length;
      });
      res.on('end', () => {
        if (!res.complete) return reject(new Error('download cut short'));
        resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-verity-node']), sha256: hash.digest('hex'), size, contentRange: res.headers['content-range'] });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// These tests prove which bytes reach the visitor, not speed: on a loaded machine a 50 MB
// stream may pause longer than the scene's usual 1.5 s between chunks, which would end the
// node's attempt for the wrong reason.
const UNHURRIED = { config: { attemptTimeout: 15_000, deadline: 60_000 } };

describe('large downloads', () => {
  const file = generatedBody(50 * MiB + 12_345);
  const whole = sha(file.bytes(0, file.size - 1));

  it('an honest node streams a 50 MB file, every piece verified; Range requests get exactly their bytes', async () => {
    scene.origin.set('/downloads/app.dmg', { body: file, type: 'application/x-apple-diskimage' });
    const { bal, ids, siteId } = await scene.setup(['honest'], UNHURRIED);
    await waitPublished(bal, siteId, '/downloads/app.dmg', SCENE_HOST);
    const d = await download(bal.publicUrl, '/downloads/app.dmg');
    expect(d).toMatchObject({ status: 200, servedBy: ids[0], sha256: whole, size: file.size });
    for (const [range, start, end] of [['bytes=0-99', 0, 99], ['bytes=1048570-3145800', 1048570, 3145800], [`bytes=${file.size - 10}-`, file.size - 10, file.size - 1], ['bytes=-5000', file.size - 5000, file.size - 1]] as const) {
      const r = await download(bal.publicUrl, '/downloads/app.dmg', { range });
      expect(r, range).toMatchObject({ status: 206, servedBy: ids[0], sha256: sha(file.bytes(start, end)), contentRange: `bytes ${start}-${end}/${file.size}` });
    }
    expect((await download(bal.publicUrl, '/downloads/app.dmg', { range: `bytes=${file.size}-` })).status).toBe(416);
  });

  it('a node that alters one byte: the visitor still gets the origin\'s file (with and without Range), and the node is struck', async () => {
    scene.origin.set('/downloads/app.dmg', { body: file, type: 'application/x-apple-diskimage' });
    const { bal, ids, siteId } = await scene.setup(['tamper'], UNHURRIED);
    await waitPublished(bal, siteId, '/downloads/app.dmg', SCENE_HOST);
    const d = await download(bal.publicUrl, '/downloads/app.dmg');
    expect(d).toMatchObject({ status: 200, sha256: whole, size: file.size });
    const start = 2 * MiB + 5;
    const end = 5 * MiB;
    const r = await download(bal.publicUrl, '/downloads/app.dmg', { range: `bytes=${start}-${end}` });
    expect(r).toMatchObject({ status: 206, sha256: sha(file.bytes(start, end)) });
    await waitFor(async () => (await db.pool.query("SELECT 1 FROM trust_events WHERE node_id = $1 AND kind = 'integrity_mismatch'", [ids[0]])).rowCount);
    expect(bal.balancer.runtime.metrics.registry.getSingleMetric('verity_balancer_integrity_mismatches_total')).toBeDefined();
  });

  it('when the node fails after the first pieces, the origin finishes from that piece', async () => {
    scene.origin.set('/media/seg.ts', { body: file, type: 'video/mp2t' });
    const { bal, ids, siteId } = await scene.setup(['honest'], UNHURRIED);
    await waitPublished(bal, siteId, '/media/seg.ts', SCENE_HOST);
    const rogue = scene.track(await startHostileNode({ origin: scene.origin.url, mode: 'tamper' }));
    await db.pool.query("UPDATE nodes SET status = 'quarantined' WHERE id = $1", [ids[0]]);
    const rogueId = await insertTestNode(db.pool, { url: rogue.url, siteIds: [siteId] });
    // The node row and its site assignment are two NOTIFYs: wait until the table has both.
    await waitFor(() => bal.balancer.runtime.table.node(rogueId)?.siteIds.includes(siteId) && bal.balancer.runtime.table.node(ids[0] ?? '')?.status === 'quarantined');
    const d = await download(bal.publicUrl, '/media/seg.ts');
    // The node's first three pieces were good and went out under its name; the origin finished.
    expect(d, await bal.balancer.runtime.metrics.registry.getSingleMetricAsString('verity_balancer_requests_total')).toMatchObject({ status: 200, servedBy: rogueId, sha256: whole, size: file.size });
    expect(scene.origin.requests.some((q) => q.url === '/media/seg.ts' && q.headers.range === `bytes=${3 * MiB}-${file.size - 1}`)).toBe(true);
  });
});

describe('memory', () => {
  it('a 1 GB file streams through a node with the balancer\'s memory flat', async () => {
    const big = generatedBody(1024 * MiB);
    scene.origin.set('/iso/disk.iso', { body: big, type: 'application/x-iso9660-image' });
    const { bal, ids, siteId } = await scene.setup(['honest'], UNHURRIED);
    // Published like any URL (the first visitor and the balancer's confirmation), streamed.
    expect((await download(bal.publicUrl, '/iso/disk.iso')).servedBy).toBe('origin');
    await waitFor(async () => {
      await bal.balancer.revalidator.settled();
      return [...bal.balancer.runtime.publications.all()].some((p) => p.siteId === siteId && p.url === '/iso/disk.iso' && p.mode === 'stable');
    }, 120_000, 200);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const d = await download(bal.publicUrl, '/iso/disk.iso');
    clearInterval(timer);
    expect(d).toMatchObject({ status: 200, servedBy: ids[0], size: big.size });
    // Everything in this process (origin, node, balancer, client) streams.
    expect(peak - before).toBeLessThan(64 * MiB);
  }, 300_000);
});
