import { enqueueAudit, listAuditPlan, listUrlSamples, type AuditPlanRow, type NewAudit } from '../common/db/queries/audits.js';
import type { Queryable } from '../common/db/pool.js';
import { listNewUrls, listTailUrls, listVisitorSamples } from '../common/db/queries/visitor-samples.js';
import type { NodeStatus } from '../common/domain/trust.js';

// When to audit whom, and which page. The decisions are pure (random and clock injected); the
// plan step writes them as queued audits, one pending per (node, site), so several auditor
// processes can plan at once.

export interface NodeAuditState {
  status: NodeStatus;
  integrity: number;
  cleanAuditStreak: number;
}

const between = (random: () => number, lo: number, hi: number) => lo + (hi - lo) * random();

/**
 * Delay until the next audit of a node. Never more than `auditEveryMs`; probation, quarantined
 * and low-integrity nodes far more often; a long clean record lowers the chance of a quick
 * re-check (BOINC-style), but never below 10%, so nobody can predict a quiet window.
 */
export function nextAuditDelayMs(node: NodeAuditState, auditEveryMs: number, random: () => number): number {
  const e = auditEveryMs;
  if (node.status === 'probation') return between(random, 0.05, 0.2) * e;
  if (node.status === 'quarantined' || node.integrity < 0.6) return between(random, 0.1, 0.3) * e;
  const quickChance = Math.max(0.1, 1 / (1 + node.cleanAuditStreak / 4));
  return random() < quickChance ? between(random, 0.05, 0.35) * e : between(random, 0.5, 1) * e;
}

export interface PagePool {
  /** What visitors ask for most (path and hit count). */
  samples: ReadonlyArray<{ path: string; hits: number }>;
  /** The site's sitemap paths (fresh URLs visitors have not found yet). */
  sitemap: readonly string[];
  /** Paths this node served in the last minutes, one entry per sampled request (its traffic as it is). */
  nodeRecent?: readonly string[];
  /** Paths first requested on the site recently (a rogue may tamper only the first time). */
  newUrls?: readonly string[];
  /** A uniform sample of every page visitors asked for: the long tail. */
  tail?: readonly string[];
}

function weighted(samples: PagePool['samples'], random: () => number): string | null {
  let x = random() * samples.reduce((a, s) => a + Math.max(1, s.hits), 0);
  for (const s of samples) {
    x -= Math.max(1, s.hits);
    if (x < 0) return s.path;
  }
  return null;
}

const uniform = (list: readonly string[] | undefined, random: () => number): string | null => (list?.length ? (list[Math.floor(random() * list.length)] ?? null) : null);

/**
 * From the whole traffic distribution (issue 15.1): mostly as visitors request (this node's
 * recent requests, and the site's pages by hits), plus recently first-seen pages, the long tail,
 * the sitemap and the root. An empty source gives its share to the traffic-weighted draw.
 */
export function choosePage(pool: PagePool, random: () => number): { path: string; fresh: boolean } {
  const r = random();
  const pick = r < 0.35 ? uniform(pool.nodeRecent, random)
    : r < 0.6 ? null
      : r < 0.72 ? uniform(pool.newUrls, random)
        : r < 0.84 ? uniform(pool.tail, random)
          : r < 0.92 ? uniform(pool.sitemap, random)
            : '/';
  const path = pick ?? weighted(pool.samples, random) ?? (r < 0.92 ? uniform(pool.sitemap, random) : null) ?? '/';
  return { path, fresh: !pool.samples.some((s) => s.path === path) && !(pool.tail ?? []).includes(path) && !(pool.nodeRecent ?? []).includes(path) };
}

/** The audit to queue for a pair that has none pending. Pure. */
export function planAudit(row: AuditPlanRow, page: { path: string; fresh: boolean }, auditEveryMs: number, now: Date, random: () => number): NewAudit {
  const jitterMs = between(random, 0, Math.min(10_000, auditEveryMs * 0.05));
  const last = row.lastAuditAt?.getTime() ?? null;
  const due = last === null ? now.getTime() : last + nextAuditDelayMs(row, auditEveryMs, random);
  // Jitter, but never past the --audit-every promise.
  const latest = last === null ? Infinity : last + auditEveryMs;
  const runAfter = Math.max(now.getTime(), Math.min(due + jitterMs, latest));
  const reason: NewAudit['reason'] = row.status === 'probation' ? 'probation' : 'scheduled';
  return { nodeId: row.nodeId, siteId: row.siteId, url: page.path, reason, runAfter: new Date(runAfter) };
}

export interface PlanDeps {
  auditEveryMs: number;
  now: () => Date;
  random: () => number;
  /** Sitemap paths of a site (cached by the caller). */
  sitemapFor: (row: AuditPlanRow) => Promise<string[]>;
}

/** Queues the next audit of every (node, site) pair that has none pending. Returns how many. */
/** How far back "requested through this node in the last minutes" and "first seen recently" reach. */
export const recentWindowMs = 15 * 60_000;

async function sitePool(db: Queryable, siteId: string, now: Date) {
  return { samples: await listUrlSamples(db, siteId), newUrls: await listNewUrls(db, siteId, recentWindowMs, now), tail: await listTailUrls(db, siteId) };
}

export async function planDueAudits(db: Queryable, deps: PlanDeps): Promise<number> {
  const rows = (await listAuditPlan(db)).filter((r) => !r.pending);
  let queued = 0;
  const pools = new Map<string, Awaited<ReturnType<typeof sitePool>>>();
  for (const row of rows) {
    if (!pools.has(row.siteId)) pools.set(row.siteId, await sitePool(db, row.siteId, deps.now()));
    const sitemap = await deps.sitemapFor(row).catch(() => []);
    const since = deps.now().getTime() - recentWindowMs;
    const nodeRecent = (await listVisitorSamples(db, row.siteId, row.nodeId)).filter((v) => v.own && v.at.getTime() >= since).map((v) => v.path);
    const site = pools.get(row.siteId) ?? { samples: [], newUrls: [], tail: [] };
    const page = choosePage({ ...site, sitemap, nodeRecent }, deps.random);
    const audit = planAudit(row, page, deps.auditEveryMs, deps.now(), deps.random);
    if (await enqueueAudit(db, audit)) queued++;
  }
  return queued;
}

/** Path and query of an audit's url (stored as a path, or a full URL by other writers). */
export function auditPath(url: string): string {
  if (url.startsWith('/')) return url;
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return '/';
  }
}
