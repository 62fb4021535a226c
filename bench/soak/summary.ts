import type { SoakReport } from './scenario.js';

// Figures of one soak run, and the markdown that quotes them.

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

export interface MemoryFigures {
  balancer: string;
  /** Median RSS over 10–30 % of the run (after warm-up) and over its last 20 %. */
  earlyMb: number;
  lateMb: number;
  maxMb: number;
  growthMb: number;
}

/** Memory of the balancer that ran the whole soak (the other one was restarted). */
export function memoryFigures(r: SoakReport): MemoryFigures | null {
  const byPid = new Map<number, typeof r.rss>();
  for (const s of r.rss) byPid.set(s.pid, [...(byPid.get(s.pid) ?? []), s]);
  const longest = [...byPid.values()].sort((a, b) => b.length - a.length)[0];
  if (!longest || longest.length < 5) return null;
  const span = r.durationMs;
  const pick = (from: number, to: number) => longest.filter((s) => s.atMs >= from * span && s.atMs <= to * span).map((s) => s.rssMb);
  const earlyMb = median(pick(0.1, 0.3));
  const lateMb = median(pick(0.8, 1));
  return { balancer: longest[0]?.balancer ?? '', earlyMb, lateMb, maxMb: Math.max(...longest.map((s) => s.rssMb)), growthMb: lateMb - earlyMb };
}

export interface SoakFigures {
  sent: number;
  ok2xx: number;
  fiveXx: number;
  fiveXxOutsidePg: number;
  fiveXxInPg: number;
  /** 5xx outside the PostgreSQL window as a share of requests sent outside it (approximated by all sent). */
  fiveXxOutsidePgShare: number;
  shed: number;
  failovers: number;
  staleConnections: number;
  balancerRetries: number;
  integrityMismatches: number;
  lost: number;
  hung: number;
  unanswered: number;
  staticChecked: number;
  alteredStatic: number;
  alteredHtml: number;
  servedByNodesShare: number;
  p50Ms: number;
  p99Ms: number;
  memory: MemoryFigures | null;
}

export function soakFigures(r: SoakReport): SoakFigures {
  const c = r.counts;
  const byNodes = Object.entries(c.servedBy).filter(([k]) => k !== 'origin').reduce((s, [, v]) => s + v, 0);
  const answered = Object.values(c.servedBy).reduce((s, v) => s + v, 0);
  return {
    sent: c.sent, ok2xx: c.ok2xx, fiveXx: c.fiveXx.length, fiveXxOutsidePg: r.fiveXxOutsidePg, fiveXxInPg: r.fiveXxInPg,
    fiveXxOutsidePgShare: c.sent > 0 ? r.fiveXxOutsidePg / c.sent : 0,
    shed: c.shed, failovers: c.failovers, staleConnections: c.staleConnections,
    balancerRetries: r.balancerCounters.verity_balancer_retries_total, integrityMismatches: r.balancerCounters.verity_balancer_integrity_mismatches_total,
    lost: c.lost, hung: c.hung, unanswered: c.unanswered, staticChecked: c.staticChecked, alteredStatic: c.alteredStatic, alteredHtml: c.alteredHtml,
    servedByNodesShare: answered > 0 ? byNodes / answered : 0,
    p50Ms: quantile(c.latenciesMs, 0.5), p99Ms: quantile(c.latenciesMs, 0.99), memory: memoryFigures(r),
  };
}

/** Stretches of whole seconds in which the origin answered more visitors than the nodes did. */
export function originStretches(r: SoakReport): string[] {
  const out: string[] = [];
  let from = -1;
  r.counts.timeline.forEach((s, i) => {
    const originHeavy = s.origin > s.nodes;
    if (originHeavy && from < 0) from = i;
    if (!originHeavy && from >= 0) {
      out.push(`${from}–${i} s`);
      from = -1;
    }
  });
  if (from >= 0) out.push(`${from}–${r.counts.timeline.length} s`);
  return out;
}

export function describeRun(r: SoakReport): string {
  const f = soakFigures(r);
  const served = Object.entries(r.counts.servedBy).map(([k, v]) => `${r.nodeNames[k] ?? k}=${v}`).join(' ');
  return [
    `sent ${f.sent}, 2xx ${f.ok2xx}, 5xx ${f.fiveXx} (outside PG window ${f.fiveXxOutsidePg}, inside ${f.fiveXxInPg}), shed ${f.shed}, failovers ${f.failovers} (stale keep-alive ${f.staleConnections})`,
    `balancer retries ${f.balancerRetries}, integrity mismatches caught ${f.integrityMismatches}; lost ${f.lost} (${r.lostToDrainReset} to the known drain reset) ${JSON.stringify(r.counts.lostReasons)}, hung ${f.hung}, unanswered ${f.unanswered}`,
    `static checked ${f.staticChecked}, altered static delivered ${f.alteredStatic}, altered pages delivered ${f.alteredHtml}; turncoat ends ${r.turncoatFinalStatus}; SIGTERM exit ${r.sigtermExitCode}`,
    `served by: ${served} (nodes ${(100 * f.servedByNodesShare).toFixed(1)}%); latency p50 ${f.p50Ms} ms p99 ${f.p99Ms} ms`,
    f.memory ? `memory (${f.memory.balancer}): early ${f.memory.earlyMb.toFixed(1)} MB, late ${f.memory.lateMb.toFixed(1)} MB, max ${f.memory.maxMb.toFixed(1)} MB` : 'memory: too few samples',
    `origin answered most visitors during: ${originStretches(r).join(', ') || 'never'}; failures: ${r.counts.failures.map((f) => `${(f.atMs / 1000).toFixed(1)}s ${f.kind}`).join('; ') || 'none'}`,
    `trust events: ${r.trustEvents.join('; ')}`,
    `events: ${r.events.map((e) => `${(e.atMs / 1000).toFixed(1)}s ${e.name} (${e.tookMs} ms)`).join('; ')}`,
  ].join('\n');
}
