import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { useNodeProcesses } from '../../support/node-process.js';
import { fixed, startOriginServer } from '../../support/origin-server.js';
import { freePort } from '../../support/ports.js';

// An unreachable or failing balancer is an outage, not an error: the node retries with backoff.

const db = useTestDatabase();
const { start, controlPlane, cleanup } = useNodeProcesses(db);

describe('verity node and an unavailable balancer', () => {
  it('treats a 5xx from the balancer like an outage: retries, does not exit', async () => {
    const down = await startOriginServer({ '/api/v1/node/challenge': fixed('<html>502 Bad Gateway</html>', { 'content-type': 'text/html' }, 502) });
    cleanup(() => down.close());
    const p = start(down.url, 'vjt_x');
    await p.waitFor(/\[FAIL\] balancer reachable .*unavailable \(HTTP 502 to challenge\); retrying in 1 s/);
    await p.waitFor(/retrying in 2 s/);
    expect(p.child.exitCode).toBeNull();
    expect(await p.stop()).toBe(0);
  });

  it('retries an unreachable balancer with backoff and enrolls once it answers', async () => {
    const port = await freePort();
    const { token } = await makeSiteWithToken(db.pool);
    const p = start(`http://127.0.0.1:${port}`, token);
    await p.waitFor(/\[FAIL\] balancer reachable .*cannot be reached.*retrying in 1 s/);
    await controlPlane(port);
    const ready = await p.ready();
    expect(ready.nodeId).toMatch(/^[0-9a-f]{32}$/);
    expect(await p.stop()).toBe(0);
  });

});
