// KNOWN BUG, kept out of the default suite (it fails until fixed):
//   npx tsx test/known-bugs/shadow-sampling-strikes-honest-nodes.ts
// exits 0 once fixed, 1 while the bug is there. Found by the resilience soak: honest nodes were
// quarantined mid-run (two shadow strikes suffice after a reinstate), and the origin then served
// every visitor for the rest of the run.
//
// Shadow sampling strikes HONEST nodes. balancer/background/shadow.ts compare() fetches the origin
// once, and when the node's page differs fetches it a second time to learn what changes on its
// own; a part is excused only if the two ORIGIN copies differ. A page with a part that varies
// among a few values (the sample origin's rotating quote: 8 values; "n comments", a featured
// product, A/B text) gives two equal origin copies 1 time in 8 while the node's (cached) copy
// differs: a 'text' mismatch, a shadow_mismatch strike (shadow.ts line ~69), audits queued.
// Suggested fix: a text-only mismatch queues the deep audit but is no strike (the auditor masks
// volatile blocks properly); and/or remember per URL which parts were ever seen to vary between
// origin copies, and compare against more than two copies before striking.
import { Agent } from 'node:http';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/log.js';
import { SOAK_SITE_HOST, startCluster } from '../../bench/soak/cluster.js';
import { visit } from '../../bench/soak/visit.js';

const dir = mkdtempSync(join(tmpdir(), 'verity-shadow-bug-'));
// PostgreSQL runs as its own user and must reach its data directory inside.
chmodSync(dir, 0o755);
// Every public page answer is shadow-sampled; one honest node (no proxy in front of it).
const cluster = await startCluster({ dir, log: silentLogger(), balancers: 1, honestNodes: 1, turncoat: false, balancerArgs: ['--shadow-share', '1'], startTimeoutMs: 120_000 });
let strikes: string[] = [];
try {
  const balancer = cluster.balancers[0];
  if (!balancer) throw new Error('no balancer');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 150; i++) {
    await visit({ baseUrl: balancer.publicUrl, host: SOAK_SITE_HOST, path: '/', agent, timeoutMs: 10_000 });
    // Room for the background comparison (at most 2 in flight, more are dropped).
    await new Promise((r) => setTimeout(r, 40));
  }
  agent.destroy();
  await new Promise((r) => setTimeout(r, 2_000));
  const { rows } = await cluster.pool.query<{ reason: string; status_after: string }>("SELECT reason, status_after FROM trust_events WHERE kind = 'shadow_mismatch' ORDER BY id");
  strikes = rows.map((r) => `${r.reason} → ${r.status_after}`);
} finally {
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${strikes.length} shadow strike(s) against an honest node${strikes.length ? `:\n  ${strikes.join('\n  ')}` : ''}\n`);
process.stdout.write(strikes.length === 0 ? 'ok\n' : 'BUG: an honest node was struck by shadow sampling\n');
process.exit(strikes.length === 0 ? 0 : 1);
