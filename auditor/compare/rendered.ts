import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { extractFeatures, type DocumentContext } from './document.js';
import { changeFindings, diffFeatures, learn, type Learned, type LearnedKey } from './features-diff.js';
import { isExactValue } from './value-template.js';
import type { VolatilityMemory } from './volatility-memory.js';
import type { Finding } from './types.js';

// The deep checks on two renders of the same page (origin and node, same visitor, same viewport):
// the DOM after scripts ran, the hosts the page tried to reach, and a screenshot pixel diff. Pure.

export interface RenderSnapshot {
  dom: string;
  screenshot: Buffer;
  contactedHosts: readonly string[];
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

/**
 * Rendered DOM features, keyed by tag positions (scripts toggle classes). What the origin's own
 * fetches showed to vary stays masked; what its scripts produce is taken from the origin render.
 */
function domFindings(origin: string, node: string, ctx: DocumentContext, originHtml: readonly string[], alreadyReported: ReadonlySet<string>, memory: { memory: VolatilityMemory; page: string } | null): Finding[] {
  const tagCtx: DocumentContext = { ...ctx, pathMode: 'tags' };
  const learned = learn([extractFeatures(origin, tagCtx)]);
  const staticLearned: Learned = learn(originHtml.map((h) => extractFeatures(h, tagCtx)));
  memory?.memory.remember(`${memory.page} rendered`, staticLearned);
  memory?.memory.apply(`${memory.page} rendered`, staticLearned);
  for (const [k, l] of learned) {
    const s = staticLearned.get(k);
    if (s && (s.templates === null || s.templates.length === l.templates?.length) && !isStable(s)) l.templates = s.templates;
  }
  return changeFindings(diffFeatures(learned, extractFeatures(node, tagCtx)))
    .filter((f) => !alreadyReported.has(`${f.kind}\u0001${f.node ?? ''}`))
    .map((f) => ({ ...f, kind: `rendered_${f.kind}`, summary: `after scripts ran: ${f.summary}` }));
}

const isStable = (l: LearnedKey) => l.templates !== null && l.templates.every(isExactValue);

export function compareRendered(origin: RenderSnapshot, node: RenderSnapshot, ctx: DocumentContext, originHtml: readonly string[], staticFindings: readonly Finding[], memory: { memory: VolatilityMemory; page: string } | null = null): RenderedComparison {
  const reported = new Set(staticFindings.map((f) => `${f.kind}\u0001${f.node ?? ''}`));
  const findings = domFindings(origin.dom, node.dom, ctx, originHtml, reported, memory);
  const originHosts = new Set(origin.contactedHosts);
  for (const host of node.contactedHosts) {
    if (!originHosts.has(host)) findings.push({ kind: 'new_host_contacted', severity: 'high', summary: `the page tried to reach ${host}, which the origin's page never contacts`, origin: null, node: host });
  }
  const diff = pixelDiff(origin.screenshot, node.screenshot);
  if (diff && diff.ratio > visualDiffThreshold) {
    findings.push({ kind: 'visual_diff', severity: 'low', summary: `${(diff.ratio * 100).toFixed(1)}% of the visible pixels differ`, origin: null, node: null });
  }
  return { findings, diffImage: diff?.image ?? null, diffRatio: diff?.ratio ?? null };
}
