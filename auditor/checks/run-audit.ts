import type { RenderResult } from '../browser/renderer.js';
import type { BlockedRequest, RenderJob, SiteFetch } from '../browser/render.js';
import { compareRendered } from '../compare/rendered.js';
import type { HeaderDiff } from '../compare/http.js';
import type { Finding, Verdict } from '../compare/types.js';
import { decideVerdict } from '../compare/verdict.js';
import type { VolatilityMemory } from '../compare/volatility-memory.js';
import { memoize, type PageFetcher } from '../fetch/fetchers.js';
import type { VisitorProfile } from '../fetch/visitor-profile.js';
import { pageMemory, pageUrlOf, runStaticChecks, type AuditTarget, type StaticOutcome } from './static-checks.js';

// One audit, cheap to deep: HTTP and document checks, subresource hashes, then (when a browser
// is available) both renders compared. The rendered step never turns a failure into a pass.

/** Renders a page; the auditor's Renderer, or null when no browser is available. */
export type RenderFn = (job: RenderJob) => Promise<RenderResult>;

export interface RenderSettings {
  loadTimeoutMs: number;
  settleMs: number;
  stepTimeoutMs: number;
}

export interface AuditRun {
  verdict: Verdict;
  reason: string;
  findings: Finding[];
  headersDiff: HeaderDiff[];
  blocked: Array<BlockedRequest & { render: 'origin' | 'node' }>;
  rendered: 'done' | 'skipped' | 'failed' | 'not-html';
  renderError: string | null;
  screenshots: { origin: Buffer; node: Buffer; diff: Buffer | null } | null;
  diffRatio: number | null;
  subresourcesChecked: number;
}

function siteFetch(f: PageFetcher): SiteFetch {
  return async (path, destination, referer) => {
    const r = await f(path, destination, referer);
    return { status: r.status, headers: r.headers, body: r.body };
  };
}

/** The origin render answers the document with the first origin sample, the node render with the node's answer. */
function originSiteFetch(origin: PageFetcher, s: StaticOutcome, path: string): SiteFetch {
  const memo = memoize(origin);
  const doc = s.originSamples[0];
  return async (p, destination, referer) => {
    if (p === path && doc) return { status: doc.status, headers: doc.headers, body: s.staleVersion ? Buffer.from(s.staleVersion) : doc.body };
    return siteFetch(memo)(p, destination, referer);
  };
}

async function renderBoth(t: AuditTarget, s: StaticOutcome, node: PageFetcher, origin: PageFetcher, profile: VisitorProfile, render: RenderFn, settings: RenderSettings) {
  const pageUrl = pageUrlOf(t);
  const base = { pageUrl, profile, ...settings };
  // Node first: its copy is what a visitor would have seen at this moment.
  const n = await render({ ...base, fetchSite: siteFetch(node) });
  if (!n.ok) return { error: `node render: ${n.error}: ${n.message}` } as const;
  const o = await render({ ...base, fetchSite: originSiteFetch(origin, s, t.path) });
  if (!o.ok) return { error: `origin render: ${o.error}: ${o.message}` } as const;
  return { node: n.output, origin: o.output } as const;
}

export async function runAudit(t: AuditTarget, nodeFetcher: PageFetcher, origin: PageFetcher, profile: VisitorProfile, render: RenderFn | null, settings: RenderSettings, memory: VolatilityMemory | null = null): Promise<AuditRun> {
  const node = memoize(nodeFetcher);
  const s = await runStaticChecks(t, node, origin, { memory });
  const run: AuditRun = {
    verdict: 'inconclusive', reason: s.reason, findings: [...s.findings], headersDiff: s.headersDiff, blocked: [], rendered: 'skipped', renderError: null,
    screenshots: null, diffRatio: null, subresourcesChecked: s.subresourcesChecked,
  };
  if (s.state !== 'compared') return { ...run, verdict: decideVerdict(s) };
  if (!s.isHtml) run.rendered = 'not-html';
  else if (render) {
    const r = await renderBoth(t, s, node, origin, profile, render, settings);
    if ('error' in r) {
      run.rendered = 'failed';
      run.renderError = r.error ?? 'render failed';
    } else {
      const originHtml = s.staleVersion ? [s.staleVersion] : s.originSamples.map((o) => o.body.toString('utf8'));
      const cmp = compareRendered(r.origin, r.node, s.documentContext, originHtml, s.findings, pageMemory(memory, t));
      run.rendered = 'done';
      run.findings.push(...cmp.findings);
      run.screenshots = { origin: r.origin.screenshot, node: r.node.screenshot, diff: cmp.diffImage };
      run.diffRatio = cmp.diffRatio;
      run.blocked = [...r.node.blocked.map((b) => ({ ...b, render: 'node' as const })), ...r.origin.blocked.map((b) => ({ ...b, render: 'origin' as const }))];
    }
  }
  const verdict = decideVerdict({ state: 'compared', findings: run.findings, renderFailed: run.rendered === 'failed' });
  return { ...run, verdict, reason: run.renderError ?? (verdict === 'pass' ? s.reason || 'no difference the origin does not make itself' : run.reason) };
}
