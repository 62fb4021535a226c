import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { seededRandom } from '../../support/auditor/seeded.js';
import { startDirectAuditor, type DirectAuditor } from '../../support/auditor/harness.js';
import { carefulKinds } from '../../support/tamper/index.js';

// Rendered checks with real Chromium: a few pages only (CPU is shared).

let origin: SampleOrigin;
let rogue: RogueNode;
let auditor: DirectAuditor;

beforeAll(async () => {
  origin = await startSampleOrigin({ varyingStateLength: true });
  rogue = await startRogueNode({ originUrl: origin.url, random: seededRandom(3) });
  auditor = await startDirectAuditor({ browser: true, random: seededRandom(5) });
});

afterAll(async () => {
  await auditor.close();
  await rogue.close();
  await origin.close();
});

describe('rendered audit', () => {
  it('passes an honest node serving a stale copy, with both screenshots taken; a known page needs no fresh origin render', async () => {
    rogue.setKind('stale-cache');
    const first = await auditor.audit(rogue.url, origin.url, '/');
    expect(first.screenshots?.origin.subarray(1, 4).toString()).toBe('PNG');
    expect(first.originRenders).toBeGreaterThanOrEqual(3);
    const run = await auditor.audit(rogue.url, origin.url, '/');
    expect(run.rendered).toBe('done');
    expect(run.verdict, JSON.stringify(run.findings)).toBe('pass');
    // Three origin renders from the first audit, in fresh contexts and recent, stand in for new ones.
    expect(run.originRenders).toBe(3);
    expect(run.screenshots).toBeNull();
  });

  it('catches a tampered script file after render, and the new host of an injected script', async () => {
    rogue.setKind('script-file-tamper');
    const run = await auditor.audit(rogue.url, origin.url, '/products');
    expect(run.verdict).toBe('tampered');
    expect(run.findings.map((f) => f.kind)).toContain('subresource_changed');
    rogue.setKind('csp-stripped-injection');
    const injected = await auditor.audit(rogue.url, origin.url, '/');
    expect(injected.findings.map((f) => f.kind)).toContain('new_host_contacted');
    expect(injected.blocked.some((b) => b.url.includes('evil-analytics') && b.render === 'node')).toBe(true);
    expect(injected.screenshots?.diff).toBeTruthy();
  });

  for (const kind of carefulKinds.filter((k) => k.expectRendered)) {
    it(`sees what ${kind.name} does once scripts run (a 5 s delay passes in virtual time)`, async () => {
      rogue.setKind(kind);
      const run = await auditor.audit(rogue.url, origin.url, kind.samplePath);
      expect(run.verdict).toBe('tampered');
      expect(run.findings.map((f) => f.kind)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^(${(kind.expectRendered ?? []).join('|')})$`))]));
    });
  }
});
