import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStaticChecks } from '../../../auditor/checks/static-checks.js';
import { decideVerdict } from '../../../auditor/compare/verdict.js';
import { createDirectNodeFetcher, createOriginFetcher, memoize } from '../../../auditor/fetch/fetchers.js';
import { createHttpClient, type HttpClient } from '../../../auditor/fetch/http-client.js';
import { drawVisitor } from '../../../auditor/fetch/visitor-profile.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { benignKinds, tamperKinds } from '../../support/tamper/index.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// The HTTP and document checks alone (no browser) against the whole corpus, through a real
// origin and a real rogue node.

const siteHost = 'shop.example';
let origin: SampleOrigin;
let rogue: RogueNode;
let client: HttpClient;
const random = seededRandom(7);

async function audit(path: string) {
  const profile = drawVisitor(random);
  const limits = { timeoutMs: 10_000, maxBytes: 5_000_000 };
  const node = memoize(createDirectNodeFetcher(client, rogue.url, siteHost, profile, limits));
  const originFetcher = createOriginFetcher(client, origin.url, profile, limits);
  const out = await runStaticChecks({ siteHost, originUrl: origin.url, path }, node, originFetcher);
  return { ...out, verdict: decideVerdict(out) };
}

beforeAll(async () => {
  origin = await startSampleOrigin({ varyingStateLength: true });
  rogue = await startRogueNode({ originUrl: origin.url, random: seededRandom(11) });
  client = createHttpClient();
});

afterAll(async () => {
  client.close();
  await rogue.close();
  await origin.close();
});

describe('static checks against the tamper corpus', () => {
  it('has at least 15 tamper kinds and 10 benign kinds', () => {
    expect(tamperKinds.length).toBeGreaterThanOrEqual(15);
    expect(benignKinds.length).toBeGreaterThanOrEqual(10);
  });

  for (const kind of tamperKinds) {
    it(`detects ${kind.name}`, async () => {
      rogue.setKind(kind);
      let result = await audit(kind.samplePath);
      for (let i = 0; i < 12 && result.verdict !== 'tampered'; i++) result = await audit(kind.samplePath);
      expect(result.verdict, JSON.stringify(result.findings)).toBe('tampered');
      expect(result.findings.map((f) => f.kind)).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^(${kind.expect.join('|')})$`))]));
    });
  }

  for (const kind of benignKinds) {
    it(`passes ${kind.name}`, async () => {
      rogue.setKind(kind);
      for (let i = 0; i < 3; i++) {
        const result = await audit(kind.samplePath);
        expect(result.findings, result.reason).toEqual([]);
        expect(result.verdict).toBe('pass');
      }
    });
  }
});
