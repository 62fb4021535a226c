import { extractFeatures, subresourcePaths, type DocumentContext } from '../compare/document.js';
import type { HttpResult } from './http-client.js';
import { headerValue } from './http-client.js';
import type { Destination } from './visitor-profile.js';

// What the origin says each URL of a site is, so that an audit visits it as a visitor would: a
// page (HTML: the links a visitor can click on it, the files a browser loads with it), or a file
// (how a browser asks for it, from its content type). Learned from the origin only, never from
// the node, and kept per process for a few minutes.

export interface PageFile {
  path: string;
  destination: 'script' | 'style' | 'image';
}

export interface PageInfo {
  /** An HTML page a visitor navigates to (else a file a page loads). */
  page: boolean;
  /** How a browser asks for it: document for a page, else by the file's content type. */
  destination: Destination;
  /** Same-site pages it links to (path and query). */
  links: string[];
  /** Same-site files a browser loads with it, in document order. */
  files: PageFile[];
}

/** How a browser asks for a file of this content type (a page's script, stylesheet, image, font, or a fetch). */
export function destinationOfType(contentType: string): Destination {
  const t = contentType.toLowerCase();
  if (t.includes('html')) return 'document';
  if (t.startsWith('image/')) return 'image';
  if (t.startsWith('text/css')) return 'style';
  if (/(java|ecma)script/.test(t)) return 'script';
  if (t.startsWith('font/') || t.includes('font-')) return 'font';
  return 'other';
}

/** What an origin answer says the URL is; null when it is no answer a visitor would get (an error, a redirect). */
export function pageInfoOf(res: Pick<HttpResult, 'status' | 'headers' | 'body'>, ctx: DocumentContext): PageInfo | null {
  if (res.status !== 200) return null;
  const destination = destinationOfType(headerValue(res.headers, 'content-type') ?? '');
  if (destination !== 'document') return { page: false, destination, links: [], files: [] };
  const features = extractFeatures(res.body.toString('utf8'), ctx);
  const links = new Set<string>();
  for (const f of features) if (f.kind === 'link' && f.value.startsWith('/')) links.add(f.value.split('#')[0] ?? f.value);
  return { page: true, destination, links: [...links], files: subresourcePaths(features) };
}

/** Per site and path, what the origin said, for a few minutes (bounded). */
export class SitePages {
  private readonly entries = new Map<string, { at: number; info: Promise<PageInfo | null> }>();

  constructor(private readonly ttlMs = 10 * 60_000, private readonly max = 5_000) {}

  /** Known and still fresh: asking costs no origin request. */
  has(key: string, now: number): boolean {
    const e = this.entries.get(key);
    return e !== undefined && now - e.at <= this.ttlMs;
  }

  info(key: string, now: number, load: () => Promise<PageInfo | null>): Promise<PageInfo | null> {
    const e = this.entries.get(key);
    if (e && now - e.at <= this.ttlMs) return e.info;
    const info = load().catch(() => null);
    this.entries.delete(key);
    this.entries.set(key, { at: now, info });
    // Oldest first out (a Map keeps insertion order).
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.max) break;
      this.entries.delete(k);
    }
    return info;
  }
}

/**
 * What one audit may ask: paths the process knows cost nothing; at most `budget` new origin
 * look-ups (undefined once they are spent: the plan goes without that path).
 */
export function auditLookups(pages: SitePages, siteId: string, load: (path: string) => Promise<PageInfo | null>, budget: number, now: () => number = Date.now): (path: string) => Promise<PageInfo | null | undefined> {
  let left = budget;
  return async (path) => {
    const key = `${siteId} ${path}`;
    if (!pages.has(key, now()) && left-- <= 0) return undefined;
    return pages.info(key, now(), () => load(path));
  };
}
