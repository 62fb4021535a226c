import { createHash } from 'node:crypto';
import type { PageFetcher } from '../fetch/fetchers.js';
import { freshnessMs, type OriginHistory } from '../compare/origin-history.js';
import { clip, type Finding, type Severity } from '../compare/types.js';
import { headerValue } from '../fetch/http-client.js';

// Every same-site script, stylesheet and image the page loads, fetched through the node and from
// the origin and compared by SHA-256. The origin is asked twice before a mismatch counts, and a
// copy the origin itself served earlier, still fresh by its Cache-Control, is never a mismatch.

export interface SubresourceRef {
  path: string;
  destination: 'script' | 'style' | 'image';
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const severity: Record<SubresourceRef['destination'], Severity> = { script: 'critical', style: 'high', image: 'medium' };

async function hashOrNull(f: PageFetcher, ref: SubresourceRef, referer: string) {
  try {
    const r = await f(ref.path, ref.destination, referer);
    const h = (n: string) => headerValue(r.headers, n);
    return { hash: sha256(r.body), status: r.status, maxAgeMs: freshnessMs(h('cache-control') ?? null), etag: h('etag'), lastModified: h('last-modified') };
  } catch {
    return null;
  }
}

export interface SubresourceHistory {
  history: OriginHistory | null;
  site: string;
  now: () => number;
}

export async function checkSubresources(refs: readonly SubresourceRef[], node: PageFetcher, origin: PageFetcher, referer: string, h: SubresourceHistory | null = null, max = 20): Promise<{ findings: Finding[]; checked: number }> {
  const findings: Finding[] = [];
  const list = refs.slice(0, max);
  const results = await Promise.all(list.map(async (ref) => {
    const [n, o] = await Promise.all([hashOrNull(node, ref, referer), hashOrNull(origin, ref, referer)]);
    return { ref, n, o };
  }));
  for (const { ref, n, o } of results) {
    const key = `${h?.site ?? ''}${ref.path}`;
    if (o && o.status === 200) {
      h?.history?.rememberDigest(key, o.hash, o.maxAgeMs, h.now());
      h?.history?.rememberValidators(key, { etag: o.etag, lastModified: o.lastModified });
    }
    // Only what the origin really serves is compared: a node's own 404 page is not tampering.
    if (!n || !o || n.hash === o.hash || o.status !== 200) continue;
    // A stale but once-genuine copy, still fresh by the origin's own rules: a cache, not a tamperer.
    if (h?.history?.onceGenuine(key, n.hash, h.now())) continue;
    const again = await hashOrNull(origin, ref, referer);
    if (!again || again.hash !== o.hash) continue; // the origin itself varies: not evidence
    findings.push({
      kind: 'subresource_changed',
      severity: severity[ref.destination],
      summary: `${ref.destination} ${clip(ref.path, 100) ?? ''} differs from the origin's (sha256 ${n.hash.slice(0, 12)}… vs ${o.hash.slice(0, 12)}…)`,
      origin: `sha256:${o.hash}`,
      node: `sha256:${n.hash}${n.status !== o.status ? ` (status ${n.status})` : ''}`,
    });
  }
  return { findings, checked: list.length };
}
