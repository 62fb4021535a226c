import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';
import { useTestDatabase } from '../../support/db.js';

// `verity auditor` as users run it: flags, the no-browser line, a clean stop on SIGTERM.

const VERITY_BIN = fileURLToPath(new URL('../../../bin/verity', import.meta.url));
const db = useTestDatabase();

describe('verity auditor', () => {
  it('documents its flags and refuses bad ones with exit 2', async () => {
    const help = await runCli(['auditor', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--concurrency', '--audit-every', '--balancer-url', '--recycle-every', '--load-timeout']) expect(help.stdout).toContain(flag);
    const bad = await runCli(['auditor', '--concurrency', 'zero']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('without a browser says so in one line, runs HTTP checks, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [VERITY_BIN, 'auditor', '--audit-every', '60s', '--metrics-listen', '127.0.0.1:0'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: db.url, PUPPETEER_EXECUTABLE_PATH: '/nonexistent/chrome', VERITY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('auditor:') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(err).toMatch(/^verity auditor: no browser found .*rendered checks are skipped$/m);
    expect(err.split('\n').filter((l) => l.includes('no browser'))).toHaveLength(1);
    // Health and metrics for orchestrators, on the address it printed.
    const base = /health and metrics at (http:\/\/\S+)\/healthz/.exec(out)?.[1];
    expect(base, out).toBeTruthy();
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('# TYPE verity_auditor_audits_total counter');
    expect(metrics).toMatch(/verity_auditor_queue_lag_seconds \d/);
    child.kill('SIGTERM');
    const code = await exited;
    expect(code, err).toBe(0);
  });
});
