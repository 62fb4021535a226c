import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveBrowserExecutable } from '../../../auditor/browser/executable.js';
import { descendantPids } from '../../../auditor/browser/sandbox-probe.js';
import { startSandboxedRenderer, type SandboxedRenderer } from '../../../auditor/render-host/client.js';
import { isVerityError } from '../../../common/errors.js';
import { silentLogger } from '../../../common/log.js';
import { useHostileScene } from '../../support/auditor/hostile-site.js';
import { waitFor } from '../../support/auditor/fixtures.js';

// A hostile page must not escape the renderer: the auditor's Chromium runs with its sandbox, in a process
// that holds no database credentials and no audit secret, and a hostile page can signal nothing
// out of it (STUN, DNS prefetch, preconnect, beacons, pings).

const scene = useHostileScene();
let executablePath = '';
let renderer: SandboxedRenderer;

beforeAll(async () => {
  executablePath = (await resolveBrowserExecutable()) ?? '';
  // What the auditor process holds: both must stay out of the rendering process.
  process.env.DATABASE_URL = 'postgres://verity:hunter2@127.0.0.1:5432/verity';
  process.env.VERITY_AUDIT_SECRET = 'audit-secret-that-must-not-leak-0123456789';
  renderer = await startSandboxedRenderer({ executablePath, recycleEvery: 50, launchTimeoutMs: 30_000, log: silentLogger(), allowNoSandbox: false });
});

afterAll(async () => {
  await renderer?.close();
  delete process.env.DATABASE_URL;
  delete process.env.VERITY_AUDIT_SECRET;
});

describe('a sandboxed auditor', () => {
  it('Chromium runs with its sandbox on (chrome://sandbox and seccomp-BPF in renderer namespaces)', async () => {
    const userNamespaces = Number(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8'));
    expect(userNamespaces, 'this machine offers user namespaces, so the sandbox must be on').toBeGreaterThan(0);
    expect(renderer.sandboxReport.on, renderer.sandboxReport.detail).toBe(true);
    expect(renderer.sandboxReport.detail).toMatch(/adequately sandboxed.*seccomp-BPF/);
  });

  it('the rendering process and its Chromium hold no DATABASE_URL, no audit secret, and run unprivileged', async () => {
    const d = await renderer.diagnose();
    expect(d.envKeys).not.toContain('DATABASE_URL');
    expect(d.envKeys.filter((k) => k.startsWith('VERITY'))).toEqual([]);
    if (process.getuid?.() === 0) expect(d.uid).not.toBe(0);
    const tree = [renderer.hostPid ?? -1, ...descendantPids(renderer.hostPid ?? -1)];
    expect(tree.length).toBeGreaterThan(1);
    for (const pid of tree) {
      let environ = '';
      try {
        environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      } catch {
        continue; // a sandboxed process in its own namespaces: not even root reads it this way
      }
      expect(environ).not.toContain('hunter2');
      expect(environ).not.toContain('audit-secret-that-must-not-leak');
      expect(Number(/Uid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])).toBe(d.uid);
    }
  });

  it('refuses to start where Chromium cannot have its sandbox, unless --allow-no-sandbox', async () => {
    // A browser that cannot sandbox itself, as on a machine without user namespaces.
    const dir = mkdtempSync(join(tmpdir(), 'verity-nosandbox-'));
    chmodSync(dir, 0o755);
    const wrapper = join(dir, 'chromium');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${executablePath} --disable-namespace-sandbox --disable-setuid-sandbox "$@"\n`);
    chmodSync(wrapper, 0o755);
    const refused = await startSandboxedRenderer({ executablePath: wrapper, recycleEvery: 5, launchTimeoutMs: 20_000, log: silentLogger(), allowNoSandbox: false }).then(() => null, (err: unknown) => err);
    expect(isVerityError(refused, 'AUD_ERR_NO_SANDBOX'), String(refused)).toBe(true);
    expect(String((refused as Error).message)).toMatch(/--allow-no-sandbox/);
    const allowed = await startSandboxedRenderer({ executablePath: wrapper, recycleEvery: 5, launchTimeoutMs: 20_000, log: silentLogger(), allowNoSandbox: true });
    try {
      expect(allowed.sandboxReport.on).toBe(false);
      expect(allowed.sandboxReport.detail).toMatch(/allowed to run without sandbox/);
    } finally {
      await allowed.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a hostile page signals nothing out: no STUN datagram, no DNS-prefetch or preconnect connection, no beacon or ping', async () => {
    const run = await scene.audit('/signal');
    expect(run.rendered, run.renderError ?? '').toBe('done');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(scene.site.escapes).toEqual({ dashboard: 0, database: 0, udp: 0 });
    expect(run.blocked.map((b) => b.url).join(' ')).toMatch(/beacon|px/);
  });

  it('control: the same page in an unhardened Chromium does reach the sentinels (the check above can fail)', async () => {
    const browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.setContent(scene.site.signalPage);
      await waitFor('a STUN datagram and a connection', async () => scene.site.escapes.udp > 0 && scene.site.escapes.database > 0, 10_000, 100);
    } finally {
      await browser.close();
    }
  });
});
