import { describe, expect, it } from 'vitest';
import { applyNodeAction } from '../../../common/db/queries/admin-actions.js';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { spawnNode, useNodeProcesses } from '../../support/node-process.js';

// A banned node stops serving and says why, whether the ban comes while it runs or while it is down.

const db = useTestDatabase();
const { start, controlPlane, track } = useNodeProcesses(db);

describe('verity node and a ban', () => {
  it('refuses to start, with one line, when the node was banned while it was down', async () => {
    const cp = await controlPlane();
    const { token } = await makeSiteWithToken(db.pool);
    const first = start(cp.url, token);
    const ready = await first.ready();
    expect(await first.stop()).toBe(0);
    await applyNodeAction(db.pool, ready.nodeId, 'ban', 'served a tampered page', 'admin');
    const again = spawnNode(first.args);
    track(again);
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
