import { describe, expect, it } from 'vitest';
import { listAuditReports } from '../../../common/db/queries/audit-reports.js';
import { useTestDatabase } from '../../support/db.js';
import { useAuditScene } from '../../support/auditor/through-balancer-scene.js';
import { waitFor } from '../../support/auditor/fixtures.js';

// Rendered audits through the real balancer: every request of both the document and the page's
// resources reaches the node with its own pin, and the verdicts follow.

const db = useTestDatabase({ truncate: false });
const scene = useAuditScene(db, {
  rogueKind: 'csp-stripped-injection', honestKind: 'gzip-recompression', names: { rogue: 'rogue-rendered', honest: 'honest-rendered' }, seed: 12,
  auditor: { concurrency: 1, auditEverySeconds: 600, recycleEvery: 20, loadTimeoutMs: 10_000, stepTimeoutMs: 10_000, settleMs: 200, auditTimeoutMs: 60_000, browser: true, pollMs: 200 },
});

describe('rendered audits through the balancer', () => {
  it('renders both nodes via pins: the rogue is tampered, the honest one passes', async () => {
    const bad = await waitFor('the rogue audited', async () => (await listAuditReports(db.pool, { nodeId: scene.rogueId }))[0], 120_000, 500);
    const good = await waitFor('the honest node audited', async () => (await listAuditReports(db.pool, { nodeId: scene.honestId }))[0], 120_000, 500);
    expect(bad.verdict).toBe('tampered');
    expect(bad.summary).toMatchObject({ rendered: 'done', via: 'balancer' });
    expect(bad.findings.map((f) => f.kind)).toContain('new_host_contacted');
    expect(good.verdict, JSON.stringify(good.findings)).toBe('pass');
    expect(good.summary).toMatchObject({ rendered: 'done', via: 'balancer' });
    const paths = scene.honest.stats.seen.map((s) => s.path);
    expect(paths).toEqual(expect.arrayContaining(['/static/site.css']));
  });
});
