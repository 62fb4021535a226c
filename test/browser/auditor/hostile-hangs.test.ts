import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDirectAuditor, type DirectAuditor } from '../../support/auditor/harness.js';
import { startHostileSite, type HostileSite } from '../../support/auditor/hostile-site.js';
import { seededRandom } from '../../support/auditor/seeded.js';
import { waitFor } from '../../support/auditor/fixtures.js';

// SECURITY-TESTS.md 20 and 31: pages that hang the browser, and a browser that dies mid-audit.
// One browser for the file; a handful of pages.

const host = 'hostile.test';
let site: HostileSite;
let auditor: DirectAuditor;

beforeAll(async () => {
  site = await startHostileSite();
  auditor = await startDirectAuditor({ browser: true, random: seededRandom(8), settings: { loadTimeoutMs: 6000, settleMs: 300, stepTimeoutMs: 6000 } });
});

afterAll(async () => {
  await auditor.close();
  await site.close();
});

const audit = (path: string) => auditor.audit(site.url, site.url, path, host);

describe('hostile pages: hangs and crashes', () => {
  it('20: endless loops are stopped at the deadline, the browser replaced, and the next audit runs', async () => {
    const killsBefore = auditor.renderer?.stats().kills ?? 0;
    const hung = await audit('/hang');
    expect(hung.verdict).toBe('inconclusive');
    expect(hung.rendered).toBe('failed');
    expect(auditor.renderer?.stats().kills).toBeGreaterThan(killsBefore);
    for (const path of ['/promises', '/alerts', '/popups']) {
      const run = await audit(path);
      expect(run.rendered, `${path}: ${run.renderError ?? ''}`).toBe('done');
      expect(run.verdict).toBe('pass');
    }
    expect(site.escapes.dashboard).toBe(0);
    const after = await audit('/');
    expect(after.verdict).toBe('pass');
  });
  it('31: Chromium killed mid-audit → inconclusive, and the next audit renders', async () => {
    const seen = site.slowSeen.count;
    const pending = audit('/slow');
    await waitFor('the browser to be rendering', async () => site.slowSeen.count > seen, 20_000, 50);
    auditor.renderer?.kill();
    const run = await pending;
    expect(run.verdict).toBe('inconclusive');
    expect(run.rendered).toBe('failed');
    const next = await audit('/');
    expect(next.rendered).toBe('done');
    expect(next.verdict).toBe('pass');
  });
});
