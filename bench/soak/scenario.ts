import type { Logger } from '../../common/log.js';
import { SOAK_SITE_HOST, startCluster, type Cluster } from './cluster.js';
import { startLoad, type LoadCounts } from './load.js';
import { startSamplers, type CounterName, type RssSample } from './samplers.js';

// The resilience soak: sustained visitor load while, in turn, a node is killed and comes back,
// another turns rogue, PostgreSQL stops and starts, a balancer gets SIGTERM and comes back, and
// a node drains (SIGTERM) and comes back.

export interface SoakOptions {
  dir: string;
  log: Logger;
  durationMs: number;
  concurrency: number;
  ratePerSecond: number;
  /** A request with no complete answer by then counts as hung. */
  timeoutMs: number;
  balancerArgs: string[];
  startTimeoutMs: number;
  progress?: (line: string) => void;
}

export interface FaultEvent {
  name: string;
  /** From the start of the load. */
  atMs: number;
  tookMs: number;
}

export interface SoakReport {
  durationMs: number;
  startupMs: number;
  counts: LoadCounts;
  events: FaultEvent[];
  /** While PostgreSQL was stopped, from the stop command until it accepted connections again (+1 s). */
  pgWindow: { fromMs: number; toMs: number } | null;
  fiveXxOutsidePg: number;
  fiveXxInPg: number;
  balancerCounters: Record<CounterName, number>;
  /** Exit code of the balancer that got SIGTERM. */
  sigtermExitCode: number | null;
  /**
   * Lost requests that look like a drain reset: a new connection to the balancer that got SIGTERM, reset with
   * no response, during its drain (fixed in balancer/routes/shutdown.ts; still counted, to tell a regression apart).
   */
  lostToDrainReset: number;
  rss: RssSample[];
  nodeNames: Record<string, string>;
  turncoatFinalStatus: string;
  /** Every trust event of the run (ms into the run, node name, kind, status after, reason): why routing changed. */
  trustEvents: string[];
}

/** Runs `action` at `fraction` of the run; the events run one after another, never overlapping. */
function scheduler(t0: number, durationMs: number, events: FaultEvent[], progress: (l: string) => void) {
  return async (fraction: number, name: string, action: () => Promise<void>): Promise<void> => {
    const wait = t0 + fraction * durationMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = Date.now();
    progress(`${((at - t0) / 1000).toFixed(1)}s ${name}`);
    await action();
    events.push({ name, atMs: at - t0, tookMs: Date.now() - at });
  };
}

interface Faults {
  pgWindow: { fromMs: number; toMs: number } | null;
  sigtermExitCode: number | null;
  sigtermWindow: { fromMs: number; toMs: number; url: string } | null;
}

async function runFaults(c: Cluster, o: SoakOptions, t0: number, events: FaultEvent[], scrapeNow: () => Promise<void>): Promise<Faults> {
  const at = scheduler(t0, o.durationMs, events, o.progress ?? (() => undefined));
  const out: Faults = { pgWindow: null, sigtermExitCode: null, sigtermWindow: null };
  const [victim] = c.nodes;
  const [restarted] = c.balancers;
  const pgDownMs = Math.min(15_000, Math.max(3_000, 0.08 * o.durationMs));
  if (victim) {
    await at(0.1, `SIGKILL ${victim.name}`, () => victim.kill('SIGKILL'));
    await at(0.2, `restart ${victim.name}`, async () => void (await victim.start()));
  }
  const turncoat = c.turncoat;
  if (turncoat) {
    await at(0.28, `${turncoat.node.name} turns rogue (alters every JS/CSS file, half the pages)`, async () => {
      turncoat.rogue.staticTamperRate = 1;
      turncoat.rogue.tamperRate = 0.5;
    });
  }
  await at(0.4, 'stop PostgreSQL', async () => {
    const from = Date.now() - t0;
    await c.pg.stop();
    await new Promise((r) => setTimeout(r, pgDownMs));
    await c.pg.start();
    out.pgWindow = { fromMs: from, toMs: Date.now() - t0 + 1000 };
  });
  if (restarted && c.balancers.length > 1) {
    await at(0.65, `SIGTERM ${restarted.name}, then start it again`, async () => {
      await scrapeNow();
      const fromMs = Date.now() - t0;
      out.sigtermExitCode = await restarted.terminate();
      out.sigtermWindow = { fromMs, toMs: Date.now() - t0, url: restarted.publicUrl };
      await restarted.start();
    });
  }
  const drained = c.nodes[1];
  if (drained && drained !== c.turncoat?.node) {
    await at(0.85, `SIGTERM ${drained.name} (drain), then start it again`, async () => {
      await drained.kill('SIGTERM');
      await drained.start();
    });
  }
  return out;
}

function lostToDrainReset(counts: LoadCounts, w: Faults['sigtermWindow']): number {
  if (!w) return 0;
  const matches = (kind: string): boolean => kind.startsWith('lost ECONNRESET (new connection, no response yet)') && kind.endsWith(`${w.url})`);
  return counts.failures.filter((f) => matches(f.kind) && f.atMs >= w.fromMs - 1000 && f.atMs <= w.toMs).length;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const startedAt = Date.now();
  const cluster = await startCluster({ dir: o.dir, log: o.log, balancers: 2, honestNodes: 3, balancerArgs: o.balancerArgs, startTimeoutMs: o.startTimeoutMs });
  try {
    const startupMs = Date.now() - startedAt;
    o.progress?.(`cluster up in ${(startupMs / 1000).toFixed(1)}s; load for ${(o.durationMs / 1000).toFixed(0)}s`);
    const t0 = Date.now();
    const samplers = startSamplers(cluster.balancers, t0);
    const load = startLoad({
      balancerUrls: cluster.balancers.map((b) => b.publicUrl), host: SOAK_SITE_HOST, concurrency: o.concurrency, ratePerSecond: o.ratePerSecond,
      durationMs: o.durationMs, maxRequests: Math.ceil((o.ratePerSecond * o.durationMs) / 1000) + 1000, timeoutMs: o.timeoutMs,
    });
    const events: FaultEvent[] = [];
    const faults = await runFaults(cluster, o, t0, events, () => samplers.scrapeNow()).catch(async (err: unknown) => {
      load.stop();
      await load.done;
      await samplers.stop();
      throw err;
    });
    const counts = await load.done;
    await samplers.stop();
    const inPg = (f: { startedAt: number; endedAt: number }): boolean => faults.pgWindow !== null && f.endedAt - t0 >= faults.pgWindow.fromMs && f.startedAt - t0 <= faults.pgWindow.toMs;
    const { rows } = await cluster.pool.query<{ status: string }>('SELECT status FROM nodes WHERE id = $1', [cluster.turncoat?.node.nodeId ?? '']);
    const events2 = await cluster.pool.query<{ ms: number; name: string; kind: string; status_after: string; reason: string }>(
      `SELECT (extract(epoch FROM e.at) * 1000 - $1)::float8 AS ms, n.name, e.kind, e.status_after, e.reason
         FROM trust_events e JOIN nodes n ON n.id = e.node_id ORDER BY e.id LIMIT 500`, [t0]);
    const trustEvents = events2.rows.map((e) => `${(e.ms / 1000).toFixed(1)}s ${e.name} ${e.kind} → ${e.status_after} (${e.reason.slice(0, 80)})`);
    return {
      durationMs: Date.now() - t0, startupMs, counts, events, pgWindow: faults.pgWindow,
      fiveXxOutsidePg: counts.fiveXx.filter((f) => !inPg(f)).length, fiveXxInPg: counts.fiveXx.filter(inPg).length,
      balancerCounters: {
        verity_balancer_retries_total: samplers.counter('verity_balancer_retries_total'),
        verity_balancer_integrity_mismatches_total: samplers.counter('verity_balancer_integrity_mismatches_total'),
        verity_balancer_ejections_total: samplers.counter('verity_balancer_ejections_total'),
      },
      sigtermExitCode: faults.sigtermExitCode, lostToDrainReset: lostToDrainReset(counts, faults.sigtermWindow), rss: samplers.rss,
      nodeNames: Object.fromEntries(cluster.nodes.map((n) => [n.nodeId, n.name])), turncoatFinalStatus: rows[0]?.status ?? 'unknown', trustEvents,
    };
  } finally {
    await cluster.close();
  }
}
