import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuditor, type RunningAuditor } from '../../../auditor/app.js';
import { loadTrustPolicy, trustPolicyFrom } from '../../../common/db/queries/trust-policy.js';
import { setSetting } from '../../../common/db/queries/settings.js';
import { defaultTrustPolicy } from '../../../common/domain/trust.js';
import { silentLogger } from '../../../common/log.js';
import { useTestDatabase } from '../../support/db.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { makeNode, makeSite, waitFor } from '../../support/auditor/fixtures.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// Trust thresholds live in the settings table (`trust_policy`), so every program applies the same.

const db = useTestDatabase({ truncate: false });
let origin: SampleOrigin;
let rogue: RogueNode;
let auditor: RunningAuditor | undefined;

beforeAll(async () => {
  origin = await startSampleOrigin();
  rogue = await startRogueNode({ originUrl: origin.url, kind: 'iframe-injection' });
});

afterAll(async () => {
  await auditor?.stop();
  await rogue.close();
  await origin.close();
});

describe('trust policy setting', () => {
  it('merges overrides over the defaults and refuses bad ones whole', async () => {
    expect(await loadTrustPolicy(db.pool)).toEqual(defaultTrustPolicy);
    expect(trustPolicyFrom({ quarantineIntegrity: 0.2 }).quarantineIntegrity).toBe(0.2);
    expect(() => trustPolicyFrom({ quarantineIntegrity: 2 })).toThrow(/quarantineIntegrity/);
    expect(() => trustPolicyFrom({ nonsense: 1 })).toThrow(/trust_policy/);
  });

  it('is what the auditor moves trust with', async () => {
    await setSetting(db.pool, 'trust_policy', JSON.stringify({ quarantineIntegrity: 0.001, quarantineFailureMass: 10_000 }));
    const site = await makeSite(db.pool, { origin: origin.url });
    const nodeId = await makeNode(db.pool, { siteId: site.id, publicUrl: rogue.url, status: 'active' });
    auditor = await startAuditor({
      concurrency: 1, auditEverySeconds: 3, balancerUrl: null, auditSecret: 'x'.repeat(32), recycleEvery: 50,
      loadTimeoutMs: 5000, stepTimeoutMs: 5000, settleMs: 100, auditTimeoutMs: 20_000, browser: false, pollMs: 100,
    }, { pool: db.pool, log: silentLogger(), random: seededRandom(4) });
    await waitFor('two tampered audits', async () => Number((await db.pool.query("SELECT count(*) AS n FROM audits WHERE node_id = $1 AND verdict = 'tampered'", [nodeId])).rows[0]?.n) >= 2);
    const status = (await db.pool.query<{ status: string }>('SELECT status FROM nodes WHERE id = $1', [nodeId])).rows[0]?.status;
    expect(status).toBe('active');
  });
});
