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

export function renderPropagation(r: PropagationResult, command = 'npm run bench -- propagation'): string {
  const row = (action: 'quarantine' | 'reinstate', what: string): string => {
    const s = r.samples.filter((x) => x.action === action);
    const all = s.map((x) => x.allMs);
    const write = s.map((x) => x.writeMs);
    const per = [0, 1].map((i) => median(s.map((x) => x.perBalancerMs[i] ?? NaN)));
    return `| ${what} | ${s.length} | ${ms(median(all))} | ${ms(quantile(all, 0.95))} | ${ms(Math.max(...all))} | ${per.map(ms).join(' / ')} | ${ms(median(write))} |`;
  };
  return [
    '## Trust propagation',
    '',
    `\`${command}\` — machine: ${r.machine}.`,
    '',
    'Two `verity balancer` processes on one PostgreSQL and one `verity node`. An admin action (`applyNodeAction`: a trust event, whose',
    'commit sends `pg_notify`) quarantines the node, then reinstates it; each balancer is asked for a page back to back and the time',
    'is taken when the first answer routed by the change arrives (an upper bound: it includes that request\'s own round trip).',
    '',
    '| change | samples | median (both balancers) | p95 | max | median per balancer | median of the admin action call itself |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    row('quarantine', 'quarantine → no balancer routes to the node'),
    row('reinstate', 'reinstate → both route to it again'),
  ].join('\n');
}
