import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { spawnNode, useNodeProcesses } from '../../support/node-process.js';

// A volunteer restarts the real `verity node` without --name and --location: it keeps both
// (remembered in the data directory) instead of becoming the host name with no location.

const db = useTestDatabase();
const nodes = useNodeProcesses(db);

async function row(id: string) {
  const { rows } = await db.pool.query<{ name: string; declared_lat: number | null; declared_lon: number | null }>('SELECT name, declared_lat, declared_lon FROM nodes WHERE id = $1', [id]);
  return rows[0];
}

describe('verity node restarted without --name and --location', () => {
  it('keeps the name and location given earlier, and takes new ones when given', async () => {
    const cp = await nodes.controlPlane();
    const { token } = await makeSiteWithToken(db.pool, { uses: 1 });
    const args = ['--balancer', cp.url, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', nodes.dataDir()];
    const named = nodes.track(spawnNode([...args, '--token', token, '--name', 'attic-box', '--location', '50.11,8.68']));
    const { nodeId } = await named.ready();
    expect(await row(nodeId)).toEqual({ name: 'attic-box', declared_lat: 50.11, declared_lon: 8.68 });
    expect(await named.stop()).toBe(0);

    const plain = nodes.track(spawnNode(args));
    expect((await plain.ready()).nodeId).toBe(nodeId);
    expect(await row(nodeId)).toEqual({ name: 'attic-box', declared_lat: 50.11, declared_lon: 8.68 });
    expect(hostname()).not.toBe('attic-box');
    expect(await plain.stop()).toBe(0);

    const renamed = nodes.track(spawnNode([...args, '--name', 'cellar-box']));
    await renamed.ready();
    expect(await row(nodeId)).toEqual({ name: 'cellar-box', declared_lat: 50.11, declared_lon: 8.68 });
    expect(await renamed.stop()).toBe(0);
    const again = nodes.track(spawnNode(args));
    await again.ready();
    expect((await row(nodeId))?.name).toBe('cellar-box');
  });
});
