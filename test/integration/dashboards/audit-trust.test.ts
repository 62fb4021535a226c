import { describe, expect, it } from 'vitest';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';
import { DASHBOARD_ADMIN_TOKEN, useDashboard } from '../../support/dashboard-scene.js';
import { dashboardClient } from '../../support/dashboard-client.js';
import { useTestDatabase } from '../../support/db.js';
import { seedFleet } from '../../support/seed-fleet.js';

// Issue 14.6 (audit report): confirmations and the trust model on the dashboard's audit page.

const db = useTestDatabase();
const scene = useDashboard(db);

describe('audit report: confirmation and trust', () => {
  it('shows how sure a verdict is, its confirmation audits, the one it re-tests, and what it did to trust', async () => {
    const fleet = await seedFleet(db.pool, Date.now());
    await db.pool.query("UPDATE audits SET confirmation = 'confirmed', summary = summary || '{\"originRenders\": 4, \"visitor\": {\"family\": \"firefox\", \"language\": \"pl-PL\", \"navigation\": \"same-origin\"}}' WHERE id = $1", [fleet.tamperedAuditId]);
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO audits (node_id, site_id, url, reason, status, verdict, confirmation, confirms_audit_id, finished_at)
       SELECT node_id, site_id, url, 'confirm', 'done', 'tampered', 'confirmed', id, now() FROM audits WHERE id = $1 RETURNING id`,
      [fleet.tamperedAuditId],
    );
    const confirmId = rows[0]?.id ?? '';
    await recordTrustEvent(db.pool, fleet.rogueId, { kind: 'audit_tampered', severity: 'high', confirmation: 'confirmed', reason: 'confirmation', auditId: confirmId });
    const c = dashboardClient(scene.cp.url);
    await c.login(DASHBOARD_ADMIN_TOKEN);
    const original = await (await c.get(`/audits/${fleet.tamperedAuditId}`)).text();
    expect(original).toContain('Confirmation and trust');
    expect(original).toMatch(/confirmation-confirmed">confirmed<\/strong> — A confirmation audit repeated the verdict/);
    expect(original).toContain(`href="/audits/${confirmId}"`);
    expect(original).toContain('4 (its own variance learned from them; fresh contexts)');
    expect(original).toContain('firefox, pl-PL, arriving same-origin');
    const retest = await (await c.get(`/audits/${confirmId}`)).text();
    expect(retest).toContain(`href="/audits/${fleet.tamperedAuditId}"`);
    expect(retest).toMatch(/audit_tampered \(confirmed\): integrity \d+%/);
  });
});
