import { describe, expect, it } from 'vitest';
import { createTrafficWindow } from '../../../common/domain/traffic-window.js';

describe('traffic window', () => {
  it('counts per node and minute and keeps the current minute until it ends', () => {
    const w = createTrafficWindow();
    const t0 = Date.parse('2026-01-01T10:00:00Z');
    for (let i = 0; i < 100; i++) w.observe('a', i < 50 ? 10 : 100, i % 10 === 0, t0 + i);
    w.observe('b', 5, false, t0 + 61_000);
    expect(w.drain(t0 + 30_000)).toEqual([]);
    const [a] = w.drain(t0 + 61_000);
    expect(a).toMatchObject({ nodeId: 'a', minute: new Date(t0), requests: 100, errors: 10 });
    expect(a?.p50Ms).toBeGreaterThanOrEqual(10);
    expect(a?.p50Ms).toBeLessThan(13);
    expect(a?.p99Ms).toBeGreaterThanOrEqual(100);
    expect(a?.p99Ms).toBeLessThan(125);
    expect(w.drain(t0 + 61_000)).toEqual([]);
    expect(w.drain(t0 + 61_000, true)).toEqual([expect.objectContaining({ nodeId: 'b', requests: 1, audit: false })]);
  });

  it('keeps audit requests in samples of their own', () => {
    const w = createTrafficWindow();
    const t0 = Date.parse('2026-01-01T10:00:00Z');
    w.observe('a', 10, false, t0);
    w.observe('a', 10, false, t0 + 1, true);
    w.observe('a', 10, true, t0 + 2, true);
    const samples = w.drain(t0 + 60_000);
    expect(samples).toHaveLength(2);
    expect(samples.find((s) => !s.audit)).toMatchObject({ nodeId: 'a', requests: 1, errors: 0 });
    expect(samples.find((s) => s.audit)).toMatchObject({ nodeId: 'a', requests: 2, errors: 1 });
  });
});
