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
  origin: RenderSnapshot;
  originRenders: number;
}

const accusing = (c: RenderedComparison) => c.findings.some((f) => severityRank[f.severity] >= severityRank.medium);

export async function renderAndCompare(t: AuditTarget, s: StaticOutcome, node: PageFetcher, origin: PageFetcher, profile: VisitorProfile, render: RenderFn, settings: RenderSettings, memory: AuditMemory | null, fresh: boolean): Promise<RenderedOutcome | { error: string }> {
  const base = { pageUrl: pageUrlOf(t), profile, ...settings };
  const now = Date.now();
  const remembered = fresh || !memory ? [] : memory.rendered.renders(t.siteHost, t.path, now).slice(0, minOriginRenders - 1);
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
  const freshNeeded = Math.max(1, minOriginRenders - remembered.length);
  // Two renders at a time (two cores): the node's with the first origin render, then pairs.
  const renderOrigins = async (from: number, count: number) => {
    const out = [];
    for (let i = from; i < from + count; i += 2) out.push(...(await Promise.all([renderOrigin(i), ...(i + 1 < from + count ? [renderOrigin(i + 1)] : [])])));
    return out;
  };
  try {
    // Node first in line: its copy is what a visitor would have seen at this moment.
    const [n, first] = await Promise.all([render({ ...base, fetchSite: siteFetch(node) }), renderOrigin(0)]);
    if (!n.ok) return { error: `node render: ${n.error}: ${n.message}` };
    const origins = [first, ...(await renderOrigins(1, freshNeeded - 1))];
    const compare = () => compareRendered({
      origins, remembered, node: n.output, ctx: s.documentContext, staticFindings: s.findings,
      originHtml: s.staleVersion ? [s.staleVersion] : s.originSamples.map((o) => o.body.toString('utf8')),
      memory: pageMemory(memory?.volatility, t),
      hosts: memory ? { templateHosts: memory.rendered.templateHosts(t.siteHost, t.path), site: memory.rendered.siteHosts(t.siteHost), mentioned: (h) => texts.some((x) => x.includes(h)) } : undefined,
    });
    let comparison = compare();
    // Suspicious: learn harder what the origin's renders vary on their own before accusing anyone
    // (unless the cheap checks already proved tampering).
    const alreadyProven = s.findings.some((f) => severityRank[f.severity] >= severityRank.medium);
    while (!alreadyProven && accusing(comparison) && origins.length + 2 <= maxFreshOriginRenders) {
      origins.push(...(await renderOrigins(origins.length, 2)));
      comparison = compare();
    }
    for (const o of origins) memory?.rendered.remember(t.siteHost, t.path, { at: now, ...renderFeatures(o, s.documentContext), hosts: [...o.contactedHosts] });
    return { comparison, node: n.output, origin: first, originRenders: origins.length + remembered.length };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
