import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../../common/db/embedded.js';
import { hashToken } from '../../../common/db/queries/tokens.js';
import { silentLogger } from '../../../common/log.js';
import { runCli } from '../../support/cli.js';
import { useTestDatabase } from '../../support/db.js';

describe('verity site add / token create', () => {
  const db = useTestDatabase();

  it('adds a site and prints its id', async () => {
    const r = await runCli(['site', 'add', '--host', 'WWW.Example.org', '--origin', 'http://127.0.0.1:9/', '--private', '/login*,/account/**'], { DATABASE_URL: db.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    const { rows } = await db.pool.query('SELECT host, origin, private_routes FROM sites WHERE id = $1', [id]);
    expect(rows[0]).toEqual({ host: 'www.example.org', origin: 'http://127.0.0.1:9', private_routes: ['/login*', '/account/**'] });
    const again = await runCli(['site', 'add', '--host', 'www.example.org', '--origin', 'http://127.0.0.1:9'], { DATABASE_URL: db.url });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('creates a token shown once and stored only as a hash, with uses and TTL', async () => {
    await runCli(['site', 'add', '--host', 'a.example', '--origin', 'http://127.0.0.1:9'], { DATABASE_URL: db.url });
    const r = await runCli(['token', 'create', '--site', 'a.example', '--uses', '3', '--ttl', '2h'], { DATABASE_URL: db.url });
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^vjt_[A-Za-z0-9_-]{32}$/);
    const { rows } = await db.pool.query('SELECT token_hash, uses_allowed, expires_at - created_at AS ttl FROM join_tokens');
    expect(rows).toHaveLength(1);
    expect(Buffer.compare(rows[0].token_hash, hashToken(token))).toBe(0);
    expect(rows[0].uses_allowed).toBe(3);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('names an unknown site in one line', async () => {
    const r = await runCli(['token', 'create', '--site', 'nope.example'], { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no site has host nope\.example/);
  });

  it('reports every bad flag at once and exits 2', async () => {
    const r = await runCli(['site', 'add', '--host', 'bad host!', '--origin', 'ftp://x', '--frobnicate'], { DATABASE_URL: db.url });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    for (const part of ['--host', '--origin', 'unknown option --frobnicate']) expect(r.stderr).toContain(part);
  });

  it('gives every program a --help, and an unknown command exit code 2', async () => {
    for (const cmd of ['balancer', 'auditor', 'node', 'demo']) {
      const help = await runCli([cmd, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('--help');
    }
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });
});

describe('verity migrate', () => {
  let external: EmbeddedDatabase;
  let externalDir: string;
  let defaultDir: string;
  beforeAll(async () => {
    externalDir = mkdtempSync(join(tmpdir(), 'verity-ext-pg-'));
    defaultDir = mkdtempSync(join(tmpdir(), 'verity-default-pg-'));
    external = await startEmbeddedPostgres({ dir: externalDir, log: silentLogger() });
  });
  afterAll(async () => {
    await external.stop();
    rmSync(externalDir, { recursive: true, force: true });
    rmSync(defaultDir, { recursive: true, force: true });
  });

  it('migrates an external server named by DATABASE_URL', async () => {
    const first = await runCli(['migrate'], { DATABASE_URL: external.url });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied migrations: 1/);
    const second = await runCli(['migrate'], { DATABASE_URL: external.url });
    expect(second.stdout).toMatch(/up to date/);
    const c = new pg.Client({ connectionString: external.url });
    await c.connect();
    const { rows } = await c.query("SELECT to_regclass('trust_events') IS NOT NULL AS ok");
    await c.end();
    expect(rows[0].ok).toBe(true);
  });

  it('migrates the embedded default when no DATABASE_URL is set', async () => {
    const r = await runCli(['migrate', '--pg-dir', defaultDir], { DATABASE_URL: undefined });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/applied migrations/);
  });
});

describe('an unreachable database', () => {
  it('is one clear line naming it (without its password), for servers and commands alike', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    for (const argv of [['balancer', '--listen', '127.0.0.1:0', '--control-listen', '127.0.0.1:0'], ['migrate']]) {
      const r = await runCli(argv, { DATABASE_URL: `postgres://verity:secret@127.0.0.1:${port}/verity` });
      expect(r.code, argv[0]).toBe(1);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(`DB_ERR_UNREACHABLE: cannot use PostgreSQL at 127.0.0.1:${port}/verity`);
      expect(r.stderr).not.toContain('secret');
    }
  });
});
