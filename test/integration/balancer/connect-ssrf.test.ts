import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions, type Logger } from '../../../common/log.js';
import { insertTestNode, visit, waitFor, waitPublished } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode } from '../../support/hostile-node.js';

// Node addresses are checked again at connect time: a node whose name resolved to a public
// address when it registered, and now resolves to 127.0.0.1 (DNS rebinding), gets no
// connection from the balancer: the attempt fails like a connect error (another node serves
// the visitor) and the refusal is logged.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const REBOUND = 'rebound-node.test';

function capturingLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: pino(loggerOptions({ level: 'warn', name: 'balancer', pretty: false }), sink), lines };
}

async function sceneWithReboundNode(allowPrivateNodeUrls: boolean, log: Logger, health = false) {
  const resolved: string[] = [];
  // Injected resolver: the name now points at loopback (no /etc/hosts, no DNS).
  const resolveHost = (host: string): Promise<string[]> => {
    resolved.push(host);
    return Promise.resolve(host === REBOUND ? ['127.0.0.1'] : []);
  };
  const { bal, siteId } = await scene.setup([], {
    log, config: { allowPrivateNodeUrls, healthInterval: 200 }, deps: { resolveHost, background: { health, siteRefresh: true } },
  });
  const node = scene.track(await startHostileNode({ origin: scene.origin.url }));
  const url = new URL(node.url);
  url.hostname = REBOUND;
  const id = await insertTestNode(db.pool, { url: url.href, siteIds: [siteId] });
  // A second node on a literal address (checked at registration only; inserted here).
  const other = scene.track(await startHostileNode({ origin: scene.origin.url }));
  const otherId = await insertTestNode(db.pool, { url: other.url, siteIds: [siteId] });
  await waitFor(() => bal.balancer.runtime.table.nodeCount > 1);
  await waitPublished(bal, siteId, '/page', SCENE_HOST);
  return { bal, node, id, otherId, resolved };
}

describe('connect-time address check', () => {
  it('refuses to connect to a node whose name now resolves to a loopback address', async () => {
    const { log, lines } = capturingLogger();
    const { bal, node, otherId, resolved } = await sceneWithReboundNode(false, log);
    // The pick is random: visit until the rebound node was tried (bounded).
    for (let i = 0; i < 30 && !resolved.includes(REBOUND); i++) {
      const r = await visit(bal.publicUrl, '/page', { host: SCENE_HOST });
      expect(r.status).toBe(200);
      expect(r.headers['x-verity-node']).toBe(otherId);
    }
    expect(resolved).toContain(REBOUND);
    expect(node.requests).toHaveLength(0);
    expect(node.openSockets()).toBe(0);
    const refusal = lines.map((l) => JSON.parse(l) as { msg: string; node?: { host: string; address: string } }).find((l) => l.msg.includes('forbidden address'));
    expect(refusal?.node).toMatchObject({ host: REBOUND, address: '127.0.0.1' });
  }, 30_000);

  it('connects through the same resolver when private node URLs are allowed', async () => {
    const { log } = capturingLogger();
    const { bal, node, id } = await sceneWithReboundNode(true, log);
    const servedBy = new Set<string>();
    for (let i = 0; i < 30 && !servedBy.has(id); i++) servedBy.add(String((await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node']));
    expect(servedBy).toContain(id);
    expect(node.requests.length).toBeGreaterThan(0);
  }, 30_000);

  it('health probes go through the same check: the rebound node is probed never, and found unhealthy', async () => {
    const { log } = capturingLogger();
    const { bal, node, id, otherId, resolved } = await sceneWithReboundNode(false, log, true);
    const rt = bal.balancer.runtime;
    await waitFor(() => rt.unhealthy.has(id), 15_000, 100);
    expect(resolved).toContain(REBOUND);
    expect(rt.unhealthy.has(otherId)).toBe(false);
    expect(node.openSockets()).toBe(0);
  }, 30_000);
});
