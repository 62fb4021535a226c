import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import type { MutationRecordEntry } from '../browser/observer.js';
import type { BlockedRequest } from '../browser/render.js';
import { extractFeatures, normalizeUrl, shapeOf, type DocumentContext, type Feature, type FeatureKind } from './document.js';
import { changeFindings, diffFeatures, learn, type Learned, type LearnedKey } from './features-diff.js';
import { hostFindings, type HostKnowledge } from './rendered-hosts.js';
import { isExactValue } from './value-template.js';
import type { VolatilityMemory } from './volatility-memory.js';
import type { Finding } from './types.js';

// The deep checks on renders of the same page (the node's, and several of the origin's, same
// visitor, same viewport): the DOM after scripts ran, what the scripts changed while the page
// ran, the hosts the page tried to reach, and a screenshot pixel diff. Pure.

export interface RenderSnapshot {
  dom: string;
  screenshot: Buffer;
  contactedHosts: readonly string[];
  mutations: readonly MutationRecordEntry[];
  failedLoads: readonly string[];
  blocked: readonly BlockedRequest[];
}

/** What an origin render contributes to learning (a fresh one, or one remembered from an earlier audit). */
export interface OriginRenderFeatures {
  dom: Feature[];
  mutations: Feature[];
  hosts: readonly string[];
}

export interface RenderedComparison {
  findings: Finding[];
  diffImage: Buffer | null;
  diffRatio: number | null;
}

/** Share of differing pixels above which the screenshots count as visibly different. */
export const visualDiffThreshold = 0.02;

export function pixelDiff(a: Buffer, b: Buffer): { ratio: number; image: Buffer } | null {
  let pa: PNG;
  let pb: PNG;
  try {
    pa = PNG.sync.read(a);
    pb = PNG.sync.read(b);
  } catch {
    return null;
  }
  const width = Math.min(pa.width, pb.width);
  const height = Math.min(pa.height, pb.height);
  const crop = (p: PNG) => {
    if (p.width === width && p.height === height) return p.data;
    const out = Buffer.alloc(width * height * 4);
    for (let y = 0; y < height; y++) p.data.copy(out, y * width * 4, y * p.width * 4, y * p.width * 4 + width * 4);
    return out;
  };
  const diff = new PNG({ width, height });
  // threshold 0.1 and includeAA false: anti-aliasing and sub-pixel font noise are not changes.
  const changed = pixelmatch(crop(pa), crop(pb), diff.data, width, height, { threshold: 0.1, includeAA: false });
  return { ratio: changed / (width * height), image: PNG.sync.write(diff) };
}

const mutationKinds: Record<string, FeatureKind> = {
  script: 'script', iframe: 'iframe', frame: 'iframe', object: 'object', embed: 'object', form: 'form', a: 'link', link: 'resource',
  img: 'resource', style: 'style', noscript: 'noscript', meta: 'meta', base: 'base', text: 'text',
};

/** The observer's log as features, keyed by where in the DOM they happened. */
export function mutationFeatures(entries: readonly MutationRecordEntry[], ctx: DocumentContext): Feature[] {
  return entries.map((e) => {
    const attr = e.what.startsWith('attr:') ? e.what.slice(5) : null;
    const kind: FeatureKind = attr ? (/^on/.test(attr) ? 'handler' : 'attr') : (mutationKinds[e.what] ?? 'attr');
    const urlish = kind !== 'text' && kind !== 'style' && kind !== 'handler' && kind !== 'meta' && kind !== 'noscript' && !(kind === 'script' && e.value.startsWith('inline:'));
    const value = urlish ? e.value.replace(/\S+$/, (u) => normalizeUrl(u, ctx)) : e.value;
    return { kind, path: `~${e.path}${attr ? `@${attr}` : ''}`, value, shape: attr && !/^on/.test(attr) ? 'url' : shapeOf(kind, value) };
  });
}

export function renderFeatures(r: RenderSnapshot, ctx: DocumentContext): OriginRenderFeatures {
  return { dom: extractFeatures(r.dom, { ...ctx, pathMode: 'tags' }), mutations: mutationFeatures(r.mutations, ctx), hosts: r.contactedHosts };
}

const isStable = (l: LearnedKey) => l.templates !== null && l.templates.every(isExactValue);
const findingKey = (f: Finding) => `${f.kind}\u0001${f.node ?? ''}`;

/**
 * Rendered DOM features, keyed by tag positions (scripts toggle classes), learned across the
 * origin's renders. Where the origin's plain fetches showed a key to vary, that variance applies too.
 */
function domFindings(origins: readonly OriginRenderFeatures[], node: RenderSnapshot, ctx: DocumentContext, originHtml: readonly string[], reported: ReadonlySet<string>, memory: { memory: VolatilityMemory; page: string } | null): Finding[] {
  const tagCtx: DocumentContext = { ...ctx, pathMode: 'tags' };
  const learned = learn(origins.map((o) => o.dom));
  const staticLearned: Learned = learn(originHtml.map((h) => extractFeatures(h, tagCtx)));
  memory?.memory.remember(`${memory.page} rendered`, staticLearned);
  memory?.memory.apply(`${memory.page} rendered`, staticLearned);
  for (const [k, l] of learned) {
    const s = staticLearned.get(k);
    if (s && (s.templates === null || s.templates.length === l.templates?.length) && !isStable(s)) {
      l.templates = s.templates;
      l.pool = [...l.pool, ...s.pool];
    }
  }
  return changeFindings(diffFeatures(learned, extractFeatures(node.dom, tagCtx)))
    .filter((f) => !reported.has(findingKey(f)))
    .map((f) => ({ ...f, kind: `rendered_${f.kind}`, summary: `after scripts ran: ${f.summary}` }));
}

/** What the node's page changed while it ran that no origin render changed (transient edits included). */
function mutationFindings(origins: readonly OriginRenderFeatures[], node: RenderSnapshot, ctx: DocumentContext, reported: ReadonlySet<string>): Finding[] {
  const changes = diffFeatures(learn(origins.map((o) => o.mutations)), mutationFeatures(node.mutations, ctx)).filter((c) => c.change !== 'removed');
  return changeFindings(changes)
    .filter((f) => !reported.has(findingKey(f)) && ![...reported].some((r) => f.node !== null && r.endsWith(`\u0001${f.node ?? ''}`)))
    .map((f) => ({ ...f, kind: `mutation_${f.kind}`, summary: `while the page ran: ${f.summary}` }));
}

/** A node render that missed some of the site's files cannot show what the site's scripts would do: only what it added counts. */
function discountMissingLoads(findings: Finding[], node: RenderSnapshot, origins: readonly RenderSnapshot[]): Finding[] {
  const missed = node.failedLoads.filter((p) => !origins.some((o) => o.failedLoads.includes(p)));
  if (missed.length === 0) return findings;
  return findings.map((f) => (/_(removed|changed)$/.test(f.kind) || /^(rendered|mutation)_text_/.test(f.kind)
    ? { ...f, severity: 'low' as const, summary: `${f.summary} (the node's render could not load ${missed.slice(0, 3).join(', ')})` }
    : f));
}

export interface RenderedInput {
  /** This audit's fresh origin renders. */
  origins: readonly RenderSnapshot[];
  /** Origin renders of this page remembered from earlier audits (features only). */
  remembered?: readonly OriginRenderFeatures[];
  node: RenderSnapshot;
  ctx: DocumentContext;
  originHtml: readonly string[];
  staticFindings: readonly Finding[];
  memory?: { memory: VolatilityMemory; page: string } | null;
  hosts?: HostKnowledge;
}

export function compareRendered(input: RenderedInput): RenderedComparison {
  const { origins, node, ctx } = input;
  const learnedFrom = [...origins.map((o) => renderFeatures(o, ctx)), ...(input.remembered ?? [])];
  const reported = new Set(input.staticFindings.map(findingKey));
  const dom = domFindings(learnedFrom, node, ctx, input.originHtml, reported, input.memory ?? null);
  const mutations = mutationFindings(learnedFrom, node, ctx, new Set([...reported, ...dom.map(findingKey)]));
  const findings = discountMissingLoads([...dom, ...mutations], node, origins);
  findings.push(...hostFindings(node.contactedHosts, learnedFrom, input.hosts ?? null));
  const first = origins[0];
  const diff = first ? pixelDiff(first.screenshot, node.screenshot) : null;
  if (diff && diff.ratio > visualDiffThreshold) {
    findings.push({ kind: 'visual_diff', severity: 'low', summary: `${(diff.ratio * 100).toFixed(1)}% of the visible pixels differ`, origin: null, node: null });
  }
  return { findings, diffImage: diff?.image ?? null, diffRatio: diff?.ratio ?? null };
}
