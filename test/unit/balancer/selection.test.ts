import { describe, expect, it } from 'vitest';
import type { RouteNode } from '../../../balancer/registry/types.js';
import { buildGridIndex } from '../../../balancer/selection/grid-index.js';
import { OutlierDetector } from '../../../balancer/selection/outlier.js';
import { pickNode, type PickInput } from '../../../balancer/selection/pick.js';
import { ProbationMeter, probationGroup } from '../../../balancer/selection/probation-meter.js';
import { RetryBudget } from '../../../balancer/selection/retry-budget.js';
import { seededRandom as seeded } from '../../../common/domain/seeded-random.js';

let seq = 0;
function makeNode(o: Partial<RouteNode> = {}): RouteNode {
  seq++;
  return {
    id: `n${seq}`, name: `n${seq}`, publicUrl: new URL(`http://node${seq}.test:8080`), location: { lat: 0, lon: 0 }, status: 'active', draining: false,
    integrity: 0.9, availability: 0.9, subnet: null, siteIds: ['s'], tlsSpki: null, ...o,
  };
}


function input(nodes: RouteNode[], o: Partial<PickInput> = {}): PickInput {
  return { index: buildGridIndex(nodes), client: null, random: seeded(1), eligible: () => true, outstanding: () => 0, ...o };
}

describe('pickNode', () => {
  it('prefers the nearest nodes', () => {
    const paris = makeNode({ location: { lat: 48.85, lon: 2.35 } });
    const tokyo = makeNode({ location: { lat: 35.68, lon: 139.69 } });
    const berlin = makeNode({ location: { lat: 52.52, lon: 13.4 } });
    const picks = new Set<string>();
    const random = seeded(7);
    for (let i = 0; i < 50; i++) picks.add(pickNode(input([paris, tokyo, berlin], { client: { lat: 48.1, lon: 1.7 }, random }))?.id ?? '');
    expect(picks).toEqual(new Set([paris.id]));
  });

  it('within the band, trust weighs: a low-integrity node gets much less', () => {
    const good = makeNode({ integrity: 0.95 });
    const poor = makeNode({ integrity: 0.05 });
    const counts = new Map<string, number>();
    const random = seeded(3);
    for (let i = 0; i < 2000; i++) {
      const id = pickNode(input([good, poor], { random, outstanding: () => 0 }))?.id ?? '';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(counts.get(good.id) ?? 0).toBeGreaterThan(1800);
  });

  it('power of two choices: the less loaded of two wins', () => {
    const a = makeNode();
    const b = makeNode();
    const load = new Map([[a.id, 10], [b.id, 0]]);
    let aCount = 0;
    const random = seeded(5);
    for (let i = 0; i < 500; i++) if (pickNode(input([a, b], { random, outstanding: (n) => load.get(n.id) ?? 0 }))?.id === a.id) aCount++;
    expect(aCount).toBeLessThan(200);
  });

  it('no eligible node → null (the caller fails closed to the origin)', () => {
    expect(pickNode(input([makeNode(), makeNode()], { eligible: () => false }))).toBeNull();
    expect(pickNode(input([]))).toBeNull();
  });

  it('finds located nodes from a client far away, and unlocated nodes when nothing is near', () => {
    const far = makeNode({ location: { lat: -33.9, lon: 151.2 } });
    expect(pickNode(input([far], { client: { lat: 48.8, lon: 2.3 } }))?.id).toBe(far.id);
    const nowhere = makeNode({ location: null });
    expect(pickNode(input([nowhere], { client: { lat: 48.8, lon: 2.3 } }))?.id).toBe(nowhere.id);
  });

  it('stays correct at 100k nodes', () => {
    const random = seeded(11);
    const nodes = Array.from({ length: 100_000 }, () => makeNode({ location: { lat: random() * 140 - 70, lon: random() * 360 - 180 } }));
    const client = { lat: 40.7, lon: -74 };
    const picked = pickNode(input(nodes, { client, random }));
    expect(picked?.location).toBeTruthy();
    expect(Math.abs((picked?.location?.lat ?? 0) - client.lat)).toBeLessThan(6);
  });
});

describe('probation cap', () => {
  it('one probation group gets at most its share; a /24 counts as one', () => {
    const meter = new ProbationMeter(0.05);
    const sybils = Array.from({ length: 20 }, () => makeNode({ status: 'probation', subnet: '203.0.113.0/24' }));
    let probation = 0;
    for (let i = 0; i < 2000; i++) {
      const candidate = sybils[i % sybils.length] as RouteNode;
      const group = probationGroup(candidate);
      if (meter.allowed('s', group)) {
        probation++;
        meter.record('s', group);
      } else meter.record('s', null);
    }
    expect(probation).toBeLessThanOrEqual(0.05 * 2000 + 2);
    expect(probation).toBeGreaterThan(50);
  });

  it('probation nodes together get at most the share, whatever their subnets', () => {
    const meter = new ProbationMeter(0.1);
    const newcomers = Array.from({ length: 25 }, (_, i) => makeNode({ status: 'probation', subnet: `198.51.${i}.0/24` }));
    for (let i = 0; i < 5000; i++) {
      const group = probationGroup(newcomers[i % newcomers.length] as RouteNode);
      meter.record('s', meter.allowed('s', group) ? group : null);
      expect(meter.probationShare('s')).toBeLessThanOrEqual(0.1);
    }
    expect(meter.probationShare('s')).toBeGreaterThan(0.099);
  });

  it('holds one subnet to its group share, leaving the rest of the slice to other newcomers', () => {
    const meter = new ProbationMeter(0.1, 0.04);
    const farm = probationGroup(makeNode({ status: 'probation', subnet: '203.0.113.0/24' }));
    const others = [1, 2, 3].map((i) => probationGroup(makeNode({ status: 'probation', subnet: `198.51.${i}.0/24` })));
    let toFarm = 0;
    for (let i = 0; i < 1000; i++) {
      const group = [farm, ...others].find((g) => meter.allowed('s', g)) ?? null;
      if (group === farm) toFarm++;
      meter.record('s', group);
    }
    expect(toFarm).toBeLessThanOrEqual(40);
    expect(meter.probationShare('s')).toBeGreaterThan(0.099);
  });
});

describe('outlier ejection and retry budget', () => {
  it('ejects after consecutive failures, longer each time, capped share', () => {
    const o = new OutlierDetector({ threshold: 2, baseMs: 1000, maxMs: 8000, maxShare: 0.5 });
    expect(o.onFailure('a', 0, 4)).toBe(false);
    expect(o.onFailure('a', 0, 4)).toBe(true);
    expect(o.isEjected('a', 999)).toBe(true);
    expect(o.isEjected('a', 1001)).toBe(false);
    o.onFailure('a', 2000, 4);
    expect(o.onFailure('a', 2000, 4)).toBe(true);
    expect(o.isEjected('a', 3500)).toBe(true);
    o.onFailure('b', 2000, 4);
    expect(o.onFailure('b', 2000, 4)).toBe(true);
    o.onFailure('c', 2000, 4);
    expect(o.onFailure('c', 2000, 4)).toBe(false);
  });

  it('retries are capped to a share of requests plus a floor', () => {
    const b = new RetryBudget(0.2, 2);
    for (let i = 0; i < 100; i++) b.onRequest(0);
    let granted = 0;
    while (b.tryRetry(0) && granted < 1000) granted++;
    expect(granted).toBe(22);
  });
});
