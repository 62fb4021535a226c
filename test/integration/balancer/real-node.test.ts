import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertTestNode, insertTestSite, startBalancer, visit, visitPublished, type StartedBalancer } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { samplePrivateRoutes, startSampleOrigin, staticAssets, type SampleOrigin } from '../../support/origin/index.js';
import { startTestNodeServer, type TestNodeServer } from '../../support/node-server.js';
import { balancerKeyFor } from '../../support/node-signing.js';

// The real volunteer node (node/server.ts with its disk cache) behind the balancer, in front of
// the sample origin (CSP nonces, CSRF tokens, cookies on private pages; the site lets nodes
// serve its changing pages, --dynamic sampled): an honest node is served from, its assets
// verified, and never struck.

const db = useTestDatabase({ truncate: false });
const HOST = 'shop.test';
let origin: SampleOrigin;
let node: TestNodeServer;
let bal: StartedBalancer;
let nodeId: string;
const cacheDir = mkdtempSync(join(tmpdir(), 'verity-bal-node-'));

beforeAll(async () => {
  origin = await startSampleOrigin();
  node = await startTestNodeServer({ sites: { [HOST]: origin.url }, cacheDir });
  const siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url, privateRoutes: samplePrivateRoutes, dynamicPolicy: 'sampled' });
  nodeId = await insertTestNode(db.pool, { url: node.url, siteIds: [siteId] });
  // The key the balancers sign this node's requests with, as its heartbeat answers would give it.
  node.setKey(await balancerKeyFor(db.pool, nodeId));
  bal = await startBalancer({ pool: db.pool, config: { shadowShare: 1 } });
});
afterAll(async () => {
  await bal.close();
  await node.close();
  await origin.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('an honest real node behind the balancer', () => {
  it('serves public pages and verified assets, private pages stay at the origin, no strike', async () => {
    for (const path of ['/', '/products', '/about']) {
      const r = await visitPublished(bal, path, { host: HOST });
      expect(r.status).toBe(200);
      expect(r.headers['x-verity-node']).toBe(nodeId);
      expect(r.headers['content-security-policy']).toBeTruthy();
    }
    for (const path of Object.keys(staticAssets).slice(0, 3)) {
      const r = await visitPublished(bal, path, { host: HOST });
      expect(r.headers['x-verity-node']).toBe(nodeId);
      expect(r.body.equals(staticAssets[path]?.body as Buffer)).toBe(true);
    }
    expect((await visit(bal.publicUrl, '/account', { host: HOST })).headers['x-verity-node']).toBe('origin');
    await new Promise((r) => setTimeout(r, 1_500));
    await bal.balancer.runtime.strikes.flush();
    const { rows } = await db.pool.query<{ kind: string; reason: string }>('SELECT kind, reason FROM trust_events');
    expect(rows).toEqual([]);
    expect((await db.pool.query('SELECT 1 FROM audits')).rowCount).toBe(0);
  });
});
