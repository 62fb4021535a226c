import type { BlockedRequest } from '../browser/render.js';
import type { HeaderDiff } from '../compare/http.js';
import type { Finding, Verdict } from '../compare/types.js';
import { decideVerdict } from '../compare/verdict.js';
import { memoize, withCachedCopies, type PageFetcher } from '../fetch/fetchers.js';
import type { VisitorProfile } from '../fetch/visitor-profile.js';
import { renderAndCompare, type AuditMemory, type RenderFn, type RenderSettings } from './rendered-check.js';
import { runStaticChecks, type AuditTarget } from './static-checks.js';

export { createAuditMemory, type AuditMemory, type RenderFn, type RenderSettings } from './rendered-check.js';

// One audit, cheap to deep: HTTP and document checks, subresource hashes, then (when a browser
// is available) both renders compared. The rendered step never turns a failure into a pass.

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
  /** Origin renders the rendered comparison learned from (fresh and remembered). */
  originRenders: number;
}

export interface AuditOptions {
  /** Learn the origin afresh (confirmation audits): no remembered origin renders. */
  freshOrigin?: boolean;
}

export async function runAudit(t: AuditTarget, nodeFetcher: PageFetcher, origin: PageFetcher, profile: VisitorProfile, render: RenderFn | null, settings: RenderSettings, memory: AuditMemory | null = null, opts: AuditOptions = {}): Promise<AuditRun> {
  const node = memoize(withCachedCopies(nodeFetcher, origin));
  const s = await runStaticChecks(t, node, origin, { memory: memory?.volatility ?? null, history: memory?.history ?? null });
  const run: AuditRun = {
    verdict: 'inconclusive', reason: s.reason, findings: [...s.findings], headersDiff: s.headersDiff, blocked: [], rendered: 'skipped', renderError: null,
    screenshots: null, diffRatio: null, subresourcesChecked: s.subresourcesChecked, originRenders: 0,
  };
  if (s.state !== 'compared') return { ...run, verdict: decideVerdict(s) };
  if (!s.isHtml) run.rendered = 'not-html';
  else if (render) {
    const r = await renderAndCompare(t, s, node, origin, profile, render, settings, memory, opts.freshOrigin ?? false);
    if ('error' in r) {
      run.rendered = 'failed';
      run.renderError = r.error;
    } else {
      run.rendered = 'done';
      run.findings.push(...r.comparison.findings);
      run.screenshots = r.origin ? { origin: r.origin.screenshot, node: r.node.screenshot, diff: r.comparison.diffImage } : null;
      run.diffRatio = r.comparison.diffRatio;
      run.originRenders = r.originRenders;
      run.blocked = [...r.node.blocked.map((b) => ({ ...b, render: 'node' as const })), ...(r.origin?.blocked ?? []).map((b) => ({ ...b, render: 'origin' as const }))];
    }
  }
  const verdict = decideVerdict({ state: 'compared', findings: run.findings, renderFailed: run.rendered === 'failed' });
  return { ...run, verdict, reason: run.renderError ?? (verdict === 'pass' ? s.reason || 'no difference the origin does not make itself' : run.reason) };
}
