import { describe, expect, it } from 'vitest';
import { AUDIT_PIN_HEADER, signAuditPin } from '../../../common/protocol/audit-pin.js';
import { visit, waitPublished } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';

// Per-node traffic for the dashboard: what the balancer proxied lands in node_traffic.

const db = useTestDatabase();
const scene = useBalancerScene(db);

async function traffic(nodeId: string, audit = false): Promise<{ requests: number; errors: number; p50: number | null }> {
  const { rows } = await db.pool.query<{ requests: string | null; errors: string | null; p50: number | null }>(
    'SELECT sum(requests)::text AS requests, sum(errors)::text AS errors, max(p50_ms) AS p50 FROM node_traffic WHERE node_id = $1 AND audit = $2', [nodeId, audit]);
  return { requests: Number(rows[0]?.requests ?? 0), errors: Number(rows[0]?.errors ?? 0), p50: rows[0]?.p50 ?? null };
}

describe('node traffic', () => {
  it('responses a node served are counted for it, with latency', async () => {
    const { bal, ids, siteId } = await scene.setup(['honest']);
    for (const p of ['/page', '/big.bin']) await waitPublished(bal, siteId, p, SCENE_HOST);
    for (let i = 0; i < 6; i++) {
      const r = await visit(bal.publicUrl, i % 2 ? '/page' : '/big.bin', { host: SCENE_HOST });
      expect(r.headers['x-verity-node']).toBe(ids[0]);
    }
    // Closing writes every minute still open.
    await bal.close();
    const t = await traffic(ids[0] ?? '');
    expect(t).toMatchObject({ requests: 6, errors: 0 });
    expect(t.p50).not.toBeNull();
  }, 30_000);

  it('requests the auditor pinned to a node are counted as audits, apart from visitors; a forged pin counts nowhere', async () => {
    const { bal, ids, siteId } = await scene.setup(['honest']);
    const node = ids[0] ?? '';
    await waitPublished(bal, siteId, '/page', SCENE_HOST);
    expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node']).toBe(node);
    for (let i = 0; i < 3; i++) {
      const pin = signAuditPin(bal.auditSecret, { nodeId: node, host: SCENE_HOST, path: '/page', clientIp: '81.2.69.142' });
      const r = await visit(bal.publicUrl, '/page', { host: SCENE_HOST, headers: { [AUDIT_PIN_HEADER]: pin } });
      expect(r.headers['x-verity-node']).toBe(node);
    }
    const forged = signAuditPin('not-the-secret-0123456789abcdef', { nodeId: node, host: SCENE_HOST, path: '/page', clientIp: '81.2.69.142' });
    expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST, headers: { [AUDIT_PIN_HEADER]: forged } })).status).toBe(403);
    await bal.close();
    expect(await traffic(node)).toMatchObject({ requests: 1, errors: 0 });
    expect(await traffic(node, true)).toMatchObject({ requests: 3, errors: 0 });
  }, 30_000);

  it('a failing node is counted with errors', async () => {
    const { bal, ids, siteId } = await scene.setup(['error500']);
    await waitPublished(bal, siteId, '/page', SCENE_HOST);
    const r = await visit(bal.publicUrl, '/page', { host: SCENE_HOST });
    expect(r.headers['x-verity-node']).toBe('origin');
    await bal.close();
    const t = await traffic(ids[0] ?? '');
    expect(t.requests).toBeGreaterThanOrEqual(1);
    expect(t.errors).toBe(t.requests);
  }, 30_000);
});
