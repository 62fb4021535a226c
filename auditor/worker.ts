import { hostname } from 'node:os';
import { auditQueueLagMs, claimAudits, finishAudit, requeueStaleAudits, type ClaimedAudit } from '../common/db/queries/audits.js';
import { recordTrustEvent } from '../common/db/queries/trust.js';
import type { Pool } from '../common/db/pool.js';
import type { TrustEventKind, TrustPolicy } from '../common/domain/trust.js';
import { describeError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { auditVisitor } from '../common/db/queries/confirmations.js';
import { createAuditMemory, runAudit, type AuditMemory, type AuditRun, type RenderFn, type RenderSettings } from './checks/run-audit.js';
import { confirmationOf, followUp } from './confirm.js';
import { worstSeverity } from './compare/types.js';
import { withDeadline } from './deadline.js';
import { buildEvidence, buildFindings, buildSummary } from './evidence/build.js';
import { createBalancerFetcher, createDirectNodeFetcher, createOriginFetcher, memoize, type FetchLimits, type PageFetcher, type VisitContext } from './fetch/fetchers.js';
import { openConnections, type HttpClient } from './fetch/http-client.js';
import { auditLookups, pageInfoOf, SitePages, type PageInfo } from './fetch/site-pages.js';
import { planVisit, type VisitPlan } from './fetch/visit-plan.js';
import { visitAfter, visitBefore, withParseDelay, type VisitBrowser } from './fetch/visit.js';
import { drawVisitor, fallbackChromiumMajor, type VisitorProfile } from './fetch/visitor-profile.js';
import { listVisitorSamples } from '../common/db/queries/visitor-samples.js';
import { auditPath, planDueAudits } from './scheduler.js';
import { createSitemapCache } from './sitemap.js';

// The audit loop of one process: plan, claim (SKIP LOCKED), audit, store, move trust. Several
// processes on several machines share the queue.

export interface WorkerDeps {
  pool: Pool;
  log: Logger;
  client: HttpClient;
  render: RenderFn | null;
  /** The balancer's public URL and the pin secret; null audits nodes at their own address (trials). */
  balancer: { url: string; auditSecret: string } | null;
  concurrency: number;
  auditEveryMs: number;
  renderSettings: RenderSettings;
  limits: FetchLimits;
  /** Whole-audit deadline; past it the audit is inconclusive. */
  auditTimeoutMs: number;
  pollMs: number;
  random: () => number;
  now: () => Date;
  workerName?: string;
  /** What each page's origin was seen to vary (fetched and rendered), across this process's audits. */
  memory?: AuditMemory;
  /** The trust policy in force (settings row `trust_policy` over the defaults), cached by the caller. */
  trustPolicy: () => Promise<TrustPolicy>;
  /** Told of every finished audit (metrics). */
  onAuditDone?: (verdict: AuditRun['verdict'], durationMs: number, rendered: AuditRun['rendered']) => void;
  /** Think time (mean, cap) between the page a visitor clicked from and the audited page. */
  thinkTimeMs?: readonly [number, number];
  /** The major version of the Chromium that renders audits (they claim it); absent without a browser. */
  chromiumMajor?: number;
  /** When confirmation audits run after an unconfirmed verdict (default confirmationWindowsMs). */
  confirmationWindowsMs?: ReadonlyArray<readonly [number, number]>;
  /** What the origin said each path of a site is (pages and files), across this process's audits. */
  sitePages?: SitePages;
  /** Takes the rest of an audit's visit (the page views after it), which runs on while the next audit starts. */
  keep?: (visit: Promise<void>) => void;
  /** The worker is stopping: visits end early. */
  stopped?: () => boolean;
}

export interface AuditWorker {
  /** Audits finished by this process. */
  readonly done: number;
  stop(): Promise<void>;
}

const trustKind: Record<AuditRun['verdict'], TrustEventKind> = { pass: 'audit_pass', tampered: 'audit_tampered', inconclusive: 'audit_inconclusive', unreachable: 'audit_unreachable' };

/**
 * One of the node's own visitors (issue 15.1), and the visit in which it comes by the audited URL
 * (issue 15.2, fetch/visit-plan.ts). A confirmation presents another visitor than the audit it
 * confirms (another browser or language).
 */
async function visitorFor(deps: WorkerDeps, job: ClaimedAudit, path: string): Promise<{ profile: VisitorProfile; plan: VisitPlan }> {
  const samples = await listVisitorSamples(deps.pool, job.siteId, job.nodeId);
  const major = deps.chromiumMajor ?? fallbackChromiumMajor;
  const avoid = job.confirmsAuditId ? await auditVisitor(deps.pool, job.confirmsAuditId) : null;
  let profile = drawVisitor(deps.random, samples, major);
  for (let i = 0; avoid && i < 20 && profile.family === avoid.family && profile.acceptLanguage.split(',')[0] === avoid.language; i++) profile = drawVisitor(deps.random, samples, major);
  const plan = await planVisit(path, samples, { info: originPages(deps, job, profile), random: deps.random });
  return { profile: { ...profile, navigation: plan.before.length > 0 ? 'same-origin' : plan.entry }, plan };
}

/** New origin look-ups per audit (what the origin says a path is); known paths cost nothing. */
const originLookupsPerAudit = 8;

/** What the origin says each path of the site is, remembered by the process (fetch/site-pages.ts). */
function originPages(deps: WorkerDeps, job: ClaimedAudit, profile: VisitorProfile): (path: string) => Promise<PageInfo | null | undefined> {
  const origin = createOriginFetcher(deps.client, job.originUrl, profile, deps.limits);
  const siteHosts = [job.siteHost.toLowerCase(), new URL(job.originUrl).host.toLowerCase()];
  const load = async (path: string) => pageInfoOf(await origin(path, 'document'), { pageUrl: `http://${job.siteHost}${path}`, siteHosts });
  return auditLookups(deps.sitePages ?? new SitePages(), job.siteId, load, originLookupsPerAudit);
}

export async function auditOne(deps: WorkerDeps, job: ClaimedAudit): Promise<AuditRun> {
  const startedMs = Date.now();
  const path = auditPath(job.url);
  const { profile, plan } = await visitorFor(deps, job, path);
  const history = deps.memory?.history;
  // The visitor's browser has connections of its own, for the whole visit (fetch/http-client.ts).
  const connections = openConnections();
  const client: HttpClient = { get: (req) => deps.client.get({ ...req, connections }), close: () => connections.close() };
  const nodeFetcher = (p: VisitorProfile, ctx: VisitContext) => (deps.balancer
    ? createBalancerFetcher(client, { balancerUrl: deps.balancer.url, siteHost: job.siteHost, nodeId: job.nodeId, auditSecret: deps.balancer.auditSecret, secure: deps.balancer.url.startsWith('https:') }, p, deps.limits, ctx)
    : createDirectNodeFetcher(client, job.nodeUrl, job.siteHost, p, deps.limits, ctx));
  const context: VisitContext = { validators: (p) => history?.validators(`${job.siteHost}${p}`) ?? null };
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  // The audited page's navigation comes from the page viewed before it, once there is one.
  let referer: string | null = null;
  const audited: PageFetcher = (p, destination, ref) => nodeFetcher(profile, { ...context, documentReferer: referer })(p, destination, ref);
  // The visit's browser cache: every file any of its page views loaded is asked once.
  const node = memoize(withParseDelay(audited, deps.random, sleep));
  const origin = createOriginFetcher(deps.client, job.originUrl, profile, deps.limits);
  const scheme = (profile.secure ?? deps.balancer?.url.startsWith('https:')) ? ('https' as const) : ('http' as const);
  const browser: VisitBrowser = {
    navigate: (p, navigation, ref) => nodeFetcher({ ...profile, navigation }, { ...context, documentReferer: ref })(p, 'document'),
    files: node, pageUrl: (p) => `${scheme}://${job.siteHost}${p}`, siteHosts: [job.siteHost.toLowerCase(), new URL(job.originUrl).host.toLowerCase()],
    random: deps.random, sleep, thinkMs: deps.thinkTimeMs ?? [3000, 10_000], stopped: deps.stopped,
  };
  const target = { siteHost: job.siteHost, originUrl: job.originUrl, path, nodeId: deps.balancer ? job.nodeId : null, scheme: deps.balancer?.url.startsWith('https:') ? ('https' as const) : ('http' as const), destination: plan.destination };
  let run: AuditRun;
  try {
    referer = await withDeadline(visitBefore(browser, plan, path), 60_000, 'AUD_ERR_FETCH_TIMEOUT', 'the page views before the audited one')
      .catch((err: unknown) => {
        deps.log.debug({ err: describeError(err) }, 'a page view before the audit failed');
        return null;
      });
    run = await withDeadline(runAudit(target, node, origin, profile, deps.render, deps.renderSettings, deps.memory ?? null, { freshOrigin: job.reason === 'confirm' }), deps.auditTimeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'the audit');
  } catch (err) {
    run = { verdict: 'inconclusive', reason: describeError(err), findings: [], headersDiff: [], blocked: [], rendered: 'failed', renderError: describeError(err), screenshots: null, diffRatio: null, subresourcesChecked: 0, originRenders: 0 };
  }
  // The visitor goes on browsing while the verdict is stored: no audit slot waits for it.
  // Without a keeper the visit ends with the audit.
  if (run.verdict === 'unreachable' || !deps.keep) client.close();
  else deps.keep(withDeadline(visitAfter(browser, plan, plan.carrier ?? path), 60_000, 'AUD_ERR_FETCH_TIMEOUT', 'the page views after the audited one')
    .catch((err: unknown) => deps.log.debug({ err: describeError(err) }, 'a page view after the audit failed'))
    .finally(() => client.close()));
  return finish(deps, job, path, profile, run, startedMs);
}

async function finish(deps: WorkerDeps, job: ClaimedAudit, path: string, profile: VisitorProfile, run: AuditRun, startedMs: number): Promise<AuditRun> {
  const confirmation = confirmationOf(run, job);
  const evidenceIds = await finishAudit(deps.pool, job.id, {
    verdict: run.verdict,
    confirmation,
    summary: buildSummary(run, { path, visitor: { family: profile.family, language: profile.acceptLanguage.split(',')[0], navigation: profile.navigation, returning: profile.returning }, via: deps.balancer ? 'balancer' : 'direct', confirms: job.confirmsAuditId }),
    findings: buildFindings(run),
    evidence: buildEvidence(run),
  }, deps.now());
  const worst = worstSeverity(run.findings.filter((f) => f.severity !== 'low'));
  const reason = run.verdict === 'tampered' ? `audit of ${path}${confirmation ? ` (${confirmation})` : ''}: ${run.findings.find((f) => f.severity === worst)?.summary ?? 'tampered'}` : `audit of ${path}: ${run.verdict}${run.reason ? ` (${run.reason})` : ''}`;
  const policy = await deps.trustPolicy();
  // A re-check the node asked for is no surprise to it: its failure counts, its pass earns nothing.
  const kind = job.reason === 'recheck' && run.verdict === 'pass' ? 'recheck_pass' : trustKind[run.verdict];
  await recordTrustEvent(deps.pool, job.nodeId, { kind, severity: worst ?? undefined, confirmation: confirmation ?? undefined, reason: reason.slice(0, 500), auditId: job.id, evidenceId: evidenceIds.fragments ?? null }, deps.now(), policy);
  await followUp(deps.pool, job, confirmation, deps.now(), deps.random, deps.confirmationWindowsMs);
  deps.log.info({ auditId: job.id, nodeId: job.nodeId, path, verdict: run.verdict, findings: run.findings.length, rendered: run.rendered }, 'audit done');
  deps.onAuditDone?.(run.verdict, Date.now() - startedMs, run.rendered);
  return run;
}

export function startAuditWorker(input: WorkerDeps): AuditWorker {
  const active = new Set<Promise<void>>();
  const visiting = new Set<Promise<void>>();
  let stopped = false;
  const keep = (visit: Promise<void>) => {
    visiting.add(visit);
    void visit.finally(() => visiting.delete(visit));
  };
  const deps: WorkerDeps = { ...input, memory: input.memory ?? createAuditMemory(), sitePages: input.sitePages ?? new SitePages(), keep, stopped: () => stopped };
  const name = deps.workerName ?? `${hostname()}:${process.pid}`;
  let done = 0;
  let lastPlan = 0;
  let lastRequeue = 0;
  const startedAt = deps.now().getTime();
  let toldCatchingUp = false;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> = Promise.resolve();
  const sitemapFor = createSitemapCache(deps.client, 10 * 60_000);

  const housekeeping = async () => {
    const t = deps.now().getTime();
    if (t - lastRequeue > 30_000) {
      lastRequeue = t;
      await requeueStaleAudits(deps.pool, Math.max(deps.auditTimeoutMs * 3, 60_000), 3, deps.now());
      // The --audit-every promise only holds if the fleet of auditors keeps up: say so when not.
      const lagMs = await auditQueueLagMs(deps.pool, deps.now());
      // Right after a start the queue holds what came due while no auditor ran: catching up on
      // that is not a shortage of auditors, so it is said once, not warned about.
      const catchingUp = t - startedAt < deps.auditEveryMs;
      if (lagMs > deps.auditEveryMs / 2 && !catchingUp) deps.log.warn({ lagSeconds: Math.round(lagMs / 1000) }, 'audit queue is behind: add auditor processes or raise --concurrency');
      else if (lagMs > deps.auditEveryMs / 2 && !toldCatchingUp) deps.log.info({ lagSeconds: Math.round(lagMs / 1000) }, 'catching up on audits that came due while no auditor ran');
      toldCatchingUp ||= catchingUp && lagMs > deps.auditEveryMs / 2;
    }
    if (t - lastPlan > Math.min(5_000, deps.auditEveryMs / 4)) {
      lastPlan = t;
      await planDueAudits(deps.pool, { auditEveryMs: deps.auditEveryMs, now: deps.now, random: deps.random, sitemapFor });
    }
  };

  const tick = async () => {
    await housekeeping();
    const free = deps.concurrency - active.size;
    if (free <= 0 || stopped) return;
    const jobs = await claimAudits(deps.pool, name, free, deps.now());
    for (const job of jobs) {
      const p: Promise<void> = auditOne(deps, job)
        .then(() => void done++)
        .catch((err: unknown) => deps.log.error({ err: describeError(err), auditId: job.id }, 'audit could not be stored'))
        .finally(() => active.delete(p));
      active.add(p);
    }
  };

  const loop = () => {
    if (stopped) return;
    ticking = tick()
      .catch((err: unknown) => deps.log.warn({ err: describeError(err) }, 'audit loop step failed'))
      .finally(() => {
        // Jitter: several processes never poll in lockstep.
        if (!stopped) timer = setTimeout(loop, deps.pollMs * (0.5 + deps.random()));
      });
  };
  loop();

  return {
    get done() {
      return done;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
      await Promise.allSettled([...active]);
      await Promise.allSettled([...visiting]);
    },
  };
}
