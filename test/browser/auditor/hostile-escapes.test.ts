import { existsSync, readdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHostileScene } from '../../support/auditor/hostile-site.js';

// Pages from untrusted machines try to reach out of the
// auditor's browser or to recognise it. One browser for the file; a handful of pages.

const scene = useHostileScene();
const audit = (path: string) => scene.audit(path);

function downloads(): string[] {
  const dirs = [join(homedir(), 'Downloads'), tmpdir()];
  return dirs.filter(existsSync).flatMap((d) => readdirSync(d).filter((f) => /invoice|\.crdownload$|x\.bin/.test(f)).map((f) => join(d, f)));
}

describe('hostile pages: escapes and tells', () => {
  it('18: blocks and records metadata, database, dashboard, file://, WebSocket and worker escapes', async () => {
    const run = await audit('/escape');
    expect(run.rendered).toBe('done');
    const urls = run.blocked.map((b) => `${b.reason} ${b.url}`).join('\n');
    expect(urls).toContain('169.254.169.254');
    expect(urls).toContain('127.0.0.1:5432');
    expect(urls).toContain(scene.site.dashboardUrl.replace(/\/$/, ''));
    expect(urls).toMatch(/websocket ws:\/\/127\.0\.0\.1/);
    expect(urls).toMatch(/worker .*worker\.js/);
    expect(urls).toMatch(/local-file|file:/);
    const nav = await audit('/navigate-metadata');
    expect(nav.blocked.some((b) => b.reason === 'navigation' && b.url.includes('169.254.169.254'))).toBe(true);
    const dash = await audit('/navigate-dashboard');
    expect(dash.blocked.some((b) => b.url.startsWith(scene.site.dashboardUrl))).toBe(true);
    expect(scene.site.escapes).toEqual({ dashboard: 0, database: 0, udp: 0 });
  });
  it('19: a triggered download writes no file', async () => {
    const before = downloads();
    const run = await audit('/download');
    expect(run.verdict).not.toBe('tampered');
    expect(run.blocked.some((b) => b.reason === 'download' || b.reason === 'navigation')).toBe(true);
    expect(downloads()).toEqual(before);
  });
  it('22: page scripts see an ordinary browser: no webdriver, no HeadlessChrome', async () => {
    scene.site.beacons.length = 0;
    const run = await audit('/beacon-page');
    expect(run.rendered).toBe('done');
    expect(scene.site.beacons.length).toBeGreaterThanOrEqual(1);
    for (const q of scene.site.beacons) {
      const p = new URLSearchParams(q);
      expect(p.get('wd')).toBe('false');
      expect(p.get('headless')).toBe('false');
      expect(p.get('ua')).toMatch(/^Mozilla\/5\.0/);
      // The auditor's MutationObserver lives in an isolated world: the page cannot see it.
      expect(p.get('observer')).toBe('undefined');
    }
  });
});
