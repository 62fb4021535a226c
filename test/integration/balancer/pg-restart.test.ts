import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../../common/db/embedded.js';
import { migrate } from '../../../common/db/migrate.js';
import { createPool, type Pool } from '../../../common/db/pool.js';
import { silentLogger } from '../../../common/log.js';
import { insertTestNode, insertTestSite, startBalancer, visit, visitPublished, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { startHostileNode, type HostileNode } from '../../support/hostile-node.js';

// PostgreSQL itself restarts (a server of this test's own, so the shared
// test server stays up): the balancer keeps serving from memory, /healthz says 503 meanwhile,
// then it reconnects and resyncs by itself.

const HOST = 'site.test';
const dir = mkdtempSync(join(tmpdir(), 'verity-pg-restart-'));
chmodSync(dir, 0o755);
let pg: EmbeddedDatabase | null = null;
let pool: Pool | null = null;
let bal: StartedBalancer | null = null;
let origin: TestOrigin | null = null;
let node: HostileNode | null = null;

afterAll(async () => {
  await bal?.close();
  await pool?.end();
  await node?.close();
  await origin?.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});


describe('PostgreSQL restart', () => {
  it('keeps serving, reports 503 on /healthz while down, reconnects and resyncs after', async () => {
    const port = await freePort();
    pg = await startEmbeddedPostgres({ dir: join(dir, 'pg'), log: silentLogger(), port });
    pool = createPool({ url: pg.url, log: silentLogger(), max: 2 });
    await migrate(pool, silentLogger());
    origin = await startOrigin();
    node = await startHostileNode({ origin: origin.url });
    const siteId = await insertTestSite(pool, { host: HOST, origin: origin.url });
    const nodeId = await insertTestNode(pool, { url: node.url, siteIds: [siteId] });
    bal = await startBalancer({ url: pg.url });
    expect((await visitPublished(bal, '/page', { host: HOST })).headers['x-verity-node']).toBe(nodeId);

    await pg.stop();
    pg = null;
    const whileDown = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(whileDown.status).toBe(200);
    expect(whileDown.headers['x-verity-node']).toBe(nodeId);
    expect((await visit(bal.controlUrl, '/healthz', { host: 'localhost' })).status).toBe(503);

    const loads = bal.balancer.sync.loads;
    pg = await startEmbeddedPostgres({ dir: join(dir, 'pg'), log: silentLogger(), port });
    const b = bal;
    await waitFor(() => b.balancer.sync.loads > loads && b.balancer.sync.connected, 30_000, 100);
    expect((await visit(b.controlUrl, '/healthz', { host: 'localhost' })).status).toBe(200);
    await pool.query("UPDATE nodes SET status = 'quarantined' WHERE id = $1", [nodeId]);
    await waitFor(() => b.balancer.runtime.table.node(nodeId)?.status === 'quarantined', 5_000);
    expect((await visit(b.publicUrl, '/page', { host: HOST })).headers['x-verity-node']).toBe('origin');
  });
});
