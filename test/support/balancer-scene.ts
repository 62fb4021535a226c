import { afterAll, afterEach, beforeAll } from 'vitest';
import { insertTestNode, insertTestSite, startBalancer, type StartBalancerOptions, type StartedBalancer } from './balancer-harness.js';
import { startOrigin, type TestOrigin } from './balancer-origin.js';
import type { TestDatabase } from './db.js';
import { startHostileNode, type HostileNode, type NodeMode } from './hostile-node.js';

// The usual balancer test scene: one origin for the file, and per test a site served by nodes
// in given modes behind a real balancer; everything a test opened is closed after it.

export const SCENE_HOST = 'site.test';

export interface SceneSetup {
  bal: StartedBalancer;
  nodes: HostileNode[];
  ids: string[];
  siteId: string;
}

export interface BalancerScene {
  readonly origin: TestOrigin;
  /** Closed after the current test (in reverse order of tracking). */
  track<T extends { close(): Promise<void> }>(thing: T): T;
  /** A site on the origin, one node per mode, and a balancer (short timeouts) in front. */
  setup(modes: NodeMode[], opts?: StartBalancerOptions): Promise<SceneSetup>;
}

export function useBalancerScene(db: TestDatabase): BalancerScene {
  let origin: TestOrigin | null = null;
  const opened: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    origin = await startOrigin();
  });
  afterAll(async () => {
    await origin?.close();
  });
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });
  const scene: BalancerScene = {
    get origin(): TestOrigin {
      if (!origin) throw new Error('scene used before beforeAll ran');
      return origin;
    },
    track(thing) {
      opened.push(thing);
      return thing;
    },
    async setup(modes, opts = {}) {
      const siteId = await insertTestSite(db.pool, { host: SCENE_HOST, origin: scene.origin.url });
      const nodes: HostileNode[] = [];
      const ids: string[] = [];
      for (const mode of modes) {
        const n = scene.track(await startHostileNode({ origin: scene.origin.url, mode }));
        nodes.push(n);
        ids.push(await insertTestNode(db.pool, { url: n.url, siteIds: [siteId] }));
      }
      const bal = scene.track(await startBalancer({ pool: db.pool, ...opts, config: { attemptTimeout: 1_500, deadline: 4_000, bufferLimit: 512 * 1024, ...opts.config } }));
      return { bal, nodes, ids, siteId };
    },
  };
  return scene;
}

/** An origin and one honest node for the whole file (started before its tests, closed after). */
export function useOriginAndNode(): { readonly origin: TestOrigin; readonly node: HostileNode } {
  let origin: TestOrigin | null = null;
  let node: HostileNode | null = null;
  beforeAll(async () => {
    origin = await startOrigin();
    node = await startHostileNode({ origin: origin.url });
  });
  afterAll(async () => {
    await node?.close();
    await origin?.close();
  });
  return {
    get origin(): TestOrigin {
      if (!origin) throw new Error('used before beforeAll ran');
      return origin;
    },
    get node(): HostileNode {
      if (!node) throw new Error('used before beforeAll ran');
      return node;
    },
  };
}
