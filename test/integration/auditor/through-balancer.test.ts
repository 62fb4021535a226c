import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditor, type RunningAuditor } from '../../../auditor/app.js';
import { silentLogger } from '../../../common/log.js';
import { insertTestNode, insertTestSite, startBalancer, testAuditSecret, visit, type StartedBalancer } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { waitFor } from '../../support/auditor/fixtures.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// End to end: the auditor reaches nodes only through the real balancer's public address with a
// signed pin; the node sees an ordinary visitor.

const db = useTestDatabase({ truncate: false });
let origin: SampleOrigin;
let rogue: RogueNode;
let honest: RogueNode;
let balancer: StartedBalancer;
let auditor: RunningAuditor;
let rogueId = '';
let honestId = '';

beforeAll(async () => {
  origin = await startSampleOrigin();
  rogue = await startRogueNode({ originUrl: origin.url, kind: 'script-injection' });
  honest = await startRogueNode({ originUrl: origin.url, kind: 'stale-cache' });
  const siteId = await insertTestSite(db.pool, { host: 'shop.example', origin: origin.url, privateRoutes: origin.privateRoutes });
  rogueId = await insertTestNode(db.pool, { url: rogue.url, siteIds: [siteId], status: 'active', name: 'rogue-e2e' });
  honestId = await insertTestNode(db.pool, { url: honest.url, siteIds: [siteId], status: 'active', name: 'honest-e2e' });
  balancer = await startBalancer({ pool: db.pool });
  auditor = await startAuditor({
    concurrency: 2, auditEverySeconds: 3, balancerUrl: balancer.publicUrl, auditSecret: testAuditSecret, recycleEvery: 50,
    loadTimeoutMs: 5000, stepTimeoutMs: 5000, settleMs: 100, auditTimeoutMs: 20_000, browser: false, pollMs: 100,
  }, { pool: db.pool, log: silentLogger(), random: seededRandom(21) });
});

afterAll(async () => {
  await auditor?.stop();
  await balancer?.close();
  await rogue?.close();
  await honest?.close();
  await origin?.close();
});

const count = async (nodeId: string, verdict: string) =>
  Number((await db.pool.query("SELECT count(*) AS n FROM audits WHERE node_id = $1 AND verdict = $2", [nodeId, verdict])).rows[0]?.n);

describe('audits through the balancer', () => {
  it('catches the rogue node and passes the honest one, with the node seeing a visitor', async () => {
    await waitFor('a tampered audit of the rogue', async () => (await count(rogueId, 'tampered')) >= 1);
    await waitFor('two passes of the honest node', async () => (await count(honestId, 'pass')) >= 2);
    expect(await count(honestId, 'tampered')).toBe(0);
    const summary = (await db.pool.query<{ summary: { via: string } }>("SELECT summary FROM audits WHERE node_id = $1 AND status = 'done' LIMIT 1", [rogueId])).rows[0]?.summary;
    expect(summary?.via).toBe('balancer');
    for (const seen of rogue.stats.seen) {
      const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
      expect(names).not.toContain('x-verity-audit-pin');
      const ua = seen.rawHeaders[seen.rawHeaders.findIndex((h) => h.toLowerCase() === 'user-agent') + 1] ?? '';
      expect(ua).toMatch(/Mozilla\/5\.0/);
      expect(ua).not.toMatch(/Headless/i);
    }
  });

  it('a forged pin gets nothing from the node', async () => {
    const before = rogue.stats.requests;
    const res = await visit(balancer.publicUrl, '/', { host: 'shop.example', headers: { 'x-verity-audit-pin': `v1.${rogueId}.9999999999999.abcdefghijkl.MQ.bad` } });
    expect(res.status).toBe(403);
    expect(rogue.stats.requests).toBe(before);
  });
});
