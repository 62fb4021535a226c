import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../common/db/embedded.js';
import { migrate } from '../../common/db/migrate.js';
import { createPool } from '../../common/db/pool.js';
import { silentLogger } from '../../common/log.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server-level URL (database "postgres"); test files clone their own database from the template. */
    pgServerUrl: string;
    pgTemplate: string;
  }
}

export const TEMPLATE_DB = 'verity_template';

/**
 * One real PostgreSQL per run: DATABASE_URL when set, else an embedded server in a temp dir.
 * The schema is migrated once into a template database.
 */
export default async function setup(project: TestProject) {
  let embedded: EmbeddedDatabase | null = null;
  let dir: string | null = null;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    dir = mkdtempSync(join(tmpdir(), 'verity-test-pg-'));
    embedded = await startEmbeddedPostgres({ dir, log: silentLogger() });
    serverUrl = embedded.url;
  }
  const template = `${TEMPLATE_DB}_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template}`);
  await admin.query(`CREATE DATABASE ${template}`);
  const templateUrl = withDatabase(serverUrl, template);
  const pool = createPool({ url: templateUrl, log: silentLogger(), max: 1 });
  await migrate(pool, silentLogger());
  await pool.end();
  await admin.end();
  project.provide('pgServerUrl', serverUrl);
  project.provide('pgTemplate', template);
  return async () => {
    await embedded?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
