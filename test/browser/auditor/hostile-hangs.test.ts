import { describe, expect, it } from 'vitest';
import { useHostileScene } from '../../support/auditor/hostile-site.js';
import { waitFor } from '../../support/auditor/fixtures.js';

// Pages that hang the browser, and a browser that dies mid-audit.
// One browser for the file; a handful of pages.

const scene = useHostileScene();
const audit = (path: string) => scene.audit(path);

describe('hostile pages: hangs and crashes', () => {
  it('20: endless loops are stopped at the deadline, the browser replaced, and the next audit runs', async () => {
    const killsBefore = scene.auditor.renderer?.stats().kills ?? 0;
    const hung = await audit('/hang');
    expect(hung.verdict).toBe('inconclusive');
    expect(hung.rendered).toBe('failed');
    expect(scene.auditor.renderer?.stats().kills).toBeGreaterThan(killsBefore);
    for (const path of ['/promises', '/alerts', '/popups']) {
      const run = await audit(path);
      expect(run.rendered, `${path}: ${run.renderError ?? ''}`).toBe('done');
      expect(run.verdict).toBe('pass');
    }
    expect(scene.site.escapes.dashboard).toBe(0);
    const after = await audit('/');
    expect(after.verdict).toBe('pass');
  });
  it('31: Chromium killed mid-audit → inconclusive, and the next audit renders', async () => {
    const seen = scene.site.slowSeen.count;
    const pending = audit('/slow');
    await waitFor('the browser to be rendering', async () => scene.site.slowSeen.count > seen, 20_000, 50);
    scene.auditor.renderer?.kill();
    const run = await pending;
    expect(run.verdict).toBe('inconclusive');
    expect(run.rendered).toBe('failed');
    const next = await audit('/');
    expect(next.rendered).toBe('done');
    expect(next.verdict).toBe('pass');
  });
});
