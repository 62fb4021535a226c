import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../../common/db/embedded.js';
import { listMigrations, migrate } from '../../../common/db/migrate.js';
import { createPool } from '../../../common/db/pool.js';
import { consumeJoinToken, createJoinToken } from '../../../common/db/queries/tokens.js';
import { insertSite } from '../../../common/db/queries/sites.js';
import { silentLogger } from '../../../common/log.js';
import { createTestDatabase, useTestDatabase } from '../../support/db.js';

const log = silentLogger();

describe('migrations', () => {
  it('two processes migrating an empty database at once apply each migration exactly once', async () => {
    const { url, drop } = await createTestDatabase();
    const fresh = new pg.Client({ connectionString: url });
    await fresh.connect();
    // Start from nothing: the template is already migrated.
    await fresh.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    await fresh.end();
    const a = createPool({ url, log });
    const b = createPool({ url, log });
    try {
      const [ra, rb] = await Promise.all([migrate(a, log), migrate(b, log)]);
      const all = listMigrations().map((m) => m.version);
      expect([...ra, ...rb].sort((x, y) => x - y)).toEqual(all);
      const { rows } = await a.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(all);
      expect(await migrate(a, log)).toEqual([]);
    } finally {
      await a.end();
      await b.end();
      await drop();
    }
  });

  it('rolls back a failing migration and names it', async () => {
    const { url, drop } = await createTestDatabase();
    const pool = createPool({ url, log });
    try {
      await expect(migrate(pool, log, [{ version: 9999, name: '9999-broken', sql: 'CREATE TABLE ok_then (x int); SELECT nonsense FROM nowhere;' }])).rejects.toThrow(/9999-broken/);
      const { rows } = await pool.query("SELECT to_regclass('ok_then') AS t");
      expect(rows[0].t).toBeNull();
    } finally {
      await pool.end();
      await drop();
    }
  });
});

describe('pool', () => {
  const db = useTestDatabase();

  it('survives pg_terminate_backend on its idle and busy connections', async () => {
    const pool = createPool({ url: db.url, log, max: 3 });
    try {
      await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 1'), pool.query('SELECT 1')]);
      const busy = pool.query('SELECT pg_sleep(5)').then(() => null, (err: unknown) => err);
      const killer = new pg.Client({ connectionString: db.url });
      await killer.connect();
      await new Promise((r) => setTimeout(r, 200));
      const killed = await killer.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'verity'",
      );
      await killer.end();
      expect(killed.rowCount).toBeGreaterThanOrEqual(1);
      expect(await busy).toBeInstanceOf(Error);
      await new Promise((r) => setTimeout(r, 100));
      const { rows } = await pool.query('SELECT 42 AS answer');
      expect(rows[0].answer).toBe(42);
    } finally {
      await pool.end();
    }
  });

  it('lets exactly one of two concurrent registrations spend a one-use token', async () => {
    const site = await insertSite(db.pool, { host: 'race.example', origin: 'http://127.0.0.1:1', privateRoutes: [] });
    const { token } = await createJoinToken(db.pool, { siteId: site.id, uses: 1, ttlMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 8 }, () => consumeJoinToken(db.pool, token)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await consumeJoinToken(db.pool, token)).toBeNull();
  });

  it('refuses expired and unknown tokens', async () => {
    const site = await insertSite(db.pool, { host: 'ttl.example', origin: 'http://127.0.0.1:1', privateRoutes: [] });
    const { token } = await createJoinToken(db.pool, { siteId: site.id, uses: 5, ttlMs: 1000, now: new Date(Date.now() - 5000) });
    expect(await consumeJoinToken(db.pool, token)).toBeNull();
    expect(await consumeJoinToken(db.pool, 'vjt_unknown')).toBeNull();
  });

  it('keeps trust_events append-only', async () => {
    await db.pool.query("INSERT INTO nodes (id, name, public_key, public_url) VALUES ('n1', 'n', 'k', 'http://127.0.0.1:1')");
    await db.pool.query("INSERT INTO trust_events (node_id, kind, integrity_after, availability_after, status_after, reason) VALUES ('n1', 'registered', 0.5, 0.5, 'probation', 'test')");
    await expect(db.pool.query('UPDATE trust_events SET reason = $1', ['rewritten'])).rejects.toThrow(/append-only/);
    await expect(db.pool.query('DELETE FROM trust_events')).rejects.toThrow(/append-only/);
  });
});

describe('embedded PostgreSQL', () => {
  it('a second process finding the server running re-uses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verity-emb-'));
    const first = await startEmbeddedPostgres({ dir, log });
    try {
      const second = await startEmbeddedPostgres({ dir, log });
      expect(second.owned).toBe(false);
      expect(second.url).toBe(first.url);
      const c = new pg.Client({ connectionString: second.url });
      await c.connect();
      expect((await c.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      await c.end();
    } finally {
      await first.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
