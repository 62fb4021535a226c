import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../../support/cli.js';
import { spawn } from 'node:child_process';

// The slim node image holds only what the Dockerfile's node stage copies, and only the packages
// of deploy/node/package-lock.json. Without a docker engine here, that exact file set is laid out
// in a folder (packages linked from the checkout's node_modules) and `verity node` is run from it.

const root = process.cwd();
const dir = mkdtempSync(join(tmpdir(), 'verity-node-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function layOut(): void {
  const text = readFileSync('Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  const stage = text.split(/^FROM /m).find((s) => /\bAS node\b/.test(s.split('\n')[0] ?? '')) ?? '';
  for (const line of stage.split('\n').filter((l) => l.startsWith('COPY '))) {
    const parts = line.trim().split(/\s+/).slice(1);
    const dest = parts.pop() ?? '';
    for (const src of parts) {
      const target = dest.endsWith('/') || parts.length > 1 ? join(dir, dest, src.split('/').pop() ?? '') : join(dir, dest === './' ? src : dest);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(root, src), target, { recursive: true });
    }
  }
  const lock = JSON.parse(readFileSync('deploy/node/package-lock.json', 'utf8')) as { packages: Record<string, unknown> };
  for (const key of Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/') && !k.slice('node_modules/'.length).includes('node_modules/'))) {
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    try {
      symlinkSync(join(root, key), join(dir, key));
    } catch {
      // An optional package for another platform (another esbuild binary): not installed here either.
    }
  }
}

describe('the node image', () => {
  it('runs verity node from exactly what the Dockerfile copies', async () => {
    layOut();
    const help = await spawnCli(['node', '--help'], {}, { cwd: dir });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('--max-monthly BYTES');
    const child = spawn(process.execPath, [join(dir, 'bin/verity'), 'node', '--balancer', 'http://127.0.0.1:9', '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: dir } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const until = Date.now() + 20_000;
    while (!/\[PASS\] listening/.test(out) && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    expect(out, err).toMatch(/\[PASS\] identity/);
    expect(out).toMatch(/\[PASS\] listening/);
    // Nothing of the database, the dashboards or the auditor is there to load.
    expect(() => readFileSync(join(dir, 'common/db/pool.ts'))).toThrow();
    expect(() => readFileSync(join(dir, 'node_modules/pg/package.json'))).toThrow();
    expect(() => readFileSync(join(dir, 'node_modules/puppeteer/package.json'))).toThrow();
  });
});
