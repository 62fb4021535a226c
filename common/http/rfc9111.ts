import { cacheDirectives, hasCdnDirectives } from './cdn-cache-control.js';
import { parseHttpDate } from './http-date.js';

// RFC 9111 (HTTP caching) as pure functions, for any cache of ours: what a shared cache may
// store, how long it stays fresh, how old it is. Headers are read through a getter so callers
// keep their own representation (raw pairs on the node, parsed objects on the balancer).

/** A header's value with all its field lines joined by ", ", or null when absent. */
export type HeaderGetter = (lowerCaseName: string) => string | null;

/** Status codes a shared cache may store heuristically (RFC 9110 §15.1), minus partial content. */
export const HEURISTICALLY_CACHEABLE = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
const HEURISTIC_MAX_MS = 24 * 3600_000;

/** Cache-Control directives, lower-cased; a directive without a value maps to true. The first of a repeated directive wins. */
export function parseCacheControl(value: string | null): Map<string, string | true> {
  const out = new Map<string, string | true>();
  if (!value) return out;
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(?:=\s*(?:"([^"]*)"|([^\s,;]*)))?\s*$/.exec(part);
    if (!m?.[1]) continue;
    const name = m[1].toLowerCase();
    if (!out.has(name)) out.set(name, m[2] ?? m[3] ?? true);
  }
  return out;
}

/** delta-seconds (RFC 9111 §1.2.2): digits only; overflow saturates at 2^31. */
export function deltaSeconds(v: string | true | undefined | null): number | null {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return null;
  return Math.min(Number(v), 2 ** 31);
}

/** Age (RFC 9111 §5.1): the first value of a list counts (`Age: 7200, 0` is 7200); anything else is invalid. */
export function parseAge(value: string | null): number | null {
  if (value === null) return null;
  return deltaSeconds(value.split(',')[0]?.trim());
}

/** HTTP-date (RFC 9110 §5.6.7) in its three forms only; anything else is invalid (null). */
export function httpDateMs(value: string | null): number | null {
  return value === null ? null : parseHttpDate(value.trim());
}

/** Lower-cased header names a response varies on (sorted, unique), or '*'. */
export function varyNames(get: HeaderGetter): string[] | '*' {
  const names = (get('vary') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  return names.includes('*') ? '*' : [...new Set(names)].sort();
}

export type Decision = { ok: true } | { ok: false; reason: string };

/** May a shared cache store this response (RFC 9111 §3, plus: nothing that sets or depends on a cookie)? */
export function sharedCacheMayStore(status: number, get: HeaderGetter): Decision {
  const cc = cacheDirectives(get);
  if (cc.has('no-store')) return { ok: false, reason: 'no-store' };
  if (cc.has('private')) return { ok: false, reason: 'private' };
  // A response setting a cookie is someone's: never hand it to another visitor.
  if (get('set-cookie') !== null) return { ok: false, reason: 'Set-Cookie' };
  const vary = varyNames(get);
  if (vary === '*') return { ok: false, reason: 'Vary: *' };
  if (vary.some((n) => n === 'cookie' || n === 'authorization')) return { ok: false, reason: `Vary: ${vary.join(', ')}` };
  const explicit = cc.has('s-maxage') || cc.has('max-age') || cc.has('public') || (get('expires') !== null && !hasCdnDirectives(get));
  if (!explicit && !HEURISTICALLY_CACHEABLE.has(status)) return { ok: false, reason: `status ${status} without explicit freshness` };
  return { ok: true };
}

/** Freshness lifetime in ms for a shared cache (RFC 9111 §4.2.1): s-maxage, max-age, Expires, then the heuristic. */
export function freshnessLifetimeMs(status: number, get: HeaderGetter): number {
  // A valid CDN-Cache-Control speaks to us instead of Cache-Control, Expires included (RFC 9213).
  const cc = cacheDirectives(get);
  if (cc.has('no-cache') || cc.has('must-understand') && !HEURISTICALLY_CACHEABLE.has(status)) return 0;
  const sMaxAge = deltaSeconds(cc.get('s-maxage'));
  if (sMaxAge !== null) return sMaxAge * 1000;
  const maxAge = deltaSeconds(cc.get('max-age'));
  if (maxAge !== null) return maxAge * 1000;
  // A max-age that is present but not delta-seconds is invalid: stale (§4.2.1).
  if (cc.has('max-age') || cc.has('s-maxage')) return 0;
  const expiresHeader = hasCdnDirectives(get) ? null : get('expires');
  if (expiresHeader !== null) {
    const expires = httpDateMs(expiresHeader);
    const date = httpDateMs(get('date'));
    // An invalid Expires (e.g. "0") means already expired (§5.3).
    if (expires === null) return 0;
    return Math.max(0, expires - (date ?? expires));
  }
  if (!HEURISTICALLY_CACHEABLE.has(status) && !cc.has('public')) return 0;
  // Heuristic (§4.2.2): 10 % of the time since Last-Modified, at most a day.
  const lastModified = httpDateMs(get('last-modified'));
  const date = httpDateMs(get('date'));
  if (lastModified !== null && date !== null && date > lastModified) return Math.min(HEURISTIC_MAX_MS, Math.floor((date - lastModified) / 10));
  return 0;
}

export interface Timing {
  /** When the request that got this response was sent (ms). */
  requestTimeMs: number;
  /** When the response arrived (ms). */
  responseTimeMs: number;
}

/** Age of the response when it arrived, corrected (RFC 9111 §4.2.3), in ms. */
export function initialAgeMs(get: HeaderGetter, t: Timing): number {
  const ageValue = (parseAge(get('age')) ?? 0) * 1000;
  const date = httpDateMs(get('date')) ?? t.responseTimeMs;
  const apparentAge = Math.max(0, t.responseTimeMs - date);
  const responseDelay = Math.max(0, t.responseTimeMs - t.requestTimeMs);
  return Math.max(apparentAge, ageValue + responseDelay);
}

/** Request directives that forbid answering from a cache without asking the origin (RFC 9111 §5.2.1, §5.4). */
export function requestWantsOrigin(cacheControl: string | null, pragma: string | null): boolean {
  if (cacheControl === null) return pragma !== null && /(^|,)\s*no-cache\s*(,|$)/i.test(pragma);
  const cc = parseCacheControl(cacheControl);
  return cc.has('no-cache') || cc.has('no-store') || deltaSeconds(cc.get('max-age')) === 0;
}

/** Weak comparison of an If-None-Match list with an ETag (RFC 9110 §13.1.2). */
export function etagMatches(ifNoneMatch: string | null, etag: string | null): boolean {
  if (ifNoneMatch === null || etag === null) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const strip = (t: string): string => t.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => strip(t) === strip(etag));
}

/** If-Modified-Since (RFC 9110 §13.1.3): not modified when Last-Modified is not after the given date. */
export function notModifiedSince(ifModifiedSince: string | null, lastModified: string | null): boolean {
  const since = httpDateMs(ifModifiedSince);
  const modified = httpDateMs(lastModified);
  return since !== null && modified !== null && modified <= since;
}
