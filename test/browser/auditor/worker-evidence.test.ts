import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditor, type RunningAuditor } from '../../../auditor/app.js';
import { listAuditReports, getEvidence } from '../../../common/db/queries/audit-reports.js';
import { silentLogger } from '../../../common/log.js';
import { useTestDatabase } from '../../support/db.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { makeNode, makeSite, waitFor } from '../../support/auditor/fixtures.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// The whole worker with real Chromium and PostgreSQL: a tampered audit leaves every kind of
// evidence the dashboard shows.

const db = useTestDatabase({ truncate: false });
let origin: SampleOrigin;
let rogue: RogueNode;
let auditor: RunningAuditor;
let nodeId = '';

beforeAll(async () => {
  origin = await startSampleOrigin();
  rogue = await startRogueNode({ originUrl: origin.url, kind: 'csp-stripped-injection' });
  const site = await makeSite(db.pool, { origin: origin.url });
  nodeId = await makeNode(db.pool, { siteId: site.id, publicUrl: rogue.url, name: 'rogue-evidence' });
  auditor = await startAuditor({
    concurrency: 1, auditEverySeconds: 600, balancerUrl: null, auditSecret: 'x'.repeat(32), recycleEvery: 20,
    loadTimeoutMs: 8000, stepTimeoutMs: 8000, settleMs: 200, auditTimeoutMs: 60_000, browser: true, pollMs: 200,
    confirmationWindowsMs: [[200, 500], [60_000, 60_000]],
  }, { pool: db.pool, log: silentLogger(), random: seededRandom(3) });
});

afterAll(async () => {
  await auditor?.stop();
  await rogue?.close();
  await origin?.close();
});

describe('rendered audit evidence', () => {
  it('stores both screenshots, the diff image, fragments, the headers diff and blocked requests', async () => {
    const report = await waitFor('a tampered audit', async () => (await listAuditReports(db.pool, { nodeId, verdict: 'tampered' }))[0], 90_000, 500);
    expect(report.summary).toMatchObject({ rendered: 'done' });
    const kinds = report.evidence.map((e) => e.kind).sort();
    expect(kinds).toEqual(['blocked_requests', 'diff_image', 'fragments', 'headers_diff', 'node_screenshot', 'origin_screenshot']);
    for (const e of report.evidence.filter((x) => x.contentType === 'image/png')) {
      const body = (await getEvidence(db.pool, e.id))?.body;
      expect(body?.subarray(1, 4).toString()).toBe('PNG');
    }
    const blocked = JSON.parse((await getEvidence(db.pool, report.evidence.find((e) => e.kind === 'blocked_requests')?.id ?? ''))?.body.toString() ?? '[]') as Array<{ url: string }>;
    expect(blocked.some((b) => b.url.includes('evil-analytics'))).toBe(true);
    expect(report.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(['script_added', 'security_header_changed', 'new_host_contacted']));
    // Unconfirmed first (it weighs little); the confirmation audit repeats it and the node is quarantined.
    const events = await waitFor('a confirmed tamper', async () => {
      const r = await db.pool.query<{ status_after: string; confirmation: string }>("SELECT status_after, confirmation FROM trust_events WHERE node_id = $1 AND kind = 'audit_tampered' ORDER BY at", [nodeId]);
      return r.rows.length >= 2 ? r.rows : null;
    }, 90_000, 500);
    expect(events.map((e) => e.confirmation)).toEqual(['unconfirmed', 'confirmed']);
    expect(events[0]?.status_after).not.toBe('quarantined');
    expect(events[1]?.status_after).toBe('quarantined');
  });
});
