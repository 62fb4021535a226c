import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { staticAssets } from '../../test/support/origin/assets.js';
import { publicPages } from '../../test/support/origin/pages.js';
import { visit, type VisitResult } from './visit.js';

// Sustained visitor load over keep-alive connections, spread over the balancers the way DNS
// round robin would, with the client-side failover a browser does (refused connection, a
// draining balancer's 503, a keep-alive connection closed under us). Bounded in count and time.

export interface LoadOptions {
  balancerUrls: string[];
  host: string;
  concurrency: number;
  /** Target requests per second over all workers. */
  ratePerSecond: number;
  durationMs: number;
  maxRequests: number;
  timeoutMs: number;
  now?: () => number;
  random?: () => number;
}

export interface FiveXx {
  startedAt: number;
  endedAt: number;
  status: number;
  servedBy: string;
}

export interface LoadCounts {
  /** Visitor requests, each counted once whatever the client retried. */
  sent: number;
  ok2xx: number;
  other3xx4xx: number;
  fiveXx: FiveXx[];
  /** 503 BAL_ERR_SHUTTING_DOWN from a draining balancer (the visitor then tried the other one). */
  shed: number;
  /** Client-side retries on another balancer (refused, shed, stale keep-alive connection). */
  failovers: number;
  staleConnections: number;
  /** Sent, and the connection failed or the body was cut short. */
  lost: number;
  lostReasons: Record<string, number>;
  hung: number;
  /** No balancer took the request at all (every attempt refused or shed). */
  unanswered: number;
  staticChecked: number;
  alteredStatic: number;
  alteredHtml: number;
  servedBy: Record<string, number>;
  latenciesMs: number[];
  /** Per second of the run: answers served by nodes, by the origin, and failures (5xx, lost, hung). */
  timeline: { nodes: number; origin: number; failed: number }[];
  /** When each lost or hung request started (ms into the run) and why. */
  failures: { atMs: number; kind: string }[];
}

const expectedSha = new Map(Object.entries(staticAssets).map(([path, a]) => [path, createHash('sha256').update(a.body).digest('hex')]));
const ROGUE_MARKER = 'rogue-cdn.example';

export function emptyCounts(): LoadCounts {
  return { sent: 0, ok2xx: 0, other3xx4xx: 0, fiveXx: [], shed: 0, failovers: 0, staleConnections: 0, lost: 0, lostReasons: {}, hung: 0, unanswered: 0, staticChecked: 0, alteredStatic: 0, alteredHtml: 0, servedBy: {}, latenciesMs: [], timeline: [], failures: [] };
}

/** Counts one final answer; checks static bytes against the origin's hash and pages for the rogue's payload. */
function second(c: LoadCounts, atMs: number): { nodes: number; origin: number; failed: number } {
  const i = Math.max(0, Math.min(7200, Math.floor(atMs / 1000)));
  while (c.timeline.length <= i) c.timeline.push({ nodes: 0, origin: 0, failed: 0 });
  return c.timeline[i] as { nodes: number; origin: number; failed: number };
}

function tally(c: LoadCounts, path: string, r: Extract<VisitResult, { kind: 'response' }>, startedAt: number, endedAt: number, runStart: number): void {
  c.servedBy[r.servedBy || '(none)'] = (c.servedBy[r.servedBy || '(none)'] ?? 0) + 1;
  const s = second(c, endedAt - runStart);
  if (r.status >= 500) s.failed++;
  else if (r.servedBy === 'origin') s.origin++;
  else s.nodes++;
  if (c.latenciesMs.length < 200_000) c.latenciesMs.push(endedAt - startedAt);
  if (r.status >= 500) {
    if (c.fiveXx.length < 100_000) c.fiveXx.push({ startedAt, endedAt, status: r.status, servedBy: r.servedBy });
    return;
  }
  if (r.status < 200 || r.status >= 300) {
    c.other3xx4xx++;
    return;
  }
  c.ok2xx++;
  const sha = expectedSha.get(path);
  if (sha) {
    c.staticChecked++;
    if (createHash('sha256').update(r.body).digest('hex') !== sha) c.alteredStatic++;
  } else if (r.body.includes(ROGUE_MARKER)) c.alteredHtml++;
}

export interface LoadRun {
  counts: LoadCounts;
  /** Resolves when every worker has finished (the duration is over and nothing is in flight). */
  done: Promise<LoadCounts>;
  stop(): void;
}

export function startLoad(o: LoadOptions): LoadRun {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const paths = [...Object.keys(publicPages), ...Object.keys(staticAssets), ...Object.keys(staticAssets)];
  const agents = o.balancerUrls.map(() => new Agent({ keepAlive: true, maxSockets: o.concurrency }));
  const counts = emptyCounts();
  const runStart = now();
  const endAt = runStart + o.durationMs;
  let stopped = false;
  let turn = 0;
  const gapMs = (1000 * o.concurrency) / o.ratePerSecond;

  async function one(): Promise<void> {
    const path = paths[Math.floor(random() * paths.length)] ?? '/';
    const first = turn++ % o.balancerUrls.length;
    counts.sent++;
    const startedAt = now();
    for (let attempt = 0; attempt <= o.balancerUrls.length; attempt++) {
      const i = (first + attempt) % o.balancerUrls.length;
      const r = await visit({ baseUrl: o.balancerUrls[i] ?? '', host: o.host, path, agent: agents[i] as Agent, timeoutMs: o.timeoutMs });
      if (r.kind === 'response' && !r.shuttingDown) return tally(counts, path, r, startedAt, now(), runStart);
      if (r.kind === 'lost' || r.kind === 'hung') {
        if (r.kind === 'lost') counts.lost++;
        else counts.hung++;
        if (r.kind === 'lost') counts.lostReasons[r.error] = (counts.lostReasons[r.error] ?? 0) + 1;
        second(counts, now() - runStart).failed++;
        if (counts.failures.length < 10_000) counts.failures.push({ atMs: startedAt - runStart, kind: r.kind === 'lost' ? `lost ${r.error} (${i === first ? 'first try' : 'after failover'}, ${o.balancerUrls[i]})` : 'hung' });
        return;
      }
      if (r.kind === 'response') counts.shed++;
      if (r.kind === 'stale-connection') counts.staleConnections++;
      counts.failovers++;
      // A refused connection is instant: give the other balancer a moment before the next try.
      await new Promise((res) => setTimeout(res, 50));
    }
    counts.unanswered++;
  }

  async function worker(): Promise<void> {
    let next = now();
    while (!stopped && now() < endAt && counts.sent < o.maxRequests) {
      await one();
      next += gapMs;
      const wait = next - now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      else next = now();
    }
  }

  const done = Promise.all(Array.from({ length: o.concurrency }, () => worker())).then(() => {
    for (const a of agents) a.destroy();
    return counts;
  });
  return { counts, done, stop: () => (stopped = true) };
}
