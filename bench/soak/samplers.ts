import { readFileSync } from 'node:fs';
import type { BalancerHandle } from './processes.js';

// What the soak watches besides the visitors' answers: each balancer process's resident memory
// (from /proc) and its own counters (from /metrics). A restarted balancer is a new pid with
// counters from zero, so counters are kept per pid and summed.

export interface RssSample {
  atMs: number;
  balancer: string;
  pid: number;
  rssMb: number;
}

export function readRssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const COUNTERS = ['verity_balancer_retries_total', 'verity_balancer_integrity_mismatches_total', 'verity_balancer_ejections_total'] as const;
export type CounterName = (typeof COUNTERS)[number];

export function parseCounters(text: string): Partial<Record<CounterName, number>> {
  const out: Partial<Record<CounterName, number>> = {};
  for (const name of COUNTERS) {
    const m = new RegExp(`^${name}(?:\\{\\})? (\\d+(?:\\.\\d+)?(?:e\\+?\\d+)?)$`, 'm').exec(text);
    if (m) out[name] = Number(m[1]);
  }
  return out;
}

export interface Samplers {
  rss: RssSample[];
  /** Sum over every balancer process seen of its last scraped value. */
  counter(name: CounterName): number;
  /** Scrapes every running balancer now (before a SIGTERM, so its last counts are kept). */
  scrapeNow(): Promise<void>;
  /** One last scrape of every running balancer, then stop. */
  stop(): Promise<void>;
}

export function startSamplers(balancers: BalancerHandle[], startedAt: number, intervalMs = 1000, now: () => number = Date.now): Samplers {
  const rss: RssSample[] = [];
  const lastByPid = new Map<number, Partial<Record<CounterName, number>>>();
  let tick = 0;
  const scrape = async (b: BalancerHandle): Promise<void> => {
    const pid = b.proc?.child.pid;
    if (!pid) return;
    try {
      const res = await fetch(`${b.controlUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) lastByPid.set(pid, { ...lastByPid.get(pid), ...parseCounters(await res.text()) });
    } catch {
      // Down or restarting: the last value of that pid stands.
    }
  };
  const timer = setInterval(() => {
    for (const b of balancers) {
      const pid = b.proc?.child.pid;
      const mb = pid ? readRssMb(pid) : null;
      if (pid && mb !== null && rss.length < 100_000) rss.push({ atMs: now() - startedAt, balancer: b.name, pid, rssMb: mb });
      if (tick % 2 === 0) void scrape(b);
    }
    tick++;
  }, intervalMs);
  return {
    rss,
    counter: (name) => [...lastByPid.values()].reduce((sum, c) => sum + (c[name] ?? 0), 0),
    scrapeNow: async () => {
      await Promise.all(balancers.map(scrape));
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(balancers.map(scrape));
    },
  };
}
