import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { applyNodeAction } from '../../../common/db/queries/admin-actions.js';
import { useTestDatabase } from '../../support/db.js';
import { startNodeControlPlane, type TestControlPlane } from '../../support/node-control-plane.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { spawnNode, type NodeProcess } from '../../support/node-process.js';

// A banned node stops serving and says why, whether the ban comes while it runs or while it is down.

const db = useTestDatabase();
const dirs: string[] = [];
const procs: NodeProcess[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function start(balancer: string, token: string | null): NodeProcess {
  const dir = mkdtempSync(join(tmpdir(), 'verity-node-data-'));
  dirs.push(dir);
  const args = ['--balancer', balancer, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', dir];
  if (token) args.push('--token', token);
  const p = spawnNode(args);
  procs.push(p);
  return p;
}

async function controlPlane(): Promise<TestControlPlane> {
  const cp = await startNodeControlPlane({ pool: db.pool, heartbeatIntervalMs: 300 });
  closers.push(() => cp.close());
  return cp;
}

describe('verity node and a ban', () => {
  it('refuses to start, with one line, when the node was banned while it was down', async () => {
    const cp = await controlPlane();
    const { token } = await makeSiteWithToken(db.pool);
    const first = start(cp.url, token);
    const ready = await first.ready();
    expect(await first.stop()).toBe(0);
    await applyNodeAction(db.pool, ready.nodeId, 'ban', 'served a tampered page', 'admin');
    const again = spawnNode(first.args);
    procs.push(again);
    expect(await again.exited).toBe(1);
    expect(again.stderr().trim().split('\n')).toHaveLength(1);
    expect(again.stderr()).toMatch(/^error NODE_ERR_REVOKED: this node has been banned/);
  });

  it('stops with one line when the balancer bans it', async () => {
    const cp = await controlPlane();
    const { token } = await makeSiteWithToken(db.pool);
    const p = start(cp.url, token);
    const ready = await p.ready();
    await applyNodeAction(db.pool, ready.nodeId, 'ban', 'served a tampered page', 'admin');
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/error NODE_ERR_REVOKED: this node has been banned/);
  });
});
