import { describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { loadNodeStanding } from '../../../balancer/control/node-standing.js';
import { dashboardPlugin } from '../../../dashboards/plugin.js';
import { startNodeTrafficRecorder } from '../../../common/db/node-traffic-recorder.js';
import { silentLogger } from '../../../common/log.js';
import { insertTestNode, insertTestSite } from '../../support/balancer-harness.js';
import { startControlPlane } from '../../support/control-harness.js';
import { useTestDatabase } from '../../support/db.js';

// The credit ledger: the balancer's per-node recorder adds verified bytes per UTC day and site
// (several balancers add into the same rows); admins see a leaderboard, volunteers their own.

const db = useTestDatabase();
const DAY = 86_400_000;

describe('credit ledger', () => {
  it('adds verified bytes per node, site and day, and ranks nodes for admins', async () => {
    const a = await insertTestSite(db.pool, { host: 'a.test', origin: 'http://127.0.0.1:9' });
    const b = await insertTestSite(db.pool, { host: 'b.test', origin: 'http://127.0.0.1:9' });
    const big = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [a, b], name: 'big-giver' });
    const small = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [a], name: 'small-giver' });
    let now = Date.parse('2030-01-30T12:00:00Z');
    // Two balancers' recorders, one database.
    const one = startNodeTrafficRecorder({ db: db.pool, log: silentLogger(), now: () => now, intervalMs: 60_000 });
    const two = startNodeTrafficRecorder({ db: db.pool, log: silentLogger(), now: () => now, intervalMs: 60_000 });
    one.credit(big, a, 3_000_000);
    two.credit(big, a, 1_000_000);
    one.credit(big, b, 500_000);
    one.credit(small, a, 200_000);
    await Promise.all([one.flush(true), two.flush(true)]);
    now += DAY;
    one.credit(big, a, 2_000_000);
    await one.stop();
    await two.stop();
    const { rows } = await db.pool.query<{ node_id: string; host: string; day: string; bytes: string; requests: string }>(
      "SELECT c.node_id, s.host, to_char(c.day, 'YYYY-MM-DD') AS day, c.bytes::text, c.requests::text FROM node_credit c JOIN sites s ON s.id = c.site_id ORDER BY c.node_id = $1 DESC, day, host", [big]);
    expect(rows.map((r) => [r.node_id === big ? 'big' : 'small', r.host, r.day, Number(r.bytes), Number(r.requests)])).toEqual([
      ['big', 'a.test', '2030-01-30', 4_000_000, 2], ['big', 'b.test', '2030-01-30', 500_000, 1], ['big', 'a.test', '2030-01-31', 2_000_000, 1],
      ['small', 'a.test', '2030-01-30', 200_000, 1],
    ]);

    const cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], adminToken: 'credit-admin-token-0123456789', now: () => now });
    try {
      const html = await (await fetch(`${cp.url}/credit?period=7d`, { headers: { authorization: 'Bearer credit-admin-token-0123456789' } })).text();
      const order = [...html.matchAll(/<tr data-node-id="([0-9a-f]+)">.*?data-bytes="(\d+)"/gs)].map((m) => [m[1] === big ? 'big' : 'small', Number(m[2])]);
      expect(order).toEqual([['big', 6_500_000], ['small', 200_000]]);
      expect(html).toContain('6.50 MB');
    } finally {
      await cp.close();
    }
    // The volunteer's standing: this month per site, and all time.
    const standing = await loadNodeStanding(db.pool, big, now, { heartbeatIntervalMs: 5000, secret: 's' });
    expect(standing.credit).toEqual({ month: [{ site: 'a.test', bytes: 6_000_000, requests: 3 }, { site: 'b.test', bytes: 500_000, requests: 1 }], totalBytes: 6_500_000 });
  });
});
