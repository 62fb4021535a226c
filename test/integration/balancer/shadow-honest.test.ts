import { Agent } from 'node:http';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../common/log.js';
import { SOAK_SITE_HOST, startCluster } from '../../../bench/soak/cluster.js';
import { visit } from '../../../bench/soak/visit.js';

// Found by the resilience soak: shadow sampling must not strike an honest caching node whose
// page has parts that rotate among a few values (the sample origin's quote of the day), which
// two origin copies often agree on by chance. Real processes: balancer, node, origin, PostgreSQL.

describe('shadow sampling of an honest node', () => {
  it('samples every page and strikes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verity-shadow-honest-'));
    chmodSync(dir, 0o755);
    const cluster = await startCluster({ dir, log: silentLogger(), balancers: 1, honestNodes: 1, turncoat: false, balancerArgs: ['--shadow-share', '1'], startTimeoutMs: 120_000 });
    try {
      const balancer = cluster.balancers[0];
      if (!balancer) throw new Error('no balancer');
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      let byNode = 0;
      for (let i = 0; i < 80; i++) {
        const r = await visit({ baseUrl: balancer.publicUrl, host: SOAK_SITE_HOST, path: '/', agent, timeoutMs: 10_000 });
        if (r.kind === 'response' && r.servedBy !== 'origin') byNode++;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      agent.destroy();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const { rows } = await cluster.pool.query<{ reason: string }>("SELECT reason FROM trust_events WHERE kind = 'shadow_mismatch'");
      expect(byNode).toBeGreaterThan(40);
      expect(rows.map((r) => r.reason)).toEqual([]);
    } finally {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
