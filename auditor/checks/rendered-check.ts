import type { RenderResult } from '../browser/renderer.js';
import type { RenderJob, SiteFetch } from '../browser/render.js';
import { RenderedMemory } from '../compare/rendered-memory.js';
import { compareRendered, renderFeatures, type RenderSnapshot, type RenderedComparison } from '../compare/rendered.js';
import { severityRank } from '../compare/types.js';
import { VolatilityMemory } from '../compare/volatility-memory.js';
import { OriginHistory } from '../compare/origin-history.js';
import { memoize, type PageFetcher } from '../fetch/fetchers.js';
import type { VisitorProfile } from '../fetch/visitor-profile.js';
import { pageMemory, pageUrlOf, type AuditTarget, type StaticOutcome } from './static-checks.js';

// The rendered step: the node's page and several origin renders in fresh contexts (issue 14:
// the origin's own rendered variance is learned, never guessed). Once a page is known, one fresh
// origin render plus the remembered ones is enough; a node render that differs gets more origin
// renders before anything counts.

/** Renders a page; the auditor's Renderer, or null when no browser is available. */
export type RenderFn = (job: RenderJob) => Promise<RenderResult>;

export interface RenderSettings {
  loadTimeoutMs: number;
  settleMs: number;
  stepTimeoutMs: number;
}

export interface AuditMemory {
  volatility: VolatilityMemory;
  rendered: RenderedMemory;
  history: OriginHistory;
}

export function createAuditMemory(): AuditMemory {
  return { volatility: new VolatilityMemory(), rendered: new RenderedMemory(), history: new OriginHistory() };
}

/** Origin renders: at least this many in all (fresh and remembered), and at most this many fresh ones. */
export const minOriginRenders = 3;
export const maxFreshOriginRenders = 7;

function siteFetch(f: PageFetcher, seen?: (destination: string, body: Buffer) => void): SiteFetch {
  return async (path, destination, referer) => {
    const r = await f(path, destination, referer);
    seen?.(destination, r.body);
    return { status: r.status, headers: r.headers, body: r.body };
  };
}

/** Origin renders answer the document with an origin sample (or the stale version the node serves), the rest from the origin. */
function originSiteFetch(origin: PageFetcher, s: StaticOutcome, path: string, sample: number, seen: (destination: string, body: Buffer) => void): SiteFetch {
  const memo = memoize(origin);
  const doc = s.originSamples[sample % Math.max(1, s.originSamples.length)];
  return async (p, destination, referer) => {
    if (p === path && doc) return { status: doc.status, headers: doc.headers, body: s.staleVersion ? Buffer.from(s.staleVersion) : doc.body };
    return siteFetch(memo, seen)(p, destination, referer);
  };
}

export interface RenderedOutcome {
  comparison: RenderedComparison;
  node: RenderSnapshot;
  /** A fresh origin render (for screenshots and evidence); null when remembered ones sufficed. */
  origin: RenderSnapshot | null;
  originRenders: number;
}

const accusing = (c: RenderedComparison) => c.findings.some((f) => severityRank[f.severity] >= severityRank.medium);

/** Remembered origin renders stand in for fresh ones while the newest is at most this old. */
export const rememberedFreshForMs = 10 * 60_000;

export async function renderAndCompare(t: AuditTarget, s: StaticOutcome, node: PageFetcher, origin: PageFetcher, profile: VisitorProfile, render: RenderFn, settings: RenderSettings, memory: AuditMemory | null, fresh: boolean): Promise<RenderedOutcome | { error: string }> {
  const base = { pageUrl: pageUrlOf(t), profile, ...settings };
  const now = Date.now();
  const known = fresh || !memory ? [] : memory.rendered.renders(t.siteHost, t.path, now);
  // What the origin's documents and scripts name: a host they name is never "unambiguous".
  const texts: string[] = s.originSamples.map((o) => o.body.toString('utf8'));
  const seen = (destination: string, body: Buffer) => {
    if ((destination === 'script' || destination === 'document') && texts.length < 200) texts.push(body.toString('utf8'));
  };
  const renderOrigin = async (i: number) => {
    const o = await render({ ...base, fetchSite: originSiteFetch(origin, s, t.path, i, seen) });
    if (!o.ok) throw new Error(`origin render: ${o.error}: ${o.message}`);
    return o.output;
  };
  // Two renders at a time (two cores).
  const renderOrigins = async (from: number, count: number) => {
    const out = [];
    for (let i = from; i < from + count; i += 2) out.push(...(await Promise.all([renderOrigin(i), ...(i + 1 < from + count ? [renderOrigin(i + 1)] : [])])));
    return out;
  };
  const compare = (n: RenderSnapshot, origins: RenderSnapshot[], remembered: typeof known) => compareRendered({
    origins, remembered, node: n, ctx: s.documentContext, staticFindings: s.findings,
    originHtml: s.staleVersion ? [s.staleVersion] : s.originSamples.map((o) => o.body.toString('utf8')),
    memory: pageMemory(memory?.volatility, t),
    hosts: memory ? { templateHosts: memory.rendered.templateHosts(t.siteHost, t.path), site: memory.rendered.siteHosts(t.siteHost), mentioned: (h) => texts.some((x) => x.includes(h)) } : undefined,
  });
  const alreadyProven = s.findings.some((f) => severityRank[f.severity] >= severityRank.medium);
  try {
    // A page whose origin renders are known and recent: the node's render against them first. Only
    // a difference (or proven tampering, which needs evidence) costs fresh origin renders.
    if (known.length >= minOriginRenders && now - (known[0]?.at ?? 0) <= rememberedFreshForMs) {
      const n = await render({ ...base, fetchSite: siteFetch(node) });
      if (!n.ok) return { error: `node render: ${n.error}: ${n.message}` };
      const quick = compare(n.output, [], known.slice(0, minOriginRenders));
      if (!accusing(quick) && !alreadyProven) return { comparison: quick, node: n.output, origin: null, originRenders: minOriginRenders };
      return await withFreshOrigins(n.output, [], known.slice(0, minOriginRenders - 1));
    }
    const remembered = known.slice(0, minOriginRenders - 1);
    // Node first in line (its copy is what a visitor would have seen at this moment), with the first origin render.
    const [n, first] = await Promise.all([render({ ...base, fetchSite: siteFetch(node) }), renderOrigin(0)]);
    if (!n.ok) return { error: `node render: ${n.error}: ${n.message}` };
    return await withFreshOrigins(n.output, [first], remembered);
  } catch (err) {
    return { error: (err as Error).message };
  }

  async function withFreshOrigins(n: RenderSnapshot, started: RenderSnapshot[], remembered: typeof known): Promise<RenderedOutcome> {
    const origins = [...started, ...(await renderOrigins(started.length, Math.max(1, minOriginRenders - remembered.length) - started.length))];
    let comparison = compare(n, origins, remembered);
    // Suspicious: learn harder what the origin's renders vary on their own before accusing anyone
    // (unless the cheap checks already proved tampering).
    while (!alreadyProven && accusing(comparison) && origins.length + 2 <= maxFreshOriginRenders) {
      origins.push(...(await renderOrigins(origins.length, 2)));
      comparison = compare(n, origins, remembered);
    }
    for (const o of origins) memory?.rendered.remember(t.siteHost, t.path, { at: now, ...renderFeatures(o, s.documentContext), hosts: [...o.contactedHosts] });
    return { comparison, node: n, origin: origins[0] ?? null, originRenders: origins.length + remembered.length };
  }
}
