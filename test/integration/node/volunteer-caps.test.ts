import { describe, expect, it } from 'vitest';
import { createNodeApiPlugin } from '../../../balancer/control/node-api.js';
import { listAuditPlan } from '../../../common/db/queries/audits.js';
import { startBalancer, visit, waitFor, waitPublished } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { rawRequest } from '../../support/node-http.js';
import { spawnNode, useNodeProcesses } from '../../support/node-process.js';
import { startOriginServer } from '../../support/origin-server.js';

// A volunteer caps their node at 10 MB a month (`verity node --max-monthly 10MB`): a real
// balancer, a real `verity node` process and an origin whose files it publishes. The node serves
// visitors until it is near its cap, the balancer then stops routing to it (from its heartbeats),
// the origin serves the rest, and the node never serves a byte past the cap.

const db = useTestDatabase();
const nodes = useNodeProcesses(db);
const FILE_BYTES = 500_000;
const CAP = 10_000_000;
const HOST = 'caps.test';

function file(i: number): Buffer {
  return Buffer.alloc(FILE_BYTES, i + 1);
}

describe('verity node --max-monthly', () => {
  it('stops receiving traffic at its cap, and never serves past it', async () => {
    const paths = Array.from({ length: 30 }, (_, i) => `/files/${i}.bin`);
    const origin = await startOriginServer();
    nodes.cleanup(() => origin.close());
    paths.forEach((p, i) => origin.route(p, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=600', 'content-length': String(FILE_BYTES) });
      res.end(file(i));
    }));
    const { site, token } = await makeSiteWithToken(db.pool, { host: HOST, origin: origin.url, uses: 1 });
    const bal = await startBalancer({ pool: db.pool, plugins: [createNodeApiPlugin({ heartbeatIntervalMs: 500 })] });
    nodes.cleanup(() => bal.close());
    const dataDir = nodes.dataDir();
    const node = nodes.track(spawnNode(['--balancer', bal.controlUrl, '--token', token, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0',
      '--data-dir', dataDir, '--max-monthly', '10MB']));
    const { nodeId, statusUrl } = await node.ready();
    await waitFor(() => bal.balancer.runtime.table.indexFor(site.id).all.length > 0, 10_000);
    for (const p of paths) await waitPublished(bal, site.id, p, HOST);

    let nodeBytes = 0;
    const servedBy: string[] = [];
    for (let i = 0; i < 60; i++) {
      const path = paths[i % paths.length] ?? '/';
      const r = await visit(bal.publicUrl, path, { host: HOST });
      expect(r.status).toBe(200);
      expect(r.body.equals(file(i % paths.length))).toBe(true);
      const by = String(r.headers['x-verity-node']);
      servedBy.push(by);
      if (by === nodeId) nodeBytes += r.body.length;
      await new Promise((res) => setTimeout(res, 600));
    }
    // It gave what it offered, up to its cap and never past it.
    expect(nodeBytes).toBeGreaterThanOrEqual(CAP - 4 * FILE_BYTES);
    expect(nodeBytes).toBeLessThanOrEqual(CAP);
    // Once there, the balancer sent it nobody: the last visits were all the origin's.
    expect(servedBy.slice(-15).every((by) => by === 'origin')).toBe(true);
    const row = await db.pool.query<{ resting: boolean; resting_reason: string }>('SELECT resting, resting_reason FROM nodes WHERE id = $1', [nodeId]);
    expect(row.rows[0]?.resting).toBe(true);
    expect(row.rows[0]?.resting_reason).toMatch(/^monthly-cap: \d+ of 10000000 bytes served in \d{4}-\d{2}$/);
    // Resting, it is not planned for audits either (it would answer them 503, an honest refusal).
    expect((await listAuditPlan(db.pool)).map((r) => r.nodeId)).not.toContain(nodeId);
    // The volunteer sees it on the status page: usage against the cap, and that it rests.
    const status = JSON.parse((await rawRequest(`${statusUrl}status.json`)).body.toString()) as { volunteer: { usage: { monthBytes: number }; caps: { maxMonthly: number } } };
    expect(status.volunteer.caps.maxMonthly).toBe(CAP);
    expect(status.volunteer.usage.monthBytes).toBeLessThanOrEqual(CAP);
    expect(status.volunteer.usage.monthBytes).toBeGreaterThanOrEqual(nodeBytes);
    const page = await waitFor(async () => {
      const html = (await rawRequest(statusUrl)).body.toString();
      return html.includes('resting: the balancer sends no visitors (monthly-cap') ? html : null;
    }, 5_000);
    expect(page).toMatch(/of 10\.0 MB \(\d+\.\d %\)/);

    // The volunteer lifts the cap (a restart without it): the balancer sends it visitors again.
    expect(await node.stop()).toBe(0);
    const again = nodes.track(spawnNode(['--balancer', bal.controlUrl, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', dataDir]));
    await again.ready();
    await waitFor(async () => (await visit(bal.publicUrl, paths[0] ?? '/', { host: HOST })).headers['x-verity-node'] === nodeId, 15_000, 300);
    expect((await db.pool.query<{ resting: boolean }>('SELECT resting FROM nodes WHERE id = $1', [nodeId])).rows[0]?.resting).toBe(false);
  });

  it('refuses a bad cap or schedule in one line', async () => {
    for (const [flag, value] of [['--max-monthly', '10 parsecs'], ['--schedule', '25:00-07:00'], ['--max-bandwidth', '-5MB']] as const) {
      const p = nodes.track(spawnNode(['--balancer', 'http://127.0.0.1:9', '--data-dir', nodes.dataDir(), flag, value]));
      expect(await p.exited).toBe(2);
      expect(p.stderr().trim().split('\n')).toHaveLength(1);
      expect(p.stderr()).toContain(flag);
    }
  });
});
