import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { launchTestBrowser, logIn } from '../../support/browser.js';
import { stackLines } from '../../support/cli.js';

// A new user follows the README from the checkout: `npm start`, open the site with the printed
// curl line, log in to the dashboard with the printed token, press Ctrl-C (SIGINT to the whole
// foreground process group, as a terminal does), and start again. Nothing they see may be a
// warning or a stack trace, and the second start is the same demo (same token, same nodes).

const checkout = fileURLToPath(new URL('../../..', import.meta.url));
const readme = readFileSync(join(checkout, 'README.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'verity-new-user-'));
// The embedded PostgreSQL runs as user postgres, which must be able to enter its directory.
chmodSync(dir, 0o755);
// The demo's folders, moved out of the checkout through the variables the README documents.
const env = { ...process.env, VERITY_DEMO_DIR: join(dir, 'demo'), VERITY_PG_DIR: join(dir, 'demo-pg'), DATABASE_URL: undefined, VERITY_ADMIN_TOKEN: undefined, VERITY_CONFIG: undefined, VERITY_LOG_LEVEL: undefined };
let current: ChildProcess | undefined;

afterAll(async () => {
  // After a failure half-way: Ctrl-C first, so the demo stops the programs it runs in process
  // groups of their own (a SIGKILL to its group would leave them running); SIGKILL if it hangs.
  const stop = (signal: NodeJS.Signals): void => {
    try {
      if (current?.pid && current.exitCode === null) process.kill(-current.pid, signal);
    } catch {
      // already gone
    }
  };
  if (current && current.exitCode === null) {
    const gone = new Promise((r) => current?.once('exit', r));
    stop('SIGINT');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 120_000))]);
    stop('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Ready {
  site: string;
  dashboard: string;
  token: string;
  curl: string;
}

/** `npm start [-- args]` as a terminal runs it: in a process group of its own. */
function npmStart(args: string[] = []): { proc: ChildProcess; output: () => string; ready: Promise<Ready>; exited: Promise<string> } {
  const proc = spawn('npm', ['start', ...(args.length ? ['--', ...args] : [])], { cwd: checkout, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  current = proc;
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<string>((r) => proc.once('exit', (code, signal) => r(signal ?? `code ${code}`)));
  const ready = new Promise<Ready>((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const m = /verity demo ready\nsite: (\S+)\ndashboard: (\S+)\nadmin token: (\S+)\nsite from any HTTP client: (curl .+)\n/.exec(out);
      if (m) return resolve({ site: m[1] ?? '', dashboard: (m[2] ?? '').replace(/\/$/, ''), token: m[3] ?? '', curl: m[4] ?? '' });
      if (proc.exitCode !== null) return reject(new Error(`npm start exited (${proc.exitCode}):\n${out}`));
      if (Date.now() - t0 > 120_000) return reject(new Error(`not ready in time:\n${out}`));
      setTimeout(tick, 100);
    };
    tick();
  });
  return { proc, output: () => out, ready, exited };
}

/**
 * Ctrl-C in the terminal: SIGINT to every process of the foreground group. The demo under npm
 * stops in order and prints "stopped cleanly" (only when every program exited 0); npm then
 * ends itself with the same signal, as shells expect of an interrupted command.
 */
async function ctrlC(run: ReturnType<typeof npmStart>): Promise<void> {
  process.kill(-(run.proc.pid ?? 0), 'SIGINT');
  expect(await run.exited, run.output()).toMatch(/^(SIGINT|code 0)$/);
  expect(run.output()).toMatch(/\nstopping \(SIGINT\)…\nstopped cleanly\n$/);
}

/** What a person would take for trouble: warnings, errors, stack traces, in the terminal and in the logs. */
function troubles(terminal: string): string[] {
  const logs = readdirSync(join(dir, 'demo', 'logs')).flatMap((f) => readFileSync(join(dir, 'demo', 'logs', f), 'utf8').split('\n').map((l) => `${f}: ${l}`));
  const lines = [...terminal.split('\n'), ...logs];
  return [
    ...lines.filter((l) => /\bwarn(ing)?\b|\berror\b|"level":(40|50|60)|Cannot use a pool|connection lost|EADDRINUSE/i.test(l)),
    ...stackLines(lines.join('\n')),
  ];
}

async function fetchNodes(dashboard: string, token: string): Promise<{ status: number; ids: string[] }> {
  const res = await fetch(`${dashboard}/api/v1/nodes`, { headers: { authorization: `Bearer ${token}` } });
  const ids = res.ok ? ((await res.json()) as { id: string }[]).map((n) => n.id).sort() : [];
  return { status: res.status, ids };
}

/** The printed curl line, run by a shell exactly as printed. */
function curlSite(curl: string): string {
  return execFileSync('sh', ['-c', `${curl.replace(/^curl /, 'curl -s -i --max-time 10 ')}`], { encoding: 'utf8' });
}

describe('the first hour, as the README tells it', () => {
  it('starts, serves the site to curl, logs in, stops cleanly on Ctrl-C, and starts again as the same demo', async () => {
    // The README a new user reads says exactly this.
    expect(readme).toContain('npm start');
    expect(readme).toContain("curl -H 'Host: demo.localhost' http://127.0.0.1:PORT/");
    expect(readme).toContain('`./.verity/demo-pg`');
    expect(readme).toContain('verity demo --fresh');

    const first = npmStart();
    const ready = await first.ready;
    expect(ready.site).toMatch(/^http:\/\/demo\.localhost:\d+\/$/);
    const page = curlSite(ready.curl);
    expect(page).toMatch(/^HTTP\/1\.1 200/);
    expect(page).toMatch(/^x-verity-node: \S+/im);

    const tb = await launchTestBrowser();
    try {
      const tab = await tb.browser.newPage();
      await logIn(tab, ready.dashboard, ready.token);
      expect(await tab.$eval('h1', (h) => h.textContent)).toBe('Overview');
    } finally {
      await tb.close();
    }
    const before = await fetchNodes(ready.dashboard, ready.token);
    expect(before.ids.length).toBe(5);

    // A second `npm start` while this one runs says so and touches nothing of it.
    const twin = spawn('npm', ['start'], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let twinOut = '';
    twin.stdout?.on('data', (c: Buffer) => (twinOut += c.toString()));
    twin.stderr?.on('data', (c: Buffer) => (twinOut += c.toString()));
    expect(await new Promise((r) => twin.once('exit', r))).not.toBe(0);
    expect(twinOut).toMatch(/^error DEMO_ERR_START: another verity demo \(pid \d+\) is running with .*: stop it first/m);
    expect(await fetchNodes(ready.dashboard, ready.token)).toEqual(before);
    expect(curlSite(ready.curl)).toMatch(/^HTTP\/1\.1 200/);

    await ctrlC(first);
    expect(troubles(first.output())).toEqual([]);
    // PostgreSQL went last and went: nothing of the demo is left running.
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(join(dir, 'demo-pg'));

    const second = npmStart();
    const again = await second.ready;
    expect(again.token).toBe(ready.token);
    expect(again.dashboard).toBe(ready.dashboard);
    expect(await fetchNodes(again.dashboard, ready.token)).toEqual(before);
    expect(curlSite(again.curl)).toMatch(/^HTTP\/1\.1 200/);
    await ctrlC(second);
    expect(troubles(second.output())).toEqual([]);

    // --fresh starts over: a new token, and the old one is refused.
    const fresh = npmStart(['--fresh']);
    const anew = await fresh.ready;
    expect(anew.token).not.toBe(ready.token);
    expect((await fetchNodes(anew.dashboard, ready.token)).status).toBe(401);
    const nodes = await fetchNodes(anew.dashboard, anew.token);
    expect(nodes.ids).toHaveLength(5);
    expect(nodes.ids.filter((id) => before.ids.includes(id))).toEqual([]);
    await ctrlC(fresh);
    expect(troubles(fresh.output())).toEqual([]);
  });
});
