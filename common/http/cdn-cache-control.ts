import { parseCacheControl, type HeaderGetter } from './rfc9111.js';

// Which caching directives of a response our caches obey (the balancer's publications and the
// nodes' stores). Verity is a CDN, so when the origin sends `CDN-Cache-Control` (RFC 9213) with
// a valid value, that field speaks to us instead of `Cache-Control`; an invalid one is ignored,
// as the RFC says.

/** A member of a Structured Fields dictionary (RFC 8941 §3.2): lower-case key, an optional bare item, parameters. */
const KEY = '[a-z*][a-z0-9_\\-.*]*';
const BARE_ITEM = '(?:-?\\d{1,15}(?:\\.\\d{1,3})?|"(?:[^"\\\\]|\\\\["\\\\])*"|[A-Za-z*][!#$%&\'*+\\-.^_`|~:/0-9A-Za-z]*|:[A-Za-z0-9+/=]*:|\\?[01])';
const MEMBER = new RegExp(`^(${KEY})(?:=(${BARE_ITEM}))?((?:;\\s*${KEY}(?:=${BARE_ITEM})?)*)$`);
/** Directives whose value must be an integer. */
const INTEGER_VALUED = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);

/** The directives of a CDN-Cache-Control value, or null when it is not a valid dictionary. */
export function parseCdnCacheControl(value: string): Map<string, string | true> | null {
  const out = new Map<string, string | true>();
  if (value.trim() === '') return null;
  for (const raw of value.split(',')) {
    const m = MEMBER.exec(raw.trim());
    if (!m?.[1]) return null;
    const v = m[2];
    if (INTEGER_VALUED.has(m[1]) && (v === undefined || !/^\d+$/.test(v))) return null;
    if (!out.has(m[1])) out.set(m[1], v ?? true);
  }
  return out;
}

/** The directives our caches obey for this response. */
export function cacheDirectives(get: HeaderGetter): Map<string, string | true> {
  const cdn = get('cdn-cache-control');
  return (cdn === null ? null : parseCdnCacheControl(cdn)) ?? parseCacheControl(get('cache-control'));
}

/** Whether the freshness comes from CDN-Cache-Control, which then also overrides Expires. */
export function hasCdnDirectives(get: HeaderGetter): boolean {
  const cdn = get('cdn-cache-control');
  return cdn !== null && parseCdnCacheControl(cdn) !== null;
}
