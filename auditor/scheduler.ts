import { enqueueAudit, listAuditPlan, listUrlSamples, type AuditPlanRow, type NewAudit } from '../common/db/queries/audits.js';
import type { Queryable } from '../common/db/pool.js';
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
  /** What visitors ask for (path and hit count). */
  samples: ReadonlyArray<{ path: string; hits: number }>;
  /** The site's sitemap paths (fresh URLs visitors have not found yet). */
  sitemap: readonly string[];
}

/** Mostly what visitors request (weighted by √hits), sometimes the root, sometimes the sitemap (fresh pages). */
export function choosePage(pool: PagePool, random: () => number): { path: string; fresh: boolean } {
  const r = random();
  if (r < 0.6 && pool.samples.length) {
    const weights = pool.samples.map((s) => Math.sqrt(Math.max(1, s.hits)));
    let x = random() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] ?? 0;
      if (x < 0) return { path: pool.samples[i]?.path ?? '/', fresh: false };
    }
  }
  if (r < 0.8 || !pool.sitemap.length) return { path: '/', fresh: false };
  const path = pool.sitemap[Math.floor(random() * pool.sitemap.length)] ?? '/';
  return { path, fresh: !pool.samples.some((s) => s.path === path) };
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
export async function planDueAudits(db: Queryable, deps: PlanDeps): Promise<number> {
  const rows = (await listAuditPlan(db)).filter((r) => !r.pending);
  let queued = 0;
  const samples = new Map<string, Array<{ path: string; hits: number }>>();
  for (const row of rows) {
    if (!samples.has(row.siteId)) samples.set(row.siteId, await listUrlSamples(db, row.siteId));
    const sitemap = await deps.sitemapFor(row).catch(() => []);
    const page = choosePage({ samples: samples.get(row.siteId) ?? [], sitemap }, deps.random);
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
