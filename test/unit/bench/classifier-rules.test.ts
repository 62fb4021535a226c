import { describe, expect, it } from 'vitest';
import { bestRules, type ObservedRequest } from '../../../bench/classifier/rules.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// The classifier node's learner must find a separating rule when one exists (or the bench proves
// nothing), and score chance when none does.

function requests(n: number, make: (label: 'audit' | 'visitor', random: () => number) => Record<string, string | number>): ObservedRequest[] {
  const random = seededRandom(12);
  return Array.from({ length: n }, (_, i) => {
    const label = random() < 0.2 ? 'audit' : 'visitor';
    return { label, split: i % 2 ? 'train' : 'test', features: make(label, random) };
  });
}

describe('classifier rules', () => {
  it('finds a single feature that gives audits away, and a pair that does only together', () => {
    const leaky = requests(2000, (l, r) => ({ ua: l === 'audit' ? 'A' : r() < 0.5 ? 'A' : 'B', gapMs: l === 'audit' ? 5 + r() : 100 + r() * 100, noise: Math.floor(r() * 5) }));
    const { single } = bestRules(leaky);
    expect(single[0]?.features).toEqual(['gapMs']);
    expect(single[0]?.accuracy).toBeGreaterThan(0.95);
    const xor = requests(4000, (l, r) => {
      const a = r() < 0.5 ? 1 : 0;
      const b = l === 'audit' ? a : 1 - a;
      return { a: String(a), b: String(b) };
    });
    const rules = bestRules(xor);
    expect(rules.single[0]?.accuracy).toBeLessThan(0.6);
    expect(rules.pairs[0]?.accuracy).toBeGreaterThan(0.95);
  });

  it('scores chance when audits and visitors look alike', () => {
    const alike = requests(3000, (_l, r) => ({ ua: r() < 0.5 ? 'A' : 'B', gapMs: r() * 100, lang: ['de', 'en', 'fr'][Math.floor(r() * 3)] ?? 'en' }));
    const { single, pairs } = bestRules(alike);
    expect(single[0]?.accuracy).toBeLessThan(0.58);
    expect(pairs[0]?.accuracy).toBeLessThan(0.58);
  });
});
