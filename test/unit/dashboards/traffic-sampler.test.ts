import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { REQUESTS_METRIC, startRequestSampler } from '../../../dashboards/traffic-sampler.js';

describe('request sampler', () => {
  it('turns the request counter into requests per second', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: REQUESTS_METRIC, help: 'x', labelNames: ['outcome'], registers: [registry] });
    let now = 1_000_000;
    const s = startRequestSampler(registry, () => now, 0);
    await s.sample();
    counter.inc({ outcome: 'node' }, 80);
    counter.inc({ outcome: 'origin' }, 20);
    now += 10_000;
    await s.sample();
    now += 10_000;
    await s.sample();
    expect(s.series()).toEqual({ x: [1010, 1020], rps: [10, 0] });
    s.stop();
  });

  it('has nothing to show without the balancer counter', async () => {
    const s = startRequestSampler(new Registry(), () => 0, 0);
    await s.sample();
    expect(s.series()).toEqual({ x: [], rps: [] });
  });
});
