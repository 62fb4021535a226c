import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAuditor, type RunningAuditor } from '../../../auditor/app.js';
import { silentLogger } from '../../../common/log.js';
import { useTestDatabase } from '../../support/db.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { makeNode, makeSite, waitFor } from '../../support/auditor/fixtures.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// The worker against real PostgreSQL, a real origin and real nodes (no browser here: the
// rendered checks have their own browser tests).

const db = useTestDatabase();
let origin: SampleOrigin;
let rogue: RogueNode;
let honest: RogueNode;
const auditors: RunningAuditor[] = [];

const settings = {
  concurrency: 2, auditEverySeconds: 4, balancerUrl: null, auditSecret: 'x'.repeat(32), recycleEvery: 50,
  loadTimeoutMs: 5000, stepTimeoutMs: 5000, settleMs: 100, auditTimeoutMs: 20_000, browser: false, pollMs: 100,
  confirmationWindowsMs: [[100, 300], [300, 600]] as const, thinkTimeMs: [50, 200] as const,
};

beforeEach(async () => {
  origin = await startSampleOrigin();
  rogue = await startRogueNode({ originUrl: origin.url, kind: 'script-injection', rate: 0.3, random: seededRandom(99) });
  honest = await startRogueNode({ originUrl: origin.url, kind: 'stale-cache' });
});

afterEach(async () => {
  await Promise.all(auditors.splice(0).map((a) => a.stop()));
  await rogue.close();
  await honest.close();
  await origin.close();
});

async function status(id: string): Promise<string> {
  return (await db.pool.query<{ status: string }>('SELECT status FROM nodes WHERE id = $1', [id])).rows[0]?.status ?? '';
}

describe('audit worker', () => {
  it('quarantines a node that tampers with 30% of pages once a confirmation audit repeats it, and leaves an honest one alone', async () => {
    const site = await makeSite(db.pool, { origin: origin.url });
    await db.pool.query("INSERT INTO url_samples (site_id, path, hits) VALUES ($1, '/', 50), ($1, '/products', 20), ($1, '/news', 10)", [site.id]);
    const bad = await makeNode(db.pool, { siteId: site.id, publicUrl: rogue.url, name: 'rogue-1' });
    const good = await makeNode(db.pool, { siteId: site.id, publicUrl: honest.url, name: 'honest-1' });
    auditors.push(await startAuditor(settings, { pool: db.pool, log: silentLogger(), random: seededRandom(1) }));
    await waitFor('the rogue node quarantined', async () => (await status(bad)) === 'quarantined');
    const audits = await db.pool.query<{ verdict: string }>("SELECT verdict FROM audits WHERE node_id = $1 AND status = 'done' ORDER BY finished_at", [bad]);
    // Confirmation audits included: an unconfirmed verdict alone never quarantines.
    expect(audits.rows.length).toBeLessThanOrEqual(40);
    const events = await db.pool.query<{ kind: string; audit_id: string | null; reason: string }>("SELECT kind, audit_id, reason FROM trust_events WHERE node_id = $1 AND kind = 'audit_tampered'", [bad]);
    expect(events.rows.length).toBeGreaterThan(0);
    expect(events.rows[0]?.audit_id).toBeTruthy();
    expect(events.rows[0]?.reason).toMatch(/script/);
    const evidence = await db.pool.query<{ kind: string; body: Buffer }>("SELECT e.kind, e.body FROM evidence e JOIN audits a ON a.id = e.audit_id WHERE a.node_id = $1 AND e.kind = 'fragments'", [bad]);
    expect(JSON.parse(evidence.rows[0]?.body.toString() ?? '[]')[0]).toMatchObject({ kind: 'script_added', node: expect.stringContaining('evil-analytics') });
    await waitFor('honest node audited 4 times', async () => Number((await db.pool.query("SELECT count(*) AS n FROM audits WHERE node_id = $1 AND status = 'done'", [good])).rows[0]?.n) >= 4);
    const honestVerdicts = await db.pool.query<{ verdict: string }>("SELECT verdict FROM audits WHERE node_id = $1 AND status = 'done'", [good]);
    expect(honestVerdicts.rows.map((r) => r.verdict)).not.toContain('tampered');
    expect(await status(good)).not.toBe('quarantined');
  });

  it('shares the queue between auditor processes without running an audit twice, and picks up shadow audits', async () => {
    const site = await makeSite(db.pool, { origin: origin.url });
    const nodes = await Promise.all([1, 2, 3].map((i) => makeNode(db.pool, { siteId: site.id, publicUrl: honest.url, name: `n${i}` })));
    await db.pool.query("INSERT INTO audits (node_id, site_id, url, reason) VALUES ($1, $2, '/about', 'shadow')", [nodes[0], site.id]);
    for (const name of ['a', 'b']) auditors.push(await startAuditor({ ...settings, workerName: name }, { pool: db.pool, log: silentLogger(), random: seededRandom(name.charCodeAt(0)) }));
    await waitFor('a scheduled audit pending for node 2', async () => Number((await db.pool.query("SELECT count(*) AS n FROM audits WHERE node_id = $1 AND reason IN ('scheduled','probation')", [nodes[1]])).rows[0]?.n) > 0);
    // An admin rescan from the dashboard is a plain insert: it must not collide with the schedule.
    await db.pool.query("INSERT INTO audits (node_id, site_id, url, reason) VALUES ($1, $2, '/contact', 'rescan')", [nodes[1], site.id]);
    await waitFor('12 audits done', async () => Number((await db.pool.query("SELECT count(*) AS n FROM audits WHERE status = 'done'")).rows[0]?.n) >= 12);
    await Promise.all(auditors.splice(0).map((a) => a.stop()));
    const done = await db.pool.query<{ n: number; workers: number }>("SELECT count(*)::int AS n, count(DISTINCT worker)::int AS workers FROM audits WHERE status = 'done'");
    const events = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM trust_events WHERE audit_id IS NOT NULL");
    expect(events.rows[0]?.n).toBe(done.rows[0]?.n);
    expect(done.rows[0]?.workers).toBe(2);
    const shadow = await db.pool.query<{ verdict: string }>("SELECT verdict FROM audits WHERE reason IN ('shadow', 'rescan') ORDER BY reason");
    expect(shadow.rows.map((r) => r.verdict)).toEqual(['pass', 'pass']);
    const pending = await db.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM audits WHERE status <> 'done' AND reason IN ('scheduled','probation') GROUP BY node_id, site_id ORDER BY 1 DESC LIMIT 1");
    expect(pending.rows[0]?.n ?? 0).toBeLessThanOrEqual(1);
  });
});
