import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startAuditor, type RunningAuditor } from '../../../auditor/app.js';
import { nodeApiPlugin } from '../../../balancer/control/node-api.js';
import { NODE_CHANGED_CHANNEL } from '../../../common/db/queries/trust.js';
import { silentLogger } from '../../../common/log.js';
import { startBalancer, testAuditSecret, visit, warmPublications, type StartedBalancer } from '../balancer-harness.js';
import type { TestDatabase } from '../db.js';
import { makeSiteWithToken } from '../node-fixtures.js';
import { spawnNode, type NodeProcess } from '../node-process.js';
import { startRogueNode, type RogueNode } from '../rogue-node.js';
import { waitFor } from './fixtures.js';
import { seededRandom } from './seeded.js';
import { freePort } from '../ports.js';

// A real `verity node` enrolled with a real balancer, behind a doctoring proxy that is its public
// address (the balancer proxies to it; it relays to the node and applies one kind of the corpus),
// and a rendering auditor that reaches it only through the balancer with signed pins.

export interface RealNodeScene {
  balancer: StartedBalancer;
  proxy: RogueNode;
  node: NodeProcess;
  nodeId: string;
  siteId: string;
  auditor: RunningAuditor;
  /** Queues one audit of `path`, waits for it, and puts the node back to active (trust is not under test). */
  audit(path: string): Promise<{ verdict: string; findings: string[]; reason: string; originRenders: number }>;
}

export function useRealNodeScene(db: TestDatabase, originUrl: () => string, host = 'shop.example'): RealNodeScene {
  const scene = {} as RealNodeScene;
  let dir = '';
  beforeAll(async () => {
    scene.balancer = await startBalancer({ pool: db.pool, plugins: [nodeApiPlugin] });
    const { site, token } = await makeSiteWithToken(db.pool, { host, origin: originUrl() });
    scene.siteId = site.id;
    // Pages that change on every fetch: the site lets nodes serve them (sampled), which is what audits are for.
    await db.pool.query("UPDATE sites SET dynamic_policy = 'sampled' WHERE id = $1", [site.id]);
    const nodePort = await freePort();
    scene.proxy = await startRogueNode({ originUrl: `http://127.0.0.1:${nodePort}`, preserveHost: true });
    dir = mkdtempSync(join(tmpdir(), 'verity-careful-node-'));
    scene.node = spawnNode(['--balancer', scene.balancer.controlUrl, '--token', token, '--listen', `127.0.0.1:${nodePort}`, '--public-url', scene.proxy.url, '--status-listen', '127.0.0.1:0', '--data-dir', dir]);
    scene.nodeId = (await scene.node.ready()).nodeId;
    await waitFor('the balancer routing to the node', async () => (await visit(scene.balancer.publicUrl, '/', { host })).headers['x-verity-node'] === scene.nodeId, 30_000);
    scene.auditor = await startAuditor({
      concurrency: 1, auditEverySeconds: 3600, balancerUrl: scene.balancer.publicUrl, auditSecret: testAuditSecret, recycleEvery: 50, loadTimeoutMs: 8000,
      stepTimeoutMs: 8000, settleMs: 10_000, auditTimeoutMs: 90_000, browser: true, pollMs: 100, confirmationWindowsMs: [[3_600_000, 3_600_000]],
    }, { pool: db.pool, log: silentLogger(), random: seededRandom(31) });
  });
  afterAll(async () => {
    await scene.auditor?.stop();
    await scene.node?.stop();
    await scene.proxy?.close();
    await scene.balancer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  scene.audit = async (path) => {
    // As the site's first visitors would: afterwards the origin has published the page.
    await warmPublications(scene.balancer, host, [path]);
    const { rows } = await db.pool.query<{ id: string }>("INSERT INTO audits (node_id, site_id, url, reason) VALUES ($1, $2, $3, 'rescan') RETURNING id", [scene.nodeId, scene.siteId, path]);
    const id = rows[0]?.id ?? '';
    const done = await waitFor(`the audit of ${path}`, async () => (await db.pool.query<{ verdict: string; reason: string; renders: number | null }>("SELECT verdict, summary->>'reason' AS reason, (summary->>'originRenders')::int AS renders FROM audits WHERE id = $1 AND status = 'done'", [id])).rows[0], 120_000, 200);
    const findings = (await db.pool.query<{ kind: string; severity: string }>('SELECT kind, severity FROM findings WHERE audit_id = $1', [id])).rows;
    await db.pool.query("UPDATE nodes SET status = 'active', integrity_alpha = 20, integrity_beta = 1, integrity = 0.95 WHERE id = $1", [scene.nodeId]);
    await db.pool.query('SELECT pg_notify($1, $2)', [NODE_CHANGED_CHANNEL, scene.nodeId]);
    return { verdict: done.verdict, reason: done.reason, originRenders: done.renders ?? 0, findings: findings.filter((f) => f.severity !== 'low').map((f) => f.kind) };
  };
  return scene;
}
