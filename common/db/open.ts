import { VerityError, isVerityError } from '../errors.js';
import type { Logger } from '../log.js';
import { startEmbeddedPostgres } from './embedded.js';
import { migrate } from './migrate.js';
import { createPool, endPool, type Pool } from './pool.js';

/** host:port/database of a connection string, never its password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

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
    await pool.query('SELECT 1');
    if (opts.migrate !== false) await migrate(pool, log);
  } catch (err) {
    await endPool(pool).catch(() => undefined);
    await embedded?.stop();
    throw isVerityError(err) ? err : new VerityError('DB_ERR_UNREACHABLE', `cannot use PostgreSQL at ${describeUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  return {
    pool,
    url,
    // PostgreSQL last: only once every connection of ours has closed.
    close: async () => {
      await endPool(pool).catch(() => undefined);
      await embedded?.stop();
    },
  };
}
