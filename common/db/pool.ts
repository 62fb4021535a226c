import pg from 'pg';
import type { Logger } from '../log.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: the pool or a checked-out client (inside a transaction). */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

// bigint counts come back as JS numbers; our counters stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PoolOptions {
  url: string;
  log: Logger;
  max?: number;
  applicationName?: string;
}

/**
 * A pool that survives PostgreSQL restarts and pg_terminate_backend: without an 'error'
 * listener, an idle client's connection dying is an uncaught exception that kills the process.
 */
export function createPool(opts: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    application_name: opts.applicationName ?? 'verity',
  });
  // Once we end the pool ourselves, a connection closing is what we asked for, not news.
  const lost = (what: string) => (err: Error) => {
    if (pool.ending) opts.log.debug({ err: err.message }, `${what} closed while the pool ends`);
    else opts.log.warn({ err: err.message }, `${what} lost`);
  };
  pool.on('error', lost('idle database connection'));
  pool.on('connect', (client) => {
    client.on('error', lost('database connection'));
  });
  return pool;
}

/**
 * Ends the pool and waits until every connection has said goodbye to the server. pool.end()
 * resolves before that, so a PostgreSQL stopped right after would still see open sessions and
 * cut them ("terminating connection due to administrator command").
 */
export async function endPool(pool: Pool, timeoutMs = 5_000): Promise<void> {
  if (pool.ending) return;
  let left = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (left === 0) resolve();
    pool.on('remove', () => {
      if (--left <= 0) resolve();
    });
  });
  await pool.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}

export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
