import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { h2Request } from '../../support/tls.js';
import { afterAll, describe, expect, it } from 'vitest';
import { launchTestBrowser, logIn, watchPage } from '../../support/browser.js';

// What a newcomer does: `npm start` (= verity demo), open the dashboard, watch the rogue get
// caught. Real processes throughout: embedded PostgreSQL, balancer, nodes, auditor, Chromium.

interface DemoNode {
  id: string;
  name: string;
  status: string;
}

const dir = mkdtempSync(join(tmpdir(), 'verity-demo-test-'));
// The embedded PostgreSQL runs as user postgres, which must be able to enter its directory.
chmodSync(dir, 0o755);
let demo: ChildProcess | undefined;
let output = '';

afterAll(async () => {
  if (demo && demo.exitCode === null) {
    demo.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const m = output.match(pattern);
      if (m) return resolve(m);
      if (demo?.exitCode !== null) return reject(new Error(`demo exited (${demo?.exitCode}):\n${output}`));
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

async function nodes(controlUrl: string, token: string): Promise<DemoNode[]> {
  const res = await fetch(`${controlUrl}/api/v1/nodes`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as DemoNode[];
}

/** Running, not merely a zombie waiting for an init that may never reap it in a container. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('npm start (verity demo)', () => {
  it('gets ready, catches the rogue without accusing honest nodes, shows it on the dashboard, and stops cleanly', async () => {
    const t0 = Date.now();
    demo = spawn(process.execPath, ['bin/verity', 'demo', '--nodes', '4', '--rogue', '1', '--audit-every', '10s', '--dir', join(dir, 'state'), '--pg-dir', join(dir, 'pg')], {
      env: { ...process.env, VERITY_LOG_LEVEL: 'warn', DATABASE_URL: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    demo.stderr?.on('data', (c: Buffer) => (output += c.toString()));

    const ready = await waitForOutput(/verity demo ready\nsite: (\S+)\ndashboard: (\S+)\nadmin token: (\S+)/, 90_000);
    const readyMs = Date.now() - t0;
    const [, siteUrl, dashboardUrl, token] = ready as unknown as [string, string, string, string];
    const controlUrl = dashboardUrl.replace(/\/$/, '');
    expect(siteUrl).toMatch(/^http:\/\/demo\.localhost:\d+\/$/);
    expect(readyMs).toBeLessThan(90_000);
    // HTTPS too, over HTTP/2, with the certificate of the demo's own CA, whose file it names.
    const [, httpsPort, caFile] = /https: https:\/\/demo\.localhost:(\d+)\/\n.*demo's own CA, (\S+):/.exec(output) ?? [];
    const secure = await h2Request(`https://127.0.0.1:${httpsPort}`, '/', { host: 'demo.localhost', ca: readFileSync(String(caFile), 'utf8') });
    expect(secure.status).toBe(200);
    expect(secure.headers['x-verity-node']).toBeTruthy();

    // The rogue is quarantined; honest nodes are not.
    let fleet: DemoNode[] = [];
    const deadline = Date.now() + 150_000;
    for (;;) {
      fleet = await nodes(controlUrl, token);
      if (fleet.some((n) => n.name.includes('rogue') && n.status === 'quarantined')) break;
      if (Date.now() > deadline) throw new Error(`rogue not quarantined in time: ${JSON.stringify(fleet)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(fleet).toHaveLength(4);
    for (const n of fleet.filter((x) => !x.name.includes('rogue'))) expect(n.status, n.name).not.toMatch(/quarantined|banned/);
    const rogue = fleet.find((n) => n.name.includes('rogue')) as DemoNode;

    // The dashboard shows it all, from the control plane only.
    const tb = await launchTestBrowser();
    try {
      // The site URL works in a browser as printed (*.localhost resolves to loopback).
      const visitor = await tb.browser.newPage();
      const res = await visitor.goto(siteUrl, { waitUntil: 'domcontentloaded' });
      expect(res?.status()).toBe(200);
      expect(res?.headers()['x-verity-node']).toBeTruthy();
      await visitor.close();

      const tab = await tb.browser.newPage();
      await tab.setViewport({ width: 1280, height: 900 });
      const watch = await watchPage(tab);
      await logIn(tab, controlUrl, token);
      await tab.goto(`${controlUrl}/nodes/${rogue.id}`, { waitUntil: 'domcontentloaded' });
      const text = await tab.$eval('body', (b) => b.textContent ?? '');
      expect(text).toContain(rogue.name);
      expect(text).toMatch(/quarantined/i);
      const reportHref = await tab.$$eval('a[href^="/audits/"]', (as) => as.map((a) => a.getAttribute('href') ?? ''));
      expect(reportHref.length).toBeGreaterThan(0);
      const audits = (await (await fetch(`${controlUrl}/api/v1/audits?node=${rogue.id}&verdict=tampered&limit=1`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string }[];
      expect(audits.length).toBe(1);
      await tab.goto(`${controlUrl}/audits/${audits[0]?.id}`, { waitUntil: 'networkidle0' });
      expect(await tab.$eval('body', (b) => b.textContent ?? '')).toMatch(/tampered/i);
      expect(watch.requests.every((u) => u.startsWith(controlUrl))).toBe(true);
    } finally {
      await tb.close();
    }

    // Ctrl-C stops everything: the demo exits 0 and leaves no process behind.
    const children = (await import('node:child_process')).execFileSync('pgrep', ['-P', String(demo.pid)]).toString().trim().split('\n').map(Number);
    expect(children.length).toBeGreaterThanOrEqual(5);
    demo.kill('SIGINT');
    const code = await new Promise<number | null>((r) => demo?.once('exit', (c) => r(c)));
    expect(code, output.slice(-2000)).toBe(0);
    expect(output).toMatch(/stopped cleanly/);
    await new Promise((r) => setTimeout(r, 500));
    expect(children.filter(alive).map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`)).toEqual([]);
  });
});
