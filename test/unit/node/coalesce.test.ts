import { describe, expect, it } from 'vitest';
import { createSingleFlight } from '../../../node/cache/coalesce.js';
import { createCounter } from '../../../node/heartbeat.js';
import { backoffMs } from '../../../node/enroll.js';
import { escapeHtml } from '../../../node/status-page.js';

describe('single flight', () => {
  it('runs the work once for concurrent callers of one key, and again afterwards', async () => {
    const flights = createSingleFlight<number>();
    let runs = 0;
    let release: (v: number) => void = () => undefined;
    const work = () => {
      runs += 1;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const calls = Array.from({ length: 10 }, () => flights.run('k', work));
    release(42);
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results.filter((r) => r.leader)).toHaveLength(1);
    expect(results.every((r) => r.value === 42)).toBe(true);
    await flights.run('k', async () => (runs += 1));
    expect(runs).toBe(2);
    expect(flights.inFlight()).toBe(0);
  });

  it('shares a failure with the waiters and forgets it', async () => {
    const flights = createSingleFlight<number>();
    const a = flights.run('k', async () => {
      throw new Error('origin down');
    });
    const b = flights.run('k', async () => 1);
    await expect(a).rejects.toThrow('origin down');
    await expect(b).rejects.toThrow('origin down');
    expect((await flights.run('k', async () => 2)).value).toBe(2);
  });
});

describe('node helpers', () => {
  it('counts strictly upward and continues above what the balancer accepted', () => {
    const c = createCounter();
    expect(c.next()).toBe(1);
    c.resetAbove(41);
    expect(c.next()).toBe(42);
    c.resetAbove(3);
    expect(c.next()).toBe(43);
  });

  it('backs off exponentially up to a ceiling', () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 60_000))).toEqual([1000, 2000, 4000, 8000, 60_000]);
  });

  it('escapes everything the balancer reports before it reaches the status page', () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&`)).toBe('&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;');
  });
});
