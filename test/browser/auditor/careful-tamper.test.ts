import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../support/db.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { carefulKinds } from '../../support/tamper/index.js';
import { useRealNodeScene } from '../../support/auditor/real-node-scene.js';

// Issue 15.3: each careful tamper kind, done by a doctoring proxy in front of a real `verity node`,
// is caught by a rendered audit through the real balancer; the same node relaying honestly passes.
// (What only shows once scripts run is checked in rendered.test.ts, where the node's page runs as
// the node sent it: behind the balancer the origin's CSP keeps an injected script from running.)

const db = useTestDatabase({ truncate: false });
let origin: SampleOrigin;
beforeAll(async () => {
  origin = await startSampleOrigin({ varyingStateLength: true });
});
afterAll(async () => {
  await origin?.close();
});
const scene = useRealNodeScene(db, () => origin.url);

describe('careful tampering through a real node', () => {
  it('the honest node passes (the pages the careful kinds target)', async () => {
    scene.proxy.setKind(null);
    for (const path of ['/', '/products', '/about']) {
      const run = await scene.audit(path);
      expect(run.verdict, `${path}: ${run.reason} ${run.findings.join(', ')}`).toBe('pass');
    }
  });

  for (const kind of carefulKinds) {
    it(`catches ${kind.name}`, async () => {
      scene.proxy.setKind(kind);
      const run = await scene.audit(kind.samplePath);
      expect(run.verdict, `${run.reason} ${run.findings.join(', ')}`).toBe('tampered');
      expect(run.findings).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^(${kind.expect.join('|')})$`))]));
    });
  }
});
