import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../support/db.js';
import { startAdSite, type AdSite } from '../../support/origin/ad-site.js';
import { scriptInjection } from '../../support/tamper/index.js';
import { useRealNodeScene } from '../../support/auditor/real-node-scene.js';

// Issue 14, "Done when": news pages with ad and analytics scripts that use random cache-busters
// and rotate their hosts, on the server and in the browser, served by a real `verity node`
// through the real balancer and audited with renders. The honest node passes every audit; the
// same node made to inject one script is caught.

const db = useTestDatabase({ truncate: false });
let site: AdSite;
beforeAll(async () => {
  site = await startAdSite();
});
afterAll(async () => {
  await site?.close();
});
const scene = useRealNodeScene(db, () => site.url, 'news.example');

describe('real-world pages: ad and analytics noise', () => {
  it('the honest node passes every audit', async () => {
    scene.proxy.setKind(null);
    const verdicts: string[] = [];
    const renders: number[] = [];
    for (let round = 0; round < 2; round++) {
      for (const path of site.pages) {
        const run = await scene.audit(path);
        verdicts.push(`${path}: ${run.verdict}${run.findings.length ? ` [${run.findings.join(', ')}]` : ''}`);
        renders.push(run.originRenders);
      }
    }
    expect(verdicts.filter((v) => !v.endsWith(': pass'))).toEqual([]);
    // Learned from at least three origin renders each time (fresh ones, then with remembered ones).
    expect(Math.min(...renders)).toBeGreaterThanOrEqual(3);
  });

  it('a node that injects one script is caught', async () => {
    scene.proxy.setKind(scriptInjection);
    const run = await scene.audit('/article/2');
    expect(run.verdict, run.reason).toBe('tampered');
    expect(run.findings).toEqual(expect.arrayContaining(['script_added', 'new_host_contacted']));
  });
});
