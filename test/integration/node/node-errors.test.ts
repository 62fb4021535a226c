import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../support/db.js';
import { startNodeControlPlane, type TestControlPlane } from '../../support/node-control-plane.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { spawnNode, type NodeProcess } from '../../support/node-process.js';
import { startOriginServer } from '../../support/origin-server.js';

// What a volunteer sees when things go wrong: one clear line each and a non-zero exit
// (an unreachable balancer is retried instead: node-retry.test.ts).

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

describe('verity node refusals', () => {
  it('exits non-zero with one line when the token was already used', async () => {
    const cp = await controlPlane();
    const { token } = await makeSiteWithToken(db.pool);
    const first = start(cp.url, token);
    await first.ready();
    const second = start(cp.url, token);
    expect(await second.exited).toBe(1);
    expect(second.stderr().trim().split('\n')).toHaveLength(1);
    expect(second.stderr()).toMatch(/^error NODE_ERR_TOKEN_REJECTED: the join token is unknown, already used, revoked or expired/);
  });

  it('exits non-zero with one line when the balancer answers something that is not JSON', async () => {
    const notBalancer = await startOriginServer();
    closers.push(() => notBalancer.close());
    const p = start(notBalancer.url, 'vjt_x');
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/^error NODE_ERR_BAD_ANSWER: .*is not JSON/);
  });

});
