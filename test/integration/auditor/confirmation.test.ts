import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAuditor, type RunningAuditor } from '../../../auditor/app.js';
import { silentLogger } from '../../../common/log.js';
import { useTestDatabase } from '../../support/db.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { makeNode, makeSite, waitFor } from '../../support/auditor/fixtures.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// Issue 14.2, confirmation before penalty, against real PostgreSQL, a real origin and a real
// node: a tamper verdict queues confirmation audits of the same URL through the same node, as
// another visitor; one that repeats the verdict confirms it, and the rest are dropped.

const db = useTestDatabase();
let origin: SampleOrigin;
let rogue: RogueNode;
const auditors: RunningAuditor[] = [];
const settings = {
  concurrency: 1, auditEverySeconds: 3600, balancerUrl: null, auditSecret: 'x'.repeat(32), recycleEvery: 50, loadTimeoutMs: 5000, stepTimeoutMs: 5000,
  settleMs: 100, auditTimeoutMs: 20_000, browser: false, pollMs: 100, confirmationWindowsMs: [[200, 400], [3_000, 4_000]] as const,
};

beforeEach(async () => {
  origin = await startSampleOrigin();
  rogue = await startRogueNode({ originUrl: origin.url, kind: 'script-injection' });
});

afterEach(async () => {
  await Promise.all(auditors.splice(0).map((a) => a.stop()));
  await rogue.close();
  await origin.close();
});

interface AuditRow { id: string; reason: string; verdict: string | null; status: string; confirmation: string | null; confirms_audit_id: string | null; visitor: { family: string; language: string } | null }
const audits = async (nodeId: string) => (await db.pool.query<AuditRow>("SELECT id, reason, verdict, status, confirmation, confirms_audit_id, summary->'visitor' AS visitor FROM audits WHERE node_id = $1 ORDER BY created_at", [nodeId])).rows;

async function firstTamper(nodeId: string, siteId: string): Promise<AuditRow> {
  await db.pool.query("INSERT INTO audits (node_id, site_id, url, reason) VALUES ($1, $2, '/', 'rescan')", [nodeId, siteId]);
  auditors.push(await startAuditor(settings, { pool: db.pool, log: silentLogger(), random: seededRandom(4) }));
  return waitFor('the first tamper verdict', async () => (await audits(nodeId)).find((a) => a.reason === 'rescan' && a.status === 'done'));
}

describe('confirmation before penalty', () => {
  it('a node that keeps tampering: unconfirmed, then confirmed by a re-test as another visitor; the spare re-test is dropped', async () => {
    const site = await makeSite(db.pool, { origin: origin.url });
    const node = await makeNode(db.pool, { siteId: site.id, publicUrl: rogue.url, status: 'active' });
    const first = await firstTamper(node, site.id);
    expect(first).toMatchObject({ verdict: 'tampered', confirmation: 'unconfirmed' });
    const confirmed = await waitFor('the original marked confirmed', async () => (await audits(node)).find((a) => a.id === first.id && a.confirmation === 'confirmed'));
    expect(confirmed.verdict).toBe('tampered');
    const retests = (await audits(node)).filter((a) => a.confirms_audit_id === first.id);
    // The second re-test was still queued when the first confirmed: dropped.
    expect(retests).toHaveLength(1);
    expect(retests[0]).toMatchObject({ reason: 'confirm', verdict: 'tampered', confirmation: 'confirmed' });
    expect(retests[0]?.visitor).not.toEqual(first.visitor);
    const events = await db.pool.query<{ confirmation: string | null; audit_id: string }>("SELECT confirmation, audit_id FROM trust_events WHERE node_id = $1 AND kind = 'audit_tampered' ORDER BY at", [node]);
    expect(events.rows.map((e) => e.confirmation)).toEqual(['unconfirmed', 'confirmed']);
  });

  it('a verdict the re-tests do not repeat stays unconfirmed, and the re-tests count as passes', async () => {
    const site = await makeSite(db.pool, { origin: origin.url });
    const node = await makeNode(db.pool, { siteId: site.id, publicUrl: rogue.url, status: 'active' });
    const first = await firstTamper(node, site.id);
    rogue.setKind(null);
    expect(first.confirmation).toBe('unconfirmed');
    const retests = await waitFor('both re-tests done', async () => {
      const r = (await audits(node)).filter((a) => a.confirms_audit_id === first.id && a.status === 'done');
      return r.length === 2 ? r : null;
    }, 20_000);
    expect(retests.map((r) => r.verdict)).toEqual(['pass', 'pass']);
    expect((await audits(node)).find((a) => a.id === first.id)?.confirmation).toBe('unconfirmed');
    const ids = [first.id, ...retests.map((r) => r.id)];
    // An audit is done (its verdict stored) a moment before its trust event is written.
    const kinds = await waitFor('the re-tests\' trust events', async () => {
      const r = await db.pool.query<{ kind: string; confirmation: string | null }>('SELECT kind, confirmation FROM trust_events WHERE audit_id = ANY($1::uuid[]) ORDER BY at', [ids]);
      return r.rows.length === 3 ? r : null;
    }, 5_000);
    expect(kinds.rows).toEqual([{ kind: 'audit_tampered', confirmation: 'unconfirmed' }, { kind: 'audit_pass', confirmation: null }, { kind: 'audit_pass', confirmation: null }]);
  });
});
