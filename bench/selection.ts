import { isRoutable } from '../common/domain/trust.js';
import type { RouteNode } from '../balancer/registry/types.js';
import { buildGridIndex } from '../balancer/selection/grid-index.js';
import { pickNode } from '../balancer/selection/pick.js';
import { ProbationMeter, probationGroup } from '../balancer/selection/probation-meter.js';
import { seededRandom as seeded } from '../common/domain/seeded-random.js';

// µs per routing decision at 1k/10k/100k nodes of one site, with the request path's own
// eligibility rules (status, draining, ejection set, probation cap). Bounded: ~1.5 s per size.

export interface SelectionResult {
  nodes: number;
  decisions: number;
  meanUs: number;
  p99Us: number;
}


function fleet(n: number, random: () => number): RouteNode[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `n${i}`, name: `n${i}`, publicUrl: new URL(`http://n${i}.example:8080`), tlsSpki: null,
    // Volunteers cluster where people live: mostly mid-latitudes.
    location: random() < 0.05 ? null : { lat: random() * 120 - 55, lon: random() * 360 - 180 },
    status: random() < 0.1 ? 'probation' : random() < 0.03 ? 'quarantined' : 'active',
    draining: random() < 0.01, integrity: 0.5 + random() / 2, availability: 0.5 + random() / 2,
    subnet: `10.${i % 250}.${(i >> 8) % 250}.0/24`, siteIds: ['s'],
  }));
}

export function benchSelection(sizes = [1_000, 10_000, 100_000], budgetMs = 1_500): SelectionResult[] {
  const results: SelectionResult[] = [];
  for (const size of sizes) {
    const random = seeded(size);
    const index = buildGridIndex(fleet(size, random));
    const ejected = new Set<string>(['n1', 'n2', 'n3']);
    const outstanding = new Map<string, number>();
    const probation = new ProbationMeter(0.05);
    const samples: number[] = [];
    const until = performance.now() + budgetMs;
    while (performance.now() < until && samples.length < 500_000) {
      const client = random() < 0.1 ? null : { lat: random() * 120 - 55, lon: random() * 360 - 180 };
      const t0 = performance.now();
      const node = pickNode({
        index, client, random,
        outstanding: (n) => outstanding.get(n.id) ?? 0,
        eligible: (n) => isRoutable(n.status) && !n.draining && !ejected.has(n.id) && (n.status !== 'probation' || probation.allowed('s', probationGroup(n))),
      });
      samples.push((performance.now() - t0) * 1000);
      probation.record('s', node && node.status === 'probation' ? probationGroup(node) : null);
    }
    samples.sort((a, b) => a - b);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    results.push({ nodes: size, decisions: samples.length, meanUs: mean, p99Us: samples[Math.floor(samples.length * 0.99)] ?? 0 });
  }
  return results;
}

export function renderSelection(results: SelectionResult[]): string {
  const rows = results.map((r) => `| ${r.nodes.toLocaleString('en')} | ${r.decisions.toLocaleString('en')} | ${r.meanUs.toFixed(2)} | ${r.p99Us.toFixed(2)} |`);
  return ['| nodes | decisions | mean µs/decision | p99 µs |', '| ---: | ---: | ---: | ---: |', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${renderSelection(benchSelection())}\n`);
}
