import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';
import { dashboardPlugin } from '../../../dashboards/plugin.js';
import { startControlPlane, type ControlPlane } from '../../support/control-harness.js';
import { dashboardClient } from '../../support/dashboard-client.js';
import { useTestDatabase } from '../../support/db.js';
import { seedFleet } from '../../support/seed-fleet.js';

// Issue 14.6 (audit report): confirmations and the trust model on the dashboard's audit page.

const ADMIN_TOKEN = 'dash-admin-token-0123456789abcdef';
const db = useTestDatabase();
let cp: ControlPlane;
beforeAll(async () => {
  cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], adminToken: ADMIN_TOKEN });
});
afterAll(async () => {
  await cp.close();
});

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
    const c = dashboardClient(cp.url);
    await c.login(ADMIN_TOKEN);
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
