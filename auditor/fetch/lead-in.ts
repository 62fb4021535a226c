import { extractFeatures, subresourcePaths } from '../compare/document.js';
import type { PageFetcher } from './fetchers.js';

// A visitor who clicks through a site has viewed the page it came from, a few seconds before.
// An audit of an inner page that claims such a visitor (Sec-Fetch-Site: same-origin, a Referer of
// the site) first views that page through the node like a browser: the document, a moment to
// parse, then what it references, then the visitor's think time. What it fetched stays in the
// audit's cache (the browser's), so the audited page reuses it.

export interface LeadIn {
  /** The page the visitor came from (path and query). */
  path: string;
  /** Its document, fetched as the entry navigation (typed or from elsewhere). */
  entry: PageFetcher;
  /** The audit's memoized node fetcher (the browser cache the audited page shares). */
  node: PageFetcher;
  pageUrl: string;
  siteHosts: string[];
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Mean and cap of the think time before the audited page (exponential, as people click). */
  thinkMs: readonly [number, number];
}

export async function leadIn(l: LeadIn): Promise<void> {
  const doc = await l.entry(l.path, 'document');
  if (!(doc.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '').includes('html')) return;
  await l.sleep(5 + l.random() * 30);
  const refs = subresourcePaths(extractFeatures(doc.body.toString('utf8'), { pageUrl: l.pageUrl, siteHosts: l.siteHosts })).slice(0, 20);
  await Promise.all(refs.map((r) => l.node(r.path, r.destination, l.pageUrl).catch(() => undefined)));
  const [mean, cap] = l.thinkMs;
  await l.sleep(Math.min(cap, -Math.log(1 - l.random()) * mean));
}

/**
 * A browser asks for what a page references only once it has parsed some of it: the first
 * subresource request after a document waits a few milliseconds, as a visitor's would.
 */
export function withParseDelay(f: PageFetcher, random: () => number, sleep: (ms: number) => Promise<void>): PageFetcher {
  let parsed: Promise<void> = Promise.resolve();
  return async (path, destination, referer) => {
    if (destination !== 'document') await parsed;
    const r = await f(path, destination, referer);
    if (destination === 'document') parsed = sleep(5 + random() * 30);
    return r;
  };
}
