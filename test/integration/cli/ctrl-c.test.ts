import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VERITY_BIN, stackLines } from '../../support/cli.js';

// Ctrl-C in a terminal is SIGINT to the whole foreground process group. The embedded PostgreSQL
// must not be in that group: it would shut down under a balancer still draining ("database
// connection lost"). It runs in a group of its own and is stopped last, by the program.

const dir = mkdtempSync(join(tmpdir(), 'verity-ctrl-c-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function processGroupOf(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
}

function postgresPids(dataDir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`postgres -D ${dataDir}`)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('Ctrl-C on a program using the embedded PostgreSQL', () => {
  it('reaches the program only; it drains, then stops PostgreSQL, with no warning', async () => {
    const pgDir = join(dir, 'pg');
    const child = spawn(process.execPath, [VERITY_BIN, 'balancer', '--listen', '127.0.0.1:0', '--control-listen', '127.0.0.1:0', '--pg-dir', pgDir], {
      detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: undefined, VERITY_CONFIG: undefined, VERITY_ADMIN_TOKEN: undefined, VERITY_LOG_LEVEL: 'info' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!/^control: /m.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/^control: http/m);

    const [pg] = postgresPids(join(pgDir, 'data'));
    expect(pg).toBeGreaterThan(0);
    expect(processGroupOf(pg ?? 0)).not.toBe(child.pid);

    process.kill(-(child.pid ?? 0), 'SIGINT');
    expect(await exited, out).toBe(0);
    // One process, or a primary and its workers (--workers, default: one per core): each drained.
    expect(out).toMatch(/"msg":"shutting down: (finishing requests|workers finish requests) in flight"/);
    expect(out.split('\n').filter((l) => /"level":(40|50|60)/.test(l))).toEqual([]);
    expect(stackLines(out)).toEqual([]);
    expect(postgresPids(join(pgDir, 'data'))).toEqual([]);
  });
});
