import { afterAll, beforeAll } from 'vitest';
import { startAuditor, type AuditorSettings, type RunningAuditor } from '../../../auditor/app.js';
import { silentLogger } from '../../../common/log.js';
import { insertTestNode, insertTestSite, startBalancer, testAuditSecret, warmPublications, type StartedBalancer } from '../balancer-harness.js';
import type { TestDatabase } from '../db.js';
import { startSampleOrigin, staticAssets, type SampleOrigin } from '../origin/index.js';
import { publicPages } from '../origin/pages.js';
import { startRogueNode, type RogueNode } from '../rogue-node.js';
import { seededRandom } from './seeded.js';

export interface AuditScene {
  origin: SampleOrigin;
  rogue: RogueNode;
  honest: RogueNode;
  balancer: StartedBalancer;
  auditor: RunningAuditor;
  rogueId: string;
  honestId: string;
}

export interface AuditSceneOptions {
  rogueKind: string;
  honestKind: string;
  names: { rogue: string; honest: string };
  seed: number;
  auditor: Omit<AuditorSettings, 'balancerUrl' | 'auditSecret'>;
}

/**
 * The end-to-end audit setup: the sample origin, a rogue and an honest node (real servers), a
 * real balancer in front of them, and an auditor that reaches nodes only through the balancer.
 * Started before the file's tests, stopped after; read it inside tests.
 */
export function useAuditScene(db: TestDatabase, o: AuditSceneOptions): AuditScene {
  const scene = {} as AuditScene;
  beforeAll(async () => {
    scene.origin = await startSampleOrigin();
    scene.rogue = await startRogueNode({ originUrl: scene.origin.url, kind: o.rogueKind });
    scene.honest = await startRogueNode({ originUrl: scene.origin.url, kind: o.honestKind });
    // The shop's pages change on every request: the site lets nodes serve them (sampled), which
    // is what audits are for.
    const siteId = await insertTestSite(db.pool, { host: 'shop.example', origin: scene.origin.url, privateRoutes: scene.origin.privateRoutes, dynamicPolicy: 'sampled' });
    scene.rogueId = await insertTestNode(db.pool, { url: scene.rogue.url, siteIds: [siteId], status: 'active', name: o.names.rogue });
    scene.honestId = await insertTestNode(db.pool, { url: scene.honest.url, siteIds: [siteId], status: 'active', name: o.names.honest });
    scene.balancer = await startBalancer({ pool: db.pool });
    await warmPublications(scene.balancer, 'shop.example', [...Object.keys(publicPages), ...Object.keys(staticAssets)]);
    scene.auditor = await startAuditor({ ...o.auditor, balancerUrl: scene.balancer.publicUrl, auditSecret: testAuditSecret }, { pool: db.pool, log: silentLogger(), random: seededRandom(o.seed) });
  });
  afterAll(async () => {
    await scene.auditor?.stop();
    await scene.balancer?.close();
    await scene.rogue?.close();
    await scene.honest?.close();
    await scene.origin?.close();
  });
  return scene;
}
