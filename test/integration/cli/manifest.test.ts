import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../../../common/db/queries/manifests.js';
import { runCli } from '../../support/cli.js';
import { useTestDatabase } from '../../support/db.js';

// `verity site add --public --dynamic` and `verity manifest --site HOST DIR`, spawned for real.

const db = useTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'verity-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('publication rules from the command line', () => {
  it('site add takes --public and --dynamic, and refuses a policy it does not know', async () => {
    const r = await runCli(['site', 'add', '--host', 'p.example', '--origin', 'http://127.0.0.1:9', '--public', '/static/**,/app.js', '--dynamic', 'sampled'], { DATABASE_URL: db.url });
    expect(r.code, r.stderr).toBe(0);
    const { rows } = await db.pool.query('SELECT public_routes, dynamic_policy FROM sites WHERE host = $1', ['p.example']);
    expect(rows[0]).toEqual({ public_routes: ['/static/**', '/app.js'], dynamic_policy: 'sampled' });
    const bad = await runCli(['site', 'add', '--host', 'q.example', '--origin', 'http://127.0.0.1:9', '--dynamic', 'sometimes'], { DATABASE_URL: db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dynamic/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('manifest hashes a build folder and replaces the site\'s manifest each time', async () => {
    await runCli(['site', 'add', '--host', 'm.example', '--origin', 'http://127.0.0.1:9'], { DATABASE_URL: db.url });
    const build = join(dir, 'build');
    mkdirSync(join(build, 'docs'), { recursive: true });
    writeFileSync(join(build, 'app.js'), 'console.log(1)\n');
    writeFileSync(join(build, 'docs', 'index.html'), '<h1>docs</h1>');
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 9);
    writeFileSync(join(build, 'big.bin'), big);
    writeFileSync(join(build, '.env'), 'SECRET=1');
    const r = await runCli(['manifest', '--site', 'm.example', build], { DATABASE_URL: db.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/published 4 paths for m\.example/);
    const { rows } = await db.pool.query<{ id: string }>("SELECT id::text AS id FROM sites WHERE host = 'm.example'");
    const m = await loadManifest(db.pool, rows[0]?.id ?? '');
    expect([...m.keys()].sort()).toEqual(['/app.js', '/big.bin', '/docs/', '/docs/index.html']);
    expect(m.get('/app.js')?.sha256).toBe(createHash('sha256').update('console.log(1)\n').digest('hex'));
    expect(m.get('/big.bin')?.pieces?.length).toBe(4 * 32);
    rmSync(join(build, 'big.bin'));
    await runCli(['manifest', '--site', 'm.example', build], { DATABASE_URL: db.url });
    expect([...(await loadManifest(db.pool, rows[0]?.id ?? '')).keys()].sort()).toEqual(['/app.js', '/docs/', '/docs/index.html']);
  });

  it('manifest: an unknown site or a missing folder is one clear line', async () => {
    const unknown = await runCli(['manifest', '--site', 'nope.example', dir], { DATABASE_URL: db.url });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no site nope\.example/);
    const missing = await runCli(['manifest', '--site', 'm.example', join(dir, 'does-not-exist')], { DATABASE_URL: db.url });
    expect(missing.code).toBeGreaterThan(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});
