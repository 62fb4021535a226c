import {
  deltaSeconds, getHeader, httpDateMs, parseCacheControl, requestHeader,
  type HeaderPairs, type RequestHeaders,
} from './http-headers.js';

// RFC 9111 as a shared cache, pure: what may be stored, for how long it is fresh, how old it
// is, and which stored variant a request may use. No I/O, no clock of its own.

/** Status codes we store (heuristically cacheable ones of RFC 9110 §15.1, minus partial content). */
const STORABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
const HEURISTIC_MAX_MS = 24 * 3600_000;

export type Decision = { ok: true } | { ok: false; reason: string };

/** May this request be answered from the cache at all (RFC 9111 §3.5, §5.2.1)? */
export function requestMayUseCache(method: string, headers: RequestHeaders): Decision {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, reason: `method ${method}` };
  if (requestHeader(headers, 'authorization') !== null) return { ok: false, reason: 'request has Authorization' };
  if (requestHeader(headers, 'cookie') !== null) return { ok: false, reason: 'request has Cookie' };
  if (requestHeader(headers, 'range') !== null) return { ok: false, reason: 'range request' };
  if (parseCacheControl(requestHeader(headers, 'cache-control')).has('no-store')) return { ok: false, reason: 'request says no-store' };
  return { ok: true };
}

/** May this response be stored by a shared cache (RFC 9111 §3)? */
export function responseIsStorable(status: number, headers: HeaderPairs): Decision {
  if (!STORABLE_STATUS.has(status)) return { ok: false, reason: `status ${status}` };
  const cc = parseCacheControl(getHeader(headers, 'cache-control'));
  if (cc.has('no-store')) return { ok: false, reason: 'no-store' };
  if (cc.has('private')) return { ok: false, reason: 'private' };
  // A response setting a cookie is someone's: never hand it to another visitor.
  if (getHeader(headers, 'set-cookie') !== null) return { ok: false, reason: 'Set-Cookie' };
  const vary = varyNames(headers);
  if (vary === '*') return { ok: false, reason: 'Vary: *' };
  return { ok: true };
}

/** Freshness lifetime in ms (RFC 9111 §4.2.1): s-maxage, max-age, Expires, then a heuristic. */
export function freshnessLifetimeMs(headers: HeaderPairs): number {
  const cc = parseCacheControl(getHeader(headers, 'cache-control'));
  if (cc.has('no-cache')) return 0;
  const sMaxAge = deltaSeconds(cc.get('s-maxage'));
  if (sMaxAge !== null) return sMaxAge * 1000;
  const maxAge = deltaSeconds(cc.get('max-age'));
  if (maxAge !== null) return maxAge * 1000;
  const expiresHeader = getHeader(headers, 'expires');
  if (expiresHeader !== null) {
    const expires = httpDateMs(expiresHeader);
    const date = httpDateMs(getHeader(headers, 'date'));
    // An invalid Expires (e.g. "0") means already expired.
    if (expires === null || date === null) return 0;
    return Math.max(0, expires - date);
  }
  // Heuristic (§4.2.2): 10% of the time since Last-Modified, at most a day.
  const lastModified = httpDateMs(getHeader(headers, 'last-modified'));
  const date = httpDateMs(getHeader(headers, 'date'));
  if (lastModified !== null && date !== null && date > lastModified) return Math.min(HEURISTIC_MAX_MS, Math.floor((date - lastModified) / 10));
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
  const ageValue = (deltaSeconds(getHeader(headers, 'age') ?? undefined) ?? 0) * 1000;
  const date = httpDateMs(getHeader(headers, 'date')) ?? t.responseTimeMs;
  const apparentAge = Math.max(0, t.responseTimeMs - date);
  const responseDelay = Math.max(0, t.responseTimeMs - t.requestTimeMs);
  const correctedAgeValue = ageValue + responseDelay;
  const correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
  return correctedInitialAge + Math.max(0, nowMs - t.responseTimeMs);
}

export function isFresh(headers: HeaderPairs, t: Timing, nowMs: number, requestHeaders: RequestHeaders = {}): boolean {
  const reqCc = parseCacheControl(requestHeader(requestHeaders, 'cache-control'));
  if (reqCc.has('no-cache') || requestHeader(requestHeaders, 'pragma')?.toLowerCase() === 'no-cache') return false;
  const lifetime = freshnessLifetimeMs(headers);
  const age = currentAgeMs(headers, t, nowMs);
  const maxAge = deltaSeconds(reqCc.get('max-age'));
  if (maxAge !== null && age > maxAge * 1000) return false;
  return lifetime > age;
}

/** Whether a stale response can be revalidated (it has a validator). */
export function hasValidator(headers: HeaderPairs): boolean {
  return getHeader(headers, 'etag') !== null || getHeader(headers, 'last-modified') !== null;
}

/** Worth storing: fresh for a while, or revalidatable later. */
export function worthStoring(headers: HeaderPairs): boolean {
  return freshnessLifetimeMs(headers) > 0 || hasValidator(headers);
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
