import type { Logger } from '../log.js';
import { startEmbeddedPostgres } from './embedded.js';
import { migrate } from './migrate.js';
import { createPool, type Pool } from './pool.js';

export interface DatabaseSettings {
  databaseUrl?: string | undefined;
  pgDir: string;
}

export interface Database {
  pool: Pool;
  url: string;
  close(): Promise<void>;
}

/**
 * The database a program uses: DATABASE_URL when given, else the embedded server. Migrates
 * before returning, so every server starts on the current schema.
 */
export async function openDatabase(settings: DatabaseSettings, log: Logger, opts: { migrate?: boolean; poolMax?: number; applicationName?: string } = {}): Promise<Database> {
  const embedded = settings.databaseUrl ? null : await startEmbeddedPostgres({ dir: settings.pgDir, log });
  const url = settings.databaseUrl ?? embedded?.url ?? '';
  const pool = createPool({ url, log, max: opts.poolMax, applicationName: opts.applicationName });
  try {
    if (opts.migrate !== false) await migrate(pool, log);
  } catch (err) {
    await pool.end().catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
  return {
    pool,
    url,
    close: async () => {
      await pool.end().catch(() => undefined);
      await embedded?.stop();
    },
  };
}
