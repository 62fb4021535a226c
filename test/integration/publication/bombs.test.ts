import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { visit, visitPublished, waitFor } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import { prepareBomb, type NodeMode } from '../../support/hostile-node.js';

// Decompression bombs from a node, where the balancer would decode them (a dynamic page the site
// lets nodes serve, whose bytes it cannot hash against the origin's): capped, off the event loop,
// never relayed; the node is struck. Inline verification of stable pages never decodes at all.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const MiB = 1024 * 1024;

describe('decompression bombs from a node', () => {
  it.each(['bomb-br', 'bomb-gzip', 'bomb-deflate'] as NodeMode[])('%s: the visitor gets the origin\'s page; lag < 50 ms, RSS + < 64 MiB', async (mode) => {
    let n = 0;
    scene.origin.set('/news', { body: () => `<!doctype html><html><body><p>edition ${++n}</p></body></html>`, type: 'text/html' });
    const { bal, nodes, ids, siteId } = await scene.setup(['honest'], { config: { shadowShare: 1 } });
    await db.pool.query("UPDATE sites SET dynamic_policy = 'sampled' WHERE id = $1", [siteId]);
    await waitFor(() => bal.balancer.runtime.table.siteById(siteId)?.dynamicPolicy === 'sampled');
    const headers = { 'accept-encoding': 'gzip, deflate, br' };
    expect((await visitPublished(bal, '/news', { host: SCENE_HOST, headers })).headers['x-verity-node']).toBe(ids[0]);
    // The node turns hostile; its bomb is made before we measure (the node runs in this process).
    await prepareBomb(mode.slice(5));
    await new Promise((r) => setTimeout(r, 200));
    nodes[0]?.setMode(mode);
    global.gc?.();
    const rss = process.memoryUsage().rss;
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    for (let i = 0; i < 3; i++) {
      const r = await visit(bal.publicUrl, '/news', { host: SCENE_HOST, headers });
      expect(r.status).toBe(200);
      expect(r.headers['x-verity-node']).toBe('origin');
      expect(r.text).toContain('edition');
    }
    lag.disable();
    // p99 of 5 ms samples: a bomb inflated on the event loop would stall it for seconds; the
    // machine's other work (parallel test files on two cores) adds the odd lone spike.
    expect(lag.percentile(99) / 1e6).toBeLessThan(50);
    expect(lag.max / 1e6).toBeLessThan(500);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * MiB);
    if (mode !== 'bomb-deflate') {
      // A bomb in an encoding the visitor takes is tampering; deflate is never relayed at all.
      await waitFor(async () => (await db.pool.query("SELECT 1 FROM trust_events WHERE node_id = $1 AND kind = 'integrity_mismatch'", [ids[0]])).rowCount);
    }
  });
});
