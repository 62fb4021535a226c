import { extractFeatures, subresourcePaths } from '../compare/document.js';
import type { FetchedResource, PageFetcher } from './fetchers.js';
import { headerValue } from './http-client.js';
import type { VisitPlan } from './visit-plan.js';
import type { Destination, Navigation } from './visitor-profile.js';

// The page views of an audit's visit (visit-plan.ts), made through the node like a browser: a
// page's document, a few milliseconds to parse it, then the files it loads that the visit has not
// loaded yet (the visit's browser cache), then the visitor's think time before the next click.

export interface VisitBrowser {
  /** A navigation to a page: how the visitor arrived at it (Sec-Fetch-Site) and the page it came from. */
  navigate: (path: string, navigation: Navigation, referer: string | null) => Promise<FetchedResource>;
  /** Files through the visit's cache: what one page loaded, no later page asks again. */
  files: PageFetcher;
  /** The page's URL as the visitor sees it. */
  pageUrl: (path: string) => string;
  siteHosts: string[];
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Mean and cap of the think time between two page views (exponential, as people click). */
  thinkMs: readonly [number, number];
  /** The visit stops early (the auditor is stopping). */
  stopped?: () => boolean;
}

/** How long a browser takes to parse enough of a document to ask for what it references. */
export const parseDelayMs = (random: () => number) => 5 + random() * 30;

/** One page view; `also` is a file the page loads beyond those it names (a script's fetch). */
async function viewPage(b: VisitBrowser, path: string, navigation: Navigation, referer: string | null, also?: { path: string; destination: Destination }): Promise<void> {
  const doc = await b.navigate(path, navigation, referer);
  const pageUrl = b.pageUrl(path);
  const html = (headerValue(doc.headers, 'content-type') ?? '').includes('html');
  await b.sleep(parseDelayMs(b.random));
  const refs = html ? subresourcePaths(extractFeatures(doc.body.toString('utf8'), { pageUrl, siteHosts: b.siteHosts })).slice(0, 20) : [];
  await Promise.all(refs.map((r) => b.files(r.path, r.destination, pageUrl).catch(() => undefined)));
  if (also && !refs.some((r) => r.path === also.path)) await b.files(also.path, also.destination, pageUrl).catch(() => undefined);
}

function think(b: VisitBrowser): Promise<void> {
  const [mean, cap] = b.thinkMs;
  return b.sleep(Math.min(cap, -Math.log(1 - b.random()) * mean));
}

/**
 * The visit up to the audited URL: the pages before it (each followed by a think time), or the
 * page that loads an audited file (the file among its files). Returns the Referer of the audited
 * page's navigation (the page before it), null when the audited page is the visit's first.
 */
export async function visitBefore(b: VisitBrowser, plan: VisitPlan, audited: string): Promise<string | null> {
  let previous: string | null = null;
  for (const path of plan.before) {
    if (b.stopped?.()) break;
    await viewPage(b, path, previous === null ? plan.entry : 'same-origin', previous === null ? null : b.pageUrl(previous));
    await think(b);
    previous = path;
  }
  if (plan.carrier !== null) await viewPage(b, plan.carrier, plan.entry, null, { path: audited, destination: plan.destination });
  return previous === null ? null : b.pageUrl(previous);
}

/** The rest of the visit, once the audit has its answer: the visitor clicks on to the pages after. */
export async function visitAfter(b: VisitBrowser, plan: VisitPlan, from: string): Promise<void> {
  let previous = from;
  for (const path of plan.after) {
    await think(b);
    if (b.stopped?.()) return;
    await viewPage(b, path, 'same-origin', b.pageUrl(previous));
    previous = path;
  }
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
    if (destination === 'document') parsed = sleep(parseDelayMs(random));
    return r;
  };
}
