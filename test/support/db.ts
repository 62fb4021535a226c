import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { createPool, type Pool } from '../../common/db/pool.js';
import { silentLogger } from '../../common/log.js';

export interface TestDatabase {
  /** The pool of this file's own database. */
  readonly pool: Pool;
  /** Connection string of this file's own database. */
  readonly url: string;
  /** Server-level connection string (database "postgres"). */
  readonly serverUrl: string;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh database cloned from the migrated template; a new one per test file. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = inject('pgServerUrl');
  const name = `verity_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplate')}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}

export async function truncateAll(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'",
  );
  if (rows.length) await pool.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
}

/**
 * Registers hooks: a database of this file's own, migrated, emptied before every test.
 * Use inside a test file at top level or in a describe block.
 */
export function useTestDatabase(opts: { truncate?: boolean } = {}): TestDatabase {
  let pool: Pool | undefined;
  let url = '';
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const created = await createTestDatabase();
    url = created.url;
    drop = created.drop;
    pool = createPool({ url, log: silentLogger(), max: 5 });
  });
  if (opts.truncate !== false) {
    beforeEach(async () => {
      if (pool) await truncateAll(pool);
    });
  }
  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });
  return {
    get pool(): Pool {
      if (!pool) throw new Error('test database used before beforeAll ran');
      return pool;
    },
    get url() {
      return url;
    },
    get serverUrl() {
      return inject('pgServerUrl');
    },
  };
}
