import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { useNodeProcesses } from '../../support/node-process.js';
import { startOriginServer } from '../../support/origin-server.js';

// What a volunteer sees when things go wrong: one clear line each and a non-zero exit
// (an unreachable balancer is retried instead: node-retry.test.ts).

const db = useTestDatabase();
const { start, controlPlane, cleanup } = useNodeProcesses(db);

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
    cleanup(() => notBalancer.close());
    const p = start(notBalancer.url, 'vjt_x');
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/^error NODE_ERR_BAD_ANSWER: .*is not JSON/);
  });

});
