import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistrySync } from '../../../balancer/registry/sync.js';
import { RoutingTable } from '../../../balancer/registry/table.js';
import { createPool, type Pool, type PoolClient } from '../../../common/db/pool.js';
import { silentLogger } from '../../../common/log.js';
import { useTestDatabase } from '../../support/db.js';

// The LISTEN client goes back to the pool on close; it must not carry our listeners with it,
// or every later sync on that pool (a resync, the next balancer in a test file) adds more
// (MaxListenersExceededWarning on [Client]).

const db = useTestDatabase();
// Two connections (the LISTEN client and one for loading), so every sync reuses the same clients.
let pool: Pool;
beforeAll(() => {
  pool = createPool({ url: db.url, log: silentLogger(), max: 2, applicationName: 'verity-registry-listeners-test' });
});
afterAll(async () => {
  await pool.end();
});

describe('registry sync listeners', () => {
  it('12 start/close cycles on one pooled client leave no listener of ours behind', async () => {
    const counts = (c: PoolClient): number[] => [c.listenerCount('error'), c.listenerCount('end'), c.listenerCount('notification')];
    const first = [await pool.connect(), await pool.connect()];
    const before = first.map(counts);
    for (const c of first) c.release();
    for (let i = 0; i < 12; i++) {
      const sync = createRegistrySync({ pool, table: new RoutingTable(), log: silentLogger() });
      await sync.start();
      await sync.close();
    }
    const again = [await pool.connect(), await pool.connect()];
    try {
      expect(new Set(again)).toEqual(new Set(first));
      expect(first.map(counts)).toEqual(before);
    } finally {
      for (const c of again) c.release();
    }
  });
});
