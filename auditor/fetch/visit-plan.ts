import type { PageInfo } from './site-pages.js';
import type { Destination, Navigation } from './visitor-profile.js';

// How an audit's visitor comes by the audited URL: as the node's own visitors come by theirs
// (issue 15.2). A visitor is a visit, several page views long, not one request:
// - A page view is a click from another page of the site as often as the node's sampled page
//   views say so (their Sec-Fetch-Site: same-origin share c). Visits whose page views show that
//   share are c-geometric in length (mean 1 / (1 - c)), so an audit's visit is drawn that long,
//   and the audited page takes a place in it at random. (Drawing the pages before and after it
//   as two geometric numbers would fit a page view drawn at random, but would make the visits
//   holding audits longer than visits are: the node sees whole visits.) Each page before links
//   to the next, each page after is a link of the one before.
// - A file (a script, stylesheet or image) is what a browser loads with a page, never a page of
//   its own: an audited file is loaded by a page that names it, the visit's first (a browser asks
//   for a file on the first page that needs it, and has it cached for the rest).
// - The visit arrives as the node's visitors arrive (their first page views' Sec-Fetch-Site).
// What a path is, the origin says (site-pages.ts). Pure but for that lookup.

export interface VisitSample {
  path: string;
  secFetchSite: string | null;
}

export interface VisitPlan {
  /** How the visit reached the site: Sec-Fetch-Site of its first page view. */
  entry: Navigation;
  /** Pages viewed before the audited one, in order; each links to the next. */
  before: string[];
  /** For an audited file: the page that loads it (the visit's first page view); null for a page. */
  carrier: string | null;
  /** Pages the visitor goes on to after the audited page (or the carrier). */
  after: string[];
  /** How a browser asks for the audited URL. */
  destination: Destination;
}

export interface PlanDeps {
  /** What the origin says a path is; undefined when it was not looked up (the budget of origin requests is spent). */
  info: (path: string) => Promise<PageInfo | null | undefined>;
  random: () => number;
}

/** At most this many page views in a visit. */
export const maxPageViews = 6;
/** The continuation while the node's traffic has too few page views that say how they arrived. */
export const defaultContinuation = 0.5;
const minKnownViews = 10;
const entryNavigations: readonly Navigation[] = ['none', 'cross-site', 'same-site'];

interface Views {
  /** Sampled page views (samples whose path is a page), one entry per sample. */
  samples: VisitSample[];
  info: Map<string, PageInfo>;
}

/** The samples that are page views, most requested paths looked up first. */
async function pageViews(samples: readonly VisitSample[], d: PlanDeps): Promise<Views> {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.path, (counts.get(s.path) ?? 0) + 1);
  const info = new Map<string, PageInfo>();
  for (const [path] of [...counts].sort((a, b) => b[1] - a[1])) {
    const i = await d.info(path);
    if (i?.page) info.set(path, i);
  }
  return { samples: samples.filter((s) => info.has(s.path)), info };
}

/** A path drawn as often as visitors viewed it, among the allowed ones. */
function drawPage(views: Views, allowed: (path: string) => boolean, random: () => number): string | null {
  const pool = views.samples.filter((s) => allowed(s.path));
  return pool[Math.floor(random() * pool.length)]?.path ?? null;
}

function continuationOf(views: Views): number {
  const known = views.samples.filter((s) => s.secFetchSite === 'same-origin' || entryNavigations.some((n) => n === s.secFetchSite));
  if (known.length < minKnownViews) return defaultContinuation;
  return known.filter((s) => s.secFetchSite === 'same-origin').length / known.length;
}

function entryOf(views: Views, random: () => number): Navigation {
  const entries = views.samples.map((s) => entryNavigations.find((n) => n === s.secFetchSite)).filter((n): n is Navigation => n !== undefined);
  return entries[Math.floor(random() * entries.length)] ?? 'none';
}

/** How many page views a visit has: one, and another while the visitor clicks on. */
function visitLength(continuation: number, random: () => number): number {
  let n = 1;
  while (n < maxPageViews && random() < continuation) n++;
  return n;
}

/** Going back from the audited page: a page visitors view that links to the next one (any page they view if none does). */
function pagesBefore(audited: string, count: number, views: Views, random: () => number): string[] {
  const chain: string[] = [];
  let next = audited;
  for (let i = 0; i < count; i++) {
    const free = (p: string) => p !== audited && !chain.includes(p);
    const linking = (p: string) => free(p) && (views.info.get(p)?.links.includes(next) ?? false);
    const prev = drawPage(views, linking, random) ?? drawPage(views, free, random);
    if (prev === null) break;
    chain.unshift(prev);
    next = prev;
  }
  return chain;
}

/** Going on from a page: a link of it to a page visitors view, not viewed yet in this visit. */
async function pagesAfter(from: string, count: number, views: Views, viewed: readonly string[], d: PlanDeps): Promise<string[]> {
  const out: string[] = [];
  let current = from;
  for (let i = 0; i < count; i++) {
    const links = (views.info.get(current) ?? (await d.info(current)))?.links ?? [];
    const next = drawPage(views, (p) => links.includes(p) && !viewed.includes(p) && !out.includes(p), d.random);
    if (next === null) break;
    out.push(next);
    current = next;
  }
  return out;
}

export async function planVisit(audited: string, samples: readonly VisitSample[], d: PlanDeps): Promise<VisitPlan> {
  const target = await d.info(audited);
  const views = await pageViews(samples, d);
  const continuation = continuationOf(views);
  const entry = entryOf(views, d.random);
  if (target && !target.page) {
    const names = (p: string) => views.info.get(p)?.files.find((f) => f.path === audited);
    const carrier = drawPage(views, (p) => names(p) !== undefined, d.random) ?? drawPage(views, () => true, d.random);
    const after = carrier ? await pagesAfter(carrier, visitLength(continuation, d.random) - 1, views, [carrier], d) : [];
    return { entry, before: [], carrier, after, destination: (carrier ? names(carrier)?.destination : undefined) ?? target.destination };
  }
  const length = visitLength(continuation, d.random);
  const place = Math.floor(d.random() * length);
  const before = pagesBefore(audited, place, views, d.random);
  const after = await pagesAfter(audited, length - 1 - place, views, [audited, ...before], d);
  return { entry, before, carrier: null, after, destination: 'document' };
}
