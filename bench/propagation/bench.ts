import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/log.js';
import { SOAK_SITE_HOST, startCluster } from '../soak/cluster.js';
import { machineLine } from '../soak/markdown.js';
import { median, quantile } from '../soak/summary.js';
import { firstArrival, measureChange, watchBalancer, type PropagationSample } from './measure.js';

// Trust propagation: two real balancers on one PostgreSQL, one real node. An admin quarantines
// the node, then reinstates it, `repeats` times; each time we measure until BOTH balancers route
// by the change (LISTEN/NOTIFY → reload of that node → routing table).

export interface PropagationOptions {
  repeats: number;
  /** Pause between changes, so each one is measured from a settled state. */
  settleMs?: number;
  progress?: (line: string) => void;
}

export interface PropagationResult {
  repeats: number;
  samples: PropagationSample[];
  machine: string;
}

export async function benchPropagation(o: PropagationOptions): Promise<PropagationResult> {
  const repeats = Math.max(1, Math.min(200, Math.floor(o.repeats)));
  const dir = mkdtempSync(join(tmpdir(), 'verity-propagation-'));
  // PostgreSQL runs as its own user and must reach its data directory inside.
  chmodSync(dir, 0o755);
  const cluster = await startCluster({ dir, log: silentLogger(), balancers: 2, honestNodes: 1, turncoat: false, balancerArgs: [], startTimeoutMs: 120_000 });
  const watches = cluster.balancers.map((b) => watchBalancer(b.publicUrl));
  try {
    const nodeId = cluster.nodes[0]?.nodeId ?? '';
    const m = { pool: cluster.pool, nodeId, watches, host: SOAK_SITE_HOST, path: '/about', timeoutMs: 15_000 };
    // Settled: both balancers route to the (reinstated, hence active) node.
    for (const w of watches) await firstArrival(w, SOAK_SITE_HOST, '/about', (by) => by === nodeId, 30_000, () => performance.now());
    const samples: PropagationSample[] = [];
    for (let i = 0; i < repeats; i++) {
      for (const action of ['quarantine', 'reinstate'] as const) {
        await new Promise((r) => setTimeout(r, o.settleMs ?? 200));
        const s = await measureChange(m, action);
        samples.push(s);
        o.progress?.(`${i + 1}/${repeats} ${action}: ${s.allMs.toFixed(1)} ms (${s.perBalancerMs.map((x) => x.toFixed(1)).join(', ')}; write ${s.writeMs.toFixed(1)})`);
      }
    }
    return { repeats, samples, machine: machineLine() };
  } finally {
    for (const w of watches) w.agent.destroy();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x: number): string => `${x.toFixed(0)} ms`;

type Action = 'quarantine' | 'reinstate';

function allMs(r: PropagationResult, action: Action): number[] {
  return r.samples.filter((x) => x.action === action).map((x) => x.allMs);
}

/** Medians over the runs of each run's own median / p95 / max. */
export function renderPropagation(runs: PropagationResult[], command = 'npm run bench -- propagation', opts: { heading?: boolean } = {}): string {
  const row = (action: Action, what: string): string => {
    const of = (f: (xs: number[]) => number): number => median(runs.map((r) => f(allMs(r, action))));
    const per = [0, 1].map((i) => median(runs.map((r) => median(r.samples.filter((x) => x.action === action).map((x) => x.perBalancerMs[i] ?? NaN)))));
    const write = median(runs.map((r) => median(r.samples.filter((x) => x.action === action).map((x) => x.writeMs))));
    const samples = runs.reduce((n, r) => n + allMs(r, action).length, 0);
    return `| ${what} | ${samples} | ${ms(of(median))} | ${ms(of((xs) => quantile(xs, 0.95)))} | ${ms(of((xs) => Math.max(...xs)))} | ${per.map(ms).join(' / ')} | ${ms(write)} |`;
  };
  const eachRun = runs.map((r, i) => `- run ${i + 1}: quarantine median ${ms(median(allMs(r, 'quarantine')))}, p95 ${ms(quantile(allMs(r, 'quarantine'), 0.95))}; `
    + `reinstate median ${ms(median(allMs(r, 'reinstate')))}, p95 ${ms(quantile(allMs(r, 'reinstate'), 0.95))}`);
  return [
    ...(opts.heading === false ? [] : ['## Trust propagation', '']),
    `\`${command}\` — ${runs.length} run(s) of ${runs[0]?.repeats ?? 0} quarantine/reinstate pairs; machine: ${runs[0]?.machine ?? ''}.`,
    '',
    'Two `verity balancer` processes on one PostgreSQL and one `verity node`. An admin action (`applyNodeAction`: a trust event, whose',
    'commit sends `pg_notify`) quarantines the node, then reinstates it; each balancer is asked for a page back to back and the time',
    'is taken, from the start of the admin action, when the first answer routed by the change arrives (an upper bound: it includes',
    'that request\'s own round trip and the admin action\'s own write, whose time is given too).',
    '',
    '| change | samples | median (both balancers) | p95 | max | median per balancer | admin action call itself (median) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    row('quarantine', 'quarantine → no balancer routes to the node'),
    row('reinstate', 'reinstate → both route to it again'),
    '',
    'Figures are medians over the runs of each run\'s median, p95 and max. Each run:',
    '',
    ...eachRun,
  ].join('\n');
}
