import { describe, expect, it } from 'vitest';
import { visit } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { useAuditScene } from '../../support/auditor/through-balancer-scene.js';
import { waitFor } from '../../support/auditor/fixtures.js';

// End to end: the auditor reaches nodes only through the real balancer's public address with a
// signed pin; the node sees an ordinary visitor.

const db = useTestDatabase({ truncate: false });
const scene = useAuditScene(db, {
  rogueKind: 'script-injection', honestKind: 'stale-cache', names: { rogue: 'rogue-e2e', honest: 'honest-e2e' }, seed: 21,
  auditor: { concurrency: 2, auditEverySeconds: 3, recycleEvery: 50, loadTimeoutMs: 5000, stepTimeoutMs: 5000, settleMs: 100, auditTimeoutMs: 20_000, browser: false, pollMs: 100 },
});

const count = async (nodeId: string, verdict: string) =>
  Number((await db.pool.query("SELECT count(*) AS n FROM audits WHERE node_id = $1 AND verdict = $2", [nodeId, verdict])).rows[0]?.n);

describe('audits through the balancer', () => {
  it('catches the rogue node and passes the honest one, with the node seeing a visitor', async () => {
    await waitFor('a tampered audit of the rogue', async () => (await count(scene.rogueId, 'tampered')) >= 1);
    await waitFor('two passes of the honest node', async () => (await count(scene.honestId, 'pass')) >= 2);
    expect(await count(scene.honestId, 'tampered')).toBe(0);
    const summary = (await db.pool.query<{ summary: { via: string } }>("SELECT summary FROM audits WHERE node_id = $1 AND status = 'done' LIMIT 1", [scene.rogueId])).rows[0]?.summary;
    expect(summary?.via).toBe('balancer');
    for (const seen of scene.rogue.stats.seen) {
      const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
      expect(names).not.toContain('x-verity-audit-pin');
      const ua = seen.rawHeaders[seen.rawHeaders.findIndex((h) => h.toLowerCase() === 'user-agent') + 1] ?? '';
      expect(ua).toMatch(/Mozilla\/5\.0/);
      expect(ua).not.toMatch(/Headless/i);
    }
  });

  it('a forged pin gets nothing from the node', async () => {
    const before = scene.rogue.stats.requests;
    const res = await visit(scene.balancer.publicUrl, '/', { host: 'shop.example', headers: { 'x-verity-audit-pin': `v1.${scene.rogueId}.9999999999999.abcdefghijkl.MQ.bad` } });
    expect(res.status).toBe(403);
    expect(scene.rogue.stats.requests).toBe(before);
  });
});
