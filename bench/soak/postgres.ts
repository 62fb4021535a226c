import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../common/db/embedded.js';
import { migrate } from '../../common/db/migrate.js';
import { createPool, type Pool } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';

// A PostgreSQL of our own (not the test suite's shared one), so the soak may stop and start it:
// the same data directory and port, so every program's DATABASE_URL stays valid across restarts.

export interface RestartablePostgres {
  /** URL of the soak's database (not the server's "postgres" database). */
  readonly url: string;
  readonly running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Starts an embedded server in `dir` on `port`, creates and migrates database `name`. */
export async function startRestartablePostgres(opts: { dir: string; port: number; name: string; log: Logger }): Promise<RestartablePostgres> {
  let server: EmbeddedDatabase | null = await startEmbeddedPostgres({ dir: opts.dir, port: opts.port, log: opts.log });
  const url = await createDatabase(server.url, opts.name);
  const pool: Pool = createPool({ url, log: opts.log, max: 1 });
  try {
    await migrate(pool, opts.log);
  } finally {
    await pool.end();
  }
  const stop = async (): Promise<void> => {
    const s = server;
    server = null;
    await s?.stop();
  };
  return {
    url,
    get running() {
      return server !== null;
    },
    stop,
    async start() {
      if (server) return;
      server = await startEmbeddedPostgres({ dir: opts.dir, port: opts.port, log: opts.log });
    },
    close: stop,
  };
}
