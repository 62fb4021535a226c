import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { insertTestNode, insertTestSite, visit, waitFor } from '../../support/balancer-harness.js';
import { useOriginAndNode } from '../../support/balancer-scene.js';
import { startChild, type Child } from '../../support/child-process.js';
import { useTestDatabase } from '../../support/db.js';

// `verity balancer --workers N` as real processes: the workers share the public port, each
// learns what the origin published (through PostgreSQL), /metrics adds them up, and SIGTERM
// drains them all.

const db = useTestDatabase();
const HOST = 'site.test';
const upstreams = useOriginAndNode();
const children: Child[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await c.exited;
  }
});

function workerPids(parent: number): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(parent)], { encoding: 'utf8' });
  return out.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

describe('verity balancer --workers 2', () => {
  it('two processes share the port, metrics add up across them, SIGTERM drains all and exits 0', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: upstreams.origin.url });
    const nodeId = await insertTestNode(db.pool, { url: upstreams.node.url, siteIds: [siteId] });
    const child = startChild(['bin/verity', 'balancer', '--workers', '2', '--listen', '127.0.0.1:0', '--control-listen', '127.0.0.1:0'], {
      DATABASE_URL: db.url, VERITY_LOG_LEVEL: 'warn', VERITY_AUDIT_SECRET: 'workers-test-secret-0123456789', VERITY_ALLOW_PRIVATE_NODE_URLS: '1',
    });
    children.push(child);
    const url = await child.waitForLine(/^balancer: (\S+)$/m);
    const control = await child.waitForLine(/^control: (\S+)$/m);
    expect(workerPids(child.proc.pid ?? 0)).toHaveLength(2);
    // Every worker learns /page (its own first visitor, or what another stored in PostgreSQL).
    const byNode = await waitFor(async () => {
      let n = 0;
      for (let i = 0; i < 20; i++) if ((await visit(url, '/page', { host: HOST })).headers['x-verity-node'] === nodeId) n++;
      return n >= 16 && n;
    }, 30_000, 100);
    expect(byNode).toBeGreaterThanOrEqual(16);
    const before = upstreams.node.requests.length;
    for (let i = 0; i < 30; i++) expect((await visit(url, '/page', { host: HOST })).status).toBe(200);
    const metrics = (await visit(control, '/metrics', { host: 'localhost' })).text;
    const total = [...metrics.matchAll(/^verity_balancer_requests_total\{outcome="[^"]+"\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(total).toBeGreaterThanOrEqual(30 + byNode);
    expect(upstreams.node.requests.length - before).toBeGreaterThanOrEqual(25);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  }, 90_000);
});
