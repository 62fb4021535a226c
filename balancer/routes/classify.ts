import type { IncomingHttpHeaders } from 'node:http';
import picomatch from 'picomatch';

// Which requests could ever reach a volunteer node. This is the first gate only: a request that
// passes it still goes to the origin unless the origin published the URL (balancer/publication).
// Anything that could carry a secret or change state goes to the origin, whatever the URL.

export type OriginReason = 'method' | 'credentials' | 'service-worker' | 'private-route' | 'not-public' | 'bad-path';
export type RequestClass = { route: 'candidate' } | { route: 'origin'; reason: OriginReason };

export type PathMatcher = (path: string) => boolean;

/**
 * The path as the owner's globs are matched against it: ';params' dropped from every segment,
 * percent-decoded, lower case, '.' and '..' resolved, empty segments gone. Null when it does
 * not decode.
 */
export function normalisePath(path: string): string[] | null {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    const semi = raw.indexOf(';');
    let seg: string;
    try {
      seg = decodeURIComponent(semi === -1 ? raw : raw.slice(0, semi)).toLowerCase();
    } catch {
      return null;
    }
    // An encoded slash is a slash for the glob (the origin may well decode it).
    for (const part of seg.split('/')) {
      const p = part.includes(';') ? part.slice(0, part.indexOf(';')) : part;
      if (p === '' || p === '.') continue;
      if (p === '..') out.pop();
      else out.push(p);
    }
  }
  return out;
}

/**
 * Every form a glob written for `/account` must catch: each prefix of the path that ends at a
 * segment boundary, and each of those with its last segment cut at the first dot
 * (`/account.json`, `/login;x`, `/login/` and `/Login/reset` all start with `/account` or
 * `/login` at a boundary).
 */
function candidates(segments: string[], stems: boolean): string[] {
  const out: string[] = [segments.length === 0 ? '/' : ''];
  let prefix = '';
  for (const seg of segments) {
    const dot = seg.indexOf('.');
    if (stems && dot > 0) out.push(`${prefix}/${seg.slice(0, dot)}`);
    prefix += `/${seg}`;
    out.push(prefix, `${prefix}/`);
  }
  return out.filter((c) => c !== '');
}

/**
 * Globs as the owner wrote them; a glob without a leading slash is taken from the root. Private
 * globs (`stems`) also catch other representations of a path (`/account.json` for `/account`);
 * public ones only restrict, so they match at segment boundaries alone.
 */
export function compileRoutes(globs: readonly string[], stems: boolean): PathMatcher | null {
  const cleaned = globs.map((g) => g.trim()).filter(Boolean).map((g) => (g.startsWith('/') ? g : `/${g}`).toLowerCase());
  if (cleaned.length === 0) return null;
  const matchers = cleaned.map((g) => picomatch(g.endsWith('/') && g.length > 1 ? g.slice(0, -1) : g, { dot: true, nocase: true }));
  return (path) => {
    const segments = normalisePath(path);
    if (segments === null) return true;
    for (const c of candidates(segments, stems)) for (const m of matchers) if (m(c)) return true;
    return false;
  };
}

/** Splits a request target into path and query (the target is origin-form, checked earlier). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export interface SiteRoutes {
  isPrivate: PathMatcher | null;
  /** Set when the owner restricted what nodes may serve to these globs. */
  isPublic: PathMatcher | null;
}

/** Per request: no I/O. */
export function classifyRequest(method: string, url: string, headers: IncomingHttpHeaders, routes: SiteRoutes): RequestClass {
  if (method !== 'GET' && method !== 'HEAD') return { route: 'origin', reason: 'method' };
  if (headers.cookie !== undefined || headers.authorization !== undefined || headers['proxy-authorization'] !== undefined) {
    return { route: 'origin', reason: 'credentials' };
  }
  if (headers['service-worker'] !== undefined) return { route: 'origin', reason: 'service-worker' };
  if (routes.isPrivate === null && routes.isPublic === null) return { route: 'candidate' };
  const path = pathOf(url);
  if (routes.isPrivate?.(path)) return { route: 'origin', reason: 'private-route' };
  if (routes.isPublic !== null && !routes.isPublic(path)) return { route: 'origin', reason: 'not-public' };
  return { route: 'candidate' };
}
