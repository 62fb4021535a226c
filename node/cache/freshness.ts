import { cacheDirectives, hasCdnDirectives as cdnIn } from '../../common/http/cdn-cache-control.js';
import { mayForwardForVary } from './forward-headers.js';
import {
  ageSeconds, deltaSeconds, getHeader, httpDateMs, parseCacheControl, requestHeader,
  type HeaderPairs, type RequestHeaders,
} from './http-headers.js';

// RFC 9111 as a shared cache, pure: what may be stored, for how long it is fresh, how old it
// is, when a stale response may still be used, and which stored variant a request may use.
// No I/O, no clock of its own.

/** Heuristically cacheable status codes (RFC 9110 §15.1). */
const HEURISTIC_STATUS = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);
/** Status codes whose caching rules this cache understands (for `must-understand`). */
const UNDERSTOOD_STATUS = new Set([...HEURISTIC_STATUS, 302, 303, 307]);
const HEURISTIC_MAX_MS = 24 * 3600_000;

export type Decision = { ok: true } | { ok: false; reason: string };

const directives = (headers: HeaderPairs): Map<string, string | true> => cacheDirectives((n) => getHeader(headers, n));
const hasCdnDirectives = (headers: HeaderPairs): boolean => cdnIn((n) => getHeader(headers, n));
const requestDirectives = (headers: RequestHeaders) => parseCacheControl(requestHeader(headers, 'cache-control'));

/** May this request be answered from the cache or fill it (RFC 9111 §3, §5.2.1)? */
export function requestMayUseCache(method: string, headers: RequestHeaders): Decision {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, reason: `method ${method}` };
  if (requestHeader(headers, 'authorization') !== null) return { ok: false, reason: 'request has Authorization' };
  if (requestHeader(headers, 'cookie') !== null) return { ok: false, reason: 'request has Cookie' };
  if (requestDirectives(headers).has('no-store')) return { ok: false, reason: 'request says no-store' };
  return { ok: true };
}

/** May this response be stored by a shared cache (RFC 9111 §3)? A 206 also needs its Content-Range checked. */
export function responseIsStorable(status: number, headers: HeaderPairs): Decision {
  if (status < 200 || status === 304 || status > 599) return { ok: false, reason: `status ${status}` };
  const cc = directives(headers);
  const understood = cc.has('must-understand') && UNDERSTOOD_STATUS.has(status);
  if (cc.has('no-store') && !understood) return { ok: false, reason: 'no-store' };
  if (cc.has('private')) return { ok: false, reason: 'private' };
  // A response setting a cookie is someone's: never hand it to another visitor.
  if (getHeader(headers, 'set-cookie') !== null) return { ok: false, reason: 'Set-Cookie' };
  const vary = varyNames(headers);
  if (vary === '*') return { ok: false, reason: 'Vary: *' };
  // Varying on a header the node never forwards (credentials, conditionals) means per visitor.
  const personal = vary.find((n) => !mayForwardForVary(n));
  if (personal) return { ok: false, reason: `Vary: ${personal}` };
  const explicit = cc.has('public') || cc.has('s-maxage') || cc.has('max-age') || (getHeader(headers, 'expires') !== null && !hasCdnDirectives(headers));
  if (!explicit && !HEURISTIC_STATUS.has(status)) return { ok: false, reason: `status ${status} without explicit freshness` };
  return { ok: true };
}

/** Freshness lifetime in ms (RFC 9111 §4.2.1): s-maxage, max-age, Expires, then a heuristic. */
export function freshnessLifetimeMs(headers: HeaderPairs, status = 200, responseTimeMs = 0): number {
  const cc = directives(headers);
  if (cc.has('no-cache')) return 0;
  const sMaxAge = deltaSeconds(cc.get('s-maxage'));
  if (sMaxAge !== null) return sMaxAge * 1000;
  const maxAge = deltaSeconds(cc.get('max-age'));
  if (maxAge !== null) return maxAge * 1000;
  const date = httpDateMs(getHeader(headers, 'date')) ?? responseTimeMs;
  // CDN-Cache-Control, when it applies, replaces Cache-Control and Expires both (RFC 9213 §2).
  if (hasCdnDirectives(headers)) return 0;
  const expiresHeader = getHeader(headers, 'expires');
  if (expiresHeader !== null) {
    // An invalid Expires ("0", another date format, two of them) means already expired.
    const expires = httpDateMs(expiresHeader);
    return expires === null ? 0 : Math.max(0, expires - date);
  }
  // Heuristic (§4.2.2): 10% of the time since Last-Modified, at most a day.
  const lastModified = httpDateMs(getHeader(headers, 'last-modified'));
  if (HEURISTIC_STATUS.has(status) && lastModified !== null && date > lastModified) return Math.min(HEURISTIC_MAX_MS, Math.floor((date - lastModified) / 10));
  return 0;
}

export interface Timing {
  /** When the request that got this response was sent (ms). */
  requestTimeMs: number;
  /** When the response arrived (ms). */
  responseTimeMs: number;
}

/** Current age in ms (RFC 9111 §4.2.3). */
export function currentAgeMs(headers: HeaderPairs, t: Timing, nowMs: number): number {
  const ageValue = ageSeconds(getHeader(headers, 'age')) * 1000;
  const date = httpDateMs(getHeader(headers, 'date')) ?? t.responseTimeMs;
  const apparentAge = Math.max(0, t.responseTimeMs - date);
  const responseDelay = Math.max(0, t.responseTimeMs - t.requestTimeMs);
  const correctedInitialAge = Math.max(apparentAge, ageValue + responseDelay);
  return correctedInitialAge + Math.max(0, nowMs - t.responseTimeMs);
}

/** A shared cache may serve this response stale at all (RFC 9111 §4.2.4, §5.2.2). */
function mayServeStale(headers: HeaderPairs): boolean {
  const cc = directives(headers);
  return !cc.has('must-revalidate') && !cc.has('proxy-revalidate') && !cc.has('s-maxage') && !cc.has('no-cache');
}

/** The request insists on the origin's word (no-cache, or Pragma: no-cache without Cache-Control). */
export function requestWantsRevalidation(headers: RequestHeaders): boolean {
  if (requestHeader(headers, 'cache-control') === null) return /(^|,)\s*no-cache\s*(,|$)/i.test(requestHeader(headers, 'pragma') ?? '');
  const cc = requestDirectives(headers);
  return cc.has('no-cache') || deltaSeconds(cc.get('max-age')) === 0;
}

export interface StoredResponse extends Timing {
  status: number;
  headers: HeaderPairs;
}

/**
 * How a stored response may serve a request now: `fresh` (as it is), `stale-while-revalidate`
 * (as it is, while revalidating in the background; RFC 5861), or `stale` (revalidate first).
 */
export function usability(e: StoredResponse, req: RequestHeaders, nowMs: number): 'fresh' | 'stale-while-revalidate' | 'stale' {
  if (requestWantsRevalidation(req)) return 'stale';
  const reqCc = requestDirectives(req);
  const lifetime = freshnessLifetimeMs(e.headers, e.status, e.responseTimeMs);
  const age = currentAgeMs(e.headers, e, nowMs);
  const maxAge = deltaSeconds(reqCc.get('max-age'));
  if (maxAge !== null && age > maxAge * 1000) return 'stale';
  const minFresh = deltaSeconds(reqCc.get('min-fresh'));
  if (minFresh !== null && lifetime - age < minFresh * 1000) return 'stale';
  if (lifetime > age) return 'fresh';
  if (!mayServeStale(e.headers)) return 'stale';
  const staleness = age - lifetime;
  const maxStale = reqCc.get('max-stale');
  if (maxStale === true || (maxStale !== undefined && staleness <= (deltaSeconds(maxStale) ?? -1) * 1000)) return 'fresh';
  const swr = deltaSeconds(directives(e.headers).get('stale-while-revalidate'));
  return swr !== null && staleness < swr * 1000 ? 'stale-while-revalidate' : 'stale';
}

/**
 * When the origin fails, may the stored response answer instead? On a 5xx or a failure, within
 * the response's or the request's `stale-if-error` window (RFC 5861 §4); and when the origin
 * cannot be reached at all, whenever serving stale is not forbidden (RFC 9111 §4.2.4: a
 * disconnected cache may). Never when the requester insists on revalidation (the balancer's
 * `no-cache`), unless it said stale-if-error itself.
 */
export function mayServeOnError(e: StoredResponse, req: RequestHeaders, nowMs: number, disconnected: boolean): boolean {
  if (!mayServeStale(e.headers)) return false;
  const fromRequest = deltaSeconds(requestDirectives(req).get('stale-if-error'));
  if (requestWantsRevalidation(req) && fromRequest === null) return false;
  if (disconnected) return true;
  const staleness = currentAgeMs(e.headers, e, nowMs) - freshnessLifetimeMs(e.headers, e.status, e.responseTimeMs);
  const fromResponse = deltaSeconds(directives(e.headers).get('stale-if-error'));
  const window = Math.max(fromResponse ?? -1, fromRequest ?? -1);
  return window >= 0 && staleness <= window * 1000;
}

/** Whether a stale response can be revalidated (it has a validator). */
export function hasValidator(headers: HeaderPairs): boolean {
  return getHeader(headers, 'etag') !== null || getHeader(headers, 'last-modified') !== null;
}

/** Worth storing: fresh for a while, revalidatable, or servable stale while revalidating. */
export function worthStoring(status: number, headers: HeaderPairs, responseTimeMs = 0): boolean {
  return freshnessLifetimeMs(headers, status, responseTimeMs) > 0 || hasValidator(headers);
}

/** Lower-cased header names a response varies on, or '*'. */
export function varyNames(headers: HeaderPairs): string[] | '*' {
  const names = (getHeader(headers, 'vary') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  return names.includes('*') ? '*' : [...new Set(names)].sort();
}

function normaliseValue(v: string | null): string {
  return v === null ? '' : v.split(',').map((s) => s.trim()).join(',');
}

/** The request's values of the Vary headers: a stored variant may serve a request whose values equal these. */
export function varyValues(names: readonly string[], headers: RequestHeaders): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, normaliseValue(requestHeader(headers, n))]));
}

export function varyMatches(stored: Record<string, string>, headers: RequestHeaders): boolean {
  return Object.entries(stored).every(([n, v]) => normaliseValue(requestHeader(headers, n)) === v);
}

/** If-None-Match against an ETag (weak comparison, RFC 9110 §13.1.2). */
export function etagMatches(ifNoneMatch: string | null, etag: string | null): boolean {
  if (ifNoneMatch === null || etag === null) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => strip(t) === strip(etag));
}
