import { describe, expect, it } from 'vitest';
import { defaultSecrecyPolicy, disclosedUntil, isDisclosed, validateSecrecyPolicy } from '../../../common/domain/disclosure.js';
import { identityChanges, urlIdentity } from '../../../common/domain/identity.js';

describe('identity changes', () => {
  const base = { publicUrl: 'http://203.0.113.7:8090/', address: '203.0.113.7', subnet: '203.0.113.0/24', location: { lat: 50.11, lon: 8.68 } };

  it('sees the same node in the same place as no change', () => {
    expect(identityChanges(base, { ...base, publicUrl: 'HTTP://203.0.113.7:8090' })).toEqual([]);
    expect(identityChanges(base, { ...base, location: { lat: 50.5, lon: 9 } })).toEqual([]);
    expect(urlIdentity('https://Node.Example')).toBe('https://node.example:443');
  });

  it('names a new URL, address, subnet or a move of more than a few hundred km', () => {
    expect(identityChanges(base, { ...base, publicUrl: 'http://198.51.100.9:8090' })).toEqual(['public URL http://203.0.113.7:8090/ → http://198.51.100.9:8090']);
    expect(identityChanges(base, { ...base, address: '203.0.113.8' })).toEqual(['address 203.0.113.7 → 203.0.113.8']);
    expect(identityChanges(base, { ...base, address: '198.51.100.9', subnet: '198.51.100.0/24' })).toEqual(['subnet 203.0.113.0/24 → 198.51.100.0/24']);
    expect(identityChanges(base, { ...base, location: { lat: -23.55, lon: -46.63 } })[0]).toMatch(/^declared location moved 9\d{3} km/);
    expect(identityChanges(base, { ...base, location: null })).toEqual(['declared location 50.11,8.68 → none']);
  });
});

describe('audit-secrecy delay', () => {
  const secret = 'test-secret-0123456789abcdef';
  const t0 = Date.parse('2030-01-01T00:00:00Z');

  it('shows an event only after its batch is released: between minDelay and batch + minDelay + jitter later', () => {
    const p = defaultSecrecyPolicy;
    for (let i = 0; i < 200; i++) {
      const at = t0 + i * 7 * 60_000 + i * 13_000;
      const node = `node-${i % 7}`;
      let shownAt = at;
      while (!isDisclosed(node, at, shownAt, secret, p)) shownAt += 10_000;
      const lag = shownAt - at;
      expect(lag).toBeGreaterThanOrEqual(p.minDelayMs);
      expect(lag).toBeLessThanOrEqual(p.batchMs + p.minDelayMs + p.jitterMs + 10_000);
    }
  });

  it('releases whole batches, in order, never taking back what was shown', () => {
    let last = -Infinity;
    const cutoffs = new Set<number>();
    for (let now = t0; now < t0 + 24 * 3600_000; now += 60_000) {
      const c = disclosedUntil('n1', now, secret);
      expect(c).toBeGreaterThanOrEqual(last);
      last = c;
      cutoffs.add(c);
    }
    // About one release per 30-minute batch over a day.
    expect(cutoffs.size).toBeGreaterThanOrEqual(46);
    expect(cutoffs.size).toBeLessThanOrEqual(50);
  });

  it('differs between nodes and cannot be computed without the secret', () => {
    const now = t0 + 5 * 3600_000;
    const byNode = new Set(Array.from({ length: 20 }, (_, i) => disclosedUntil(`node-${i}`, now, secret)));
    expect(byNode.size).toBeGreaterThan(10);
    expect(disclosedUntil('n1', now, secret)).not.toBe(disclosedUntil('n1', now, `${secret}x`));
  });

  it('refuses a jitter longer than the batch, and with no batching shows everything at once', () => {
    expect(validateSecrecyPolicy({ batchMs: 1000, minDelayMs: 0, jitterMs: 2000 })).toMatch(/jitter/);
    expect(validateSecrecyPolicy(defaultSecrecyPolicy)).toBeNull();
    expect(isDisclosed('n', t0, t0, secret, { batchMs: 0, minDelayMs: 0, jitterMs: 0 })).toBe(true);
  });
});
