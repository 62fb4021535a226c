import { describe, expect, it } from 'vitest';
import { controlPlugins } from '../../../balancer/control/plugins.js';
import { startBalancer } from '../../support/balancer-harness.js';
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

  it("pointed at the balancer's public port, asks whether --balancer is the control-plane URL", async () => {
    const bal = await startBalancer({ pool: db.pool, plugins: controlPlugins });
    cleanup(() => bal.close());
    const p = start(bal.publicUrl, 'vjt_x');
    expect(await p.exited).toBe(1);
    expect(p.stderr().trim().split('\n')).toHaveLength(1);
    expect(p.stderr()).toContain(`error NODE_ERR_BAD_ANSWER: ${bal.publicUrl} answered challenge with HTTP 421 (misdirected request): is this the control-plane URL?`);
  });

  it('told its loopback URL is refused, learns that allowing it is a balancer setting', async () => {
    const bal = await startBalancer({ pool: db.pool, plugins: controlPlugins, config: { allowPrivateNodeUrls: false } });
    cleanup(() => bal.close());
    const { token } = await makeSiteWithToken(db.pool);
    const p = start(bal.controlUrl, token);
    expect(await p.exited).toBe(1);
    expect(p.stderr().trim().split('\n')).toHaveLength(1);
    expect(p.stderr()).toMatch(/^error NODE_ERR_URL_REFUSED: .*127\.0\.0\.1 is a loopback address; nodes must have a public address \(a balancer setting allows private ones for local trials: start the balancer with VERITY_ALLOW_PRIVATE_NODE_URLS=1\)/);
  });

});
