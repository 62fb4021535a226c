import type { Registry } from 'prom-client';

// Fallback for the overview's traffic chart while no balancer writes `node_traffic`: samples
// this process's own request counter every few seconds and keeps the last hour in memory.

export const REQUESTS_METRIC = 'verity_balancer_requests_total';
const KEEP_MS = 3600_000;

export interface RequestSampler {
  /** Takes one sample now (the timer calls it; tests call it directly). */
  sample: () => Promise<void>;
  /** Requests per second between consecutive samples: x in seconds since epoch. */
  series: () => { x: number[]; rps: number[] };
  stop: () => void;
}

async function counterTotal(metrics: Registry): Promise<number | null> {
  const metric = metrics.getSingleMetric(REQUESTS_METRIC);
  if (!metric) return null;
  const { values } = await metric.get();
  return values.reduce((a, v) => a + v.value, 0);
}

export function startRequestSampler(metrics: Registry, now: () => number, intervalMs = 10_000): RequestSampler {
  const points: { t: number; total: number }[] = [];
  const sample = async (): Promise<void> => {
    const total = await counterTotal(metrics).catch(() => null);
    if (total === null) return;
    const t = now();
    points.push({ t, total });
    while (points.length > 0 && (points[0]?.t ?? t) < t - KEEP_MS) points.shift();
  };
  const timer = intervalMs > 0 ? setInterval(() => void sample(), intervalMs) : null;
  timer?.unref();
  if (timer) void sample();
  return {
    sample,
    series: () => {
      const x: number[] = [];
      const rps: number[] = [];
      for (let i = 1; i < points.length; i++) {
        const a = points[i - 1];
        const b = points[i];
        if (!a || !b || b.t <= a.t) continue;
        x.push(b.t / 1000);
        // A counter only goes down when the process restarted: count from zero then.
        const delta = b.total >= a.total ? b.total - a.total : b.total;
        rps.push(Math.round((delta / ((b.t - a.t) / 1000)) * 100) / 100);
      }
      return { x, rps };
    },
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
