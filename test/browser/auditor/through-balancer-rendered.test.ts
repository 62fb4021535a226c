import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditor, type RunningAuditor } from '../../../auditor/app.js';
import { listAuditReports } from '../../../common/db/queries/audit-reports.js';
import { silentLogger } from '../../../common/log.js';
import { insertTestNode, insertTestSite, startBalancer, testAuditSecret, type StartedBalancer } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { waitFor } from '../../support/auditor/fixtures.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// Rendered audits through the real balancer: every request of both the document and the page's
// resources reaches the node with its own pin, and the verdicts follow.

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
  rogue = await startRogueNode({ originUrl: origin.url, kind: 'csp-stripped-injection' });
  honest = await startRogueNode({ originUrl: origin.url, kind: 'gzip-recompression' });
  const siteId = await insertTestSite(db.pool, { host: 'shop.example', origin: origin.url, privateRoutes: origin.privateRoutes });
  rogueId = await insertTestNode(db.pool, { url: rogue.url, siteIds: [siteId], status: 'active', name: 'rogue-rendered' });
  honestId = await insertTestNode(db.pool, { url: honest.url, siteIds: [siteId], status: 'active', name: 'honest-rendered' });
  balancer = await startBalancer({ pool: db.pool });
  auditor = await startAuditor({
    concurrency: 1, auditEverySeconds: 600, balancerUrl: balancer.publicUrl, auditSecret: testAuditSecret, recycleEvery: 20,
    loadTimeoutMs: 10_000, stepTimeoutMs: 10_000, settleMs: 200, auditTimeoutMs: 60_000, browser: true, pollMs: 200,
  }, { pool: db.pool, log: silentLogger(), random: seededRandom(12) });
});

afterAll(async () => {
  await auditor?.stop();
  await balancer?.close();
  await rogue?.close();
  await honest?.close();
  await origin?.close();
});

describe('rendered audits through the balancer', () => {
  it('renders both nodes via pins: the rogue is tampered, the honest one passes', async () => {
    const bad = await waitFor('the rogue audited', async () => (await listAuditReports(db.pool, { nodeId: rogueId }))[0], 120_000, 500);
    const good = await waitFor('the honest node audited', async () => (await listAuditReports(db.pool, { nodeId: honestId }))[0], 120_000, 500);
    expect(bad.verdict).toBe('tampered');
    expect(bad.summary).toMatchObject({ rendered: 'done', via: 'balancer' });
    expect(bad.findings.map((f) => f.kind)).toContain('new_host_contacted');
    expect(good.verdict, JSON.stringify(good.findings)).toBe('pass');
    expect(good.summary).toMatchObject({ rendered: 'done', via: 'balancer' });
    const paths = honest.stats.seen.map((s) => s.path);
    expect(paths).toEqual(expect.arrayContaining(['/static/site.css']));
  });
});
