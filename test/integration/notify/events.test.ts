import { describe, expect, it } from 'vitest';
import { sweepOfflineNodes } from '../../../balancer/control/offline-sweeper.js';
import { startNotifier } from '../../../balancer/notify/worker.js';
import { notifyCertificateTrouble } from '../../../common/db/queries/notifications.js';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';
import { silentLogger } from '../../../common/log.js';
import { insertTestNode, insertTestSite } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';

// Where each kind of event comes from: the offline sweeper and resumed heartbeats, a critical
// finding, the audit backlog, and the HTTPS code's certificate trouble, each written once.

const db = useTestDatabase();

async function events(): Promise<{ kind: string; site_host: string | null; node_id: string | null; reason: string }[]> {
  return (await db.pool.query<{ kind: string; site_host: string | null; node_id: string | null; reason: string }>('SELECT kind, site_host, node_id, reason FROM notification_events ORDER BY id')).rows;
}

describe('notification events', () => {
  it('node.offline from the sweeper, node.back when heartbeats resume', async () => {
    const site = await insertTestSite(db.pool, { host: 'ev.test', origin: 'http://127.0.0.1:9' });
    const node = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [site] });
    await db.pool.query("UPDATE nodes SET last_seen_at = now() - interval '5 minutes' WHERE id = $1", [node]);
    expect(await sweepOfflineNodes({ pool: db.pool, log: silentLogger(), now: Date.now }, 30_000)).toEqual([node]);
    await recordTrustEvent(db.pool, node, { kind: 'heartbeat_resumed', reason: 'heartbeats resumed' });
    // A penalty that changes no status notifies nobody.
    await recordTrustEvent(db.pool, node, { kind: 'health_fail', reason: 'probe timed out' });
    expect((await events()).map((e) => [e.kind, e.node_id])).toEqual([['node.offline', node], ['node.back', node]]);
  });

  it('finding.critical with the audit\'s site, node and page', async () => {
    const site = await insertTestSite(db.pool, { host: 'crit.test', origin: 'http://127.0.0.1:9' });
    const node = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [site] });
    const { rows } = await db.pool.query<{ id: string }>("INSERT INTO audits (node_id, site_id, url) VALUES ($1, $2, '/pay') RETURNING id", [node, site]);
    await db.pool.query("INSERT INTO findings (audit_id, kind, severity, summary) VALUES ($1, 'form_action', 'critical', 'the payment form posts elsewhere'), ($1, 'text', 'low', 'a word changed')", [rows[0]?.id]);
    expect(await events()).toEqual([{ kind: 'finding.critical', site_host: 'crit.test', node_id: node, reason: 'the payment form posts elsewhere (form_action at /pay)' }]);
  });

  it('audit.backlog once while the backlog lasts; certificate.trouble at most every 6 hours per site', async () => {
    const site = await insertTestSite(db.pool, { host: 'late.test', origin: 'http://127.0.0.1:9' });
    const node = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [site] });
    const queue = (url: string) => db.pool.query("INSERT INTO audits (node_id, site_id, url, reason, run_after) VALUES ($1, $2, $3, 'rescan', now() - interval '10 minutes')", [node, site, url]);
    for (const url of ['/a', '/b', '/c']) await queue(url);
    const notifier = startNotifier({ pool: db.pool, log: silentLogger(), now: Date.now, mailer: null, checkUrl: async () => null }, { pollMs: 60_000, backlogThreshold: 4 });
    await notifier.tick();
    expect(await events()).toEqual([]);
    await queue('/d');
    await notifier.tick();
    await notifier.tick();
    await notifier.stop();
    expect((await events()).map((e) => e.kind)).toEqual(['audit.backlog']);
    expect((await events())[0]?.reason).toMatch(/^4 audits are waiting more than 60 s/);
    const now = new Date();
    expect(await notifyCertificateTrouble(db.pool, { siteId: site, reason: 'renewal failed: rate limited', now })).toBe(true);
    expect(await notifyCertificateTrouble(db.pool, { siteId: site, reason: 'renewal failed again', now: new Date(now.getTime() + 3600_000) })).toBe(false);
    expect(await notifyCertificateTrouble(db.pool, { siteId: site, reason: 'expires in 3 days', now: new Date(now.getTime() + 7 * 3600_000) })).toBe(true);
    expect((await events()).filter((e) => e.kind === 'certificate.trouble').map((e) => [e.site_host, e.reason])).toEqual([['late.test', 'renewal failed: rate limited'], ['late.test', 'expires in 3 days']]);
  });
});
