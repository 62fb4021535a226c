import { parseHttpDate } from '../../common/http/http-date.js';

// Header helpers on raw header pairs (name, value), so what the origin sent is kept as sent.

export type HeaderPairs = [string, string][];
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization']);

/** node's rawHeaders ([n1, v1, n2, v2...]) to pairs. */
export function pairsFromRaw(raw: readonly string[]): HeaderPairs {
  const out: HeaderPairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return out;
}

/** All values of a header joined with ", " (null if absent). */
export function getHeader(pairs: HeaderPairs, name: string): string | null {
  const lower = name.toLowerCase();
  const values = pairs.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
  return values.length === 0 ? null : values.join(', ');
}

export function requestHeader(headers: RequestHeaders, name: string): string | null {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Hop-by-hop headers and those named in Connection are for one connection only, never forwarded. */
export function withoutHopByHop(pairs: HeaderPairs): HeaderPairs {
  const named = new Set((getHeader(pairs, 'connection') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
  return pairs.filter(([n]) => !HOP_BY_HOP.has(n.toLowerCase()) && !named.has(n.toLowerCase()));
}

/** Replaces a stored response's headers with those of a 304, as RFC 9111 §3.2 says (minus framing). */
export function mergeNotModified(stored: HeaderPairs, fresh: HeaderPairs): HeaderPairs {
  const keep = new Set(['content-length', 'content-encoding', 'content-type', 'transfer-encoding', 'content-range']);
  const replaced = new Set(fresh.map(([n]) => n.toLowerCase()).filter((n) => !keep.has(n)));
  return [...stored.filter(([n]) => !replaced.has(n.toLowerCase())), ...fresh.filter(([n]) => replaced.has(n.toLowerCase()))];
}

/** Cache-Control directives (one parser for all our caches). */
export { parseCacheControl } from '../../common/http/rfc9111.js';

export function deltaSeconds(v: string | true | undefined): number | null {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return null;
  return Math.min(Number(v), 2 ** 31);
}

/** An HTTP date (strictly: RFC 9110 §5.6.7) in ms, or null when absent or invalid. */
export function httpDateMs(value: string | null): number | null {
  return value === null ? null : parseHttpDate(value.trim());
}

/**
 * Age in seconds (RFC 9111 §5.1): a list-valued Age counts by its first member, and an invalid
 * one (negative, fractional, not a number) is ignored.
 */
export function ageSeconds(value: string | null): number {
  if (value === null) return 0;
  return deltaSeconds(value.split(',')[0]?.trim()) ?? 0;
}
