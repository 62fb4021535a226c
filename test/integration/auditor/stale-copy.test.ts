import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDirectAuditor, type DirectAuditor } from '../../support/auditor/harness.js';
import { seededRandom } from '../../support/auditor/seeded.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';

// A site publishes a new version of a page; an honest node still serves the copy it cached a
// moment ago. That is a stale cache, not tampering — but a node that edits the page still is.

let origin: SampleOrigin;
let stale: RogueNode;
let tamperer: RogueNode;
let auditor: DirectAuditor;
let forgetful: DirectAuditor;

beforeAll(async () => {
  origin = await startSampleOrigin();
  stale = await startRogueNode({ originUrl: origin.url, kind: 'stale-cache' });
  tamperer = await startRogueNode({ originUrl: origin.url, kind: 'text-change' });
  auditor = await startDirectAuditor({ browser: false, random: seededRandom(31) });
  forgetful = await startDirectAuditor({ browser: false, random: seededRandom(32) });
});

afterAll(async () => {
  await auditor.close();
  await forgetful.close();
  await stale.close();
  await tamperer.close();
  await origin.close();
});

describe('an honest stale copy after the origin changed', () => {
  it('passes when the origin served that version recently, and a real edit is still caught', async () => {
    expect((await auditor.audit(stale.url, origin.url, '/')).verdict).toBe('pass');
    origin.setPageEdit((html) => html.replace('Hand-made furniture shipped', 'Hand-crafted furniture shipped'));
    const run = await auditor.audit(stale.url, origin.url, '/');
    expect(run.verdict, JSON.stringify(run.findings)).toBe('pass');
    expect(run.reason).toMatch(/stale cache/);
    // Without having seen the earlier version, the same copy cannot be told from an edit.
    expect((await forgetful.audit(stale.url, origin.url, '/')).verdict).toBe('tampered');
    const edited = await auditor.audit(tamperer.url, origin.url, '/');
    expect(edited.verdict).toBe('tampered');
    expect(edited.findings.map((f) => f.kind)).toContain('text_changed');
  });
});
