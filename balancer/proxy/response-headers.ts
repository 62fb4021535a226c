import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connectionNamed, isHopByHopResponseHeader } from './request-headers.js';

// What a node may say in a response: an allowlist of representation and caching headers.
// Everything that sets policy for the site in the visitor's browser (cookies, HSTS, CSP, CORS,
// Alt-Svc, Clear-Site-Data, Link preloads, Refresh) is the origin's to say, never a node's.
const fromNodeAllowed = new Set([
  'content-type', 'content-encoding', 'content-language', 'content-length', 'content-range', 'content-disposition',
  'cache-control', 'etag', 'last-modified', 'expires', 'vary', 'accept-ranges', 'age', 'date',
]);

/** Security headers learned from the origin and applied to every node response instead of the node's. */
export const securityHeaderNames = [
  'strict-transport-security', 'content-security-policy', 'content-security-policy-report-only', 'x-frame-options',
  'x-content-type-options', 'referrer-policy', 'permissions-policy', 'cross-origin-opener-policy',
  'cross-origin-embedder-policy', 'cross-origin-resource-policy',
] as const;

/** Headers a node must not invent or change: sending one that differs from the origin's is a strike. */
const policyHeaderNames = new Set<string>([...securityHeaderNames, 'clear-site-data', 'alt-svc', 'link', 'refresh']);

export interface OriginPolicy {
  /** Lower-case name → value of the origin's default page (applied to node responses). */
  headers: Readonly<Record<string, string>>;
  /** Every value the origin was seen sending per policy header (pages may differ); a node relaying one of them is honest. */
  seen: Readonly<Record<string, readonly string[]>>;
  /** Names of cookies the origin sets: a caching node relaying one is dropped silently, any other is a strike. */
  cookieNames: readonly string[];
}

export interface HeaderVerdict {
  headers: OutgoingHttpHeaders;
  /** One entry per violation, e.g. "set-cookie", "location: cross-site https://evil.example/". */
  violations: string[];
}

export function headerValue(v: string | string[] | number | undefined): string {
  if (v === undefined) return '';
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** Is `location` on the same site as `host` (relative, or absolute with the same host)? */
export function isSameSiteLocation(location: string, host: string): boolean {
  try {
    const base = `http://${host}/`;
    const url = new URL(location, base);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

/** CSP nonces change on every response; the policy around them is what must match. */
export function normalizePolicyValue(value: string): string {
  return value.replace(/'nonce-[^']*'/g, "'nonce-*'").trim();
}

function originSent(policy: OriginPolicy | null, name: string, value: string): boolean {
  return policy?.seen[name]?.includes(normalizePolicyValue(value)) ?? false;
}

function checkPolicyHeader(name: string, value: string, policy: OriginPolicy | null): string | null {
  if (!policyHeaderNames.has(name) && !name.startsWith('access-control-')) return null;
  if (originSent(policy, name, value)) return null;
  // Without the origin's policy, security headers cannot be judged; the rest is never a node's.
  if (!policy && securityHeaderNames.includes(name as (typeof securityHeaderNames)[number])) return null;
  return `${name}: ${value}`;
}

export function cookieName(setCookie: string): string {
  return setCookie.slice(0, Math.max(0, setCookie.indexOf('='))).trim();
}

function checkSetCookie(raw: string | string[], policy: OriginPolicy | null): string | null {
  const names = (Array.isArray(raw) ? raw : [raw]).map(cookieName);
  const foreign = names.filter((n) => !(policy?.cookieNames.includes(n) ?? false));
  return foreign.length > 0 ? `set-cookie: ${foreign.join(', ').slice(0, 200)}` : null;
}

/**
 * Per request: no I/O. Filters a node's response headers, applies the origin's security
 * headers, and lists what the node got wrong (each is a strike).
 */
export function nodeResponseHeaders(upstream: IncomingHttpHeaders, host: string, policy: OriginPolicy | null): HeaderVerdict {
  const headers: OutgoingHttpHeaders = {};
  const violations: string[] = [];
  const named = connectionNamed(upstream);
  for (const [name, raw] of Object.entries(upstream)) {
    if (raw === undefined || isHopByHopResponseHeader(name, named)) continue;
    const value = headerValue(raw);
    if (name === 'set-cookie') {
      const violation = checkSetCookie(raw as string | string[], policy);
      if (violation) violations.push(violation);
      continue;
    }
    if (name === 'location') {
      if (isSameSiteLocation(value, host)) headers.location = value;
      else violations.push(`location: cross-site ${value.slice(0, 200)}`);
      continue;
    }
    const violation = checkPolicyHeader(name, value, policy);
    if (violation) violations.push(violation.slice(0, 300));
    if (fromNodeAllowed.has(name)) headers[name] = raw;
    // A security header the origin really sends (on some page) is kept as the node relayed it.
    else if (!violation && policy && securityHeaderNames.includes(name as (typeof securityHeaderNames)[number])) headers[name] = value;
  }
  if (policy) for (const name of securityHeaderNames) if (headers[name] === undefined && policy.headers[name] !== undefined) headers[name] = policy.headers[name];
  return { headers, violations };
}

/** The origin's own response: everything but hop-by-hop headers. */
export function originResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  const named = connectionNamed(upstream);
  for (const [name, raw] of Object.entries(upstream)) {
    if (raw === undefined || isHopByHopResponseHeader(name, named)) continue;
    headers[name] = raw;
  }
  return headers;
}

/** The policy headers and cookie names of one origin response. */
export function extractPolicy(upstream: IncomingHttpHeaders): OriginPolicy {
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(upstream)) {
    if (raw === undefined) continue;
    if (policyHeaderNames.has(name) || name.startsWith('access-control-')) headers[name] = headerValue(raw);
  }
  const cookies = upstream['set-cookie'] ?? [];
  return { headers, seen: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [normalizePolicyValue(v)]])), cookieNames: cookies.map(cookieName) };
}

const MAX_SEEN = 16;

/** Merges what one more origin response showed into what we knew (bounded). */
export function mergePolicy(known: OriginPolicy | null, next: OriginPolicy, asDefault: boolean): OriginPolicy {
  if (!known) return next;
  const seen: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(known.seen)) seen[k] = [...v];
  for (const [k, v] of Object.entries(next.seen)) {
    const list = seen[k] ?? (seen[k] = []);
    for (const value of v) if (!list.includes(value) && list.length < MAX_SEEN) list.push(value);
  }
  const cookieNames = [...new Set([...known.cookieNames, ...next.cookieNames])].slice(0, 64);
  return { headers: asDefault ? next.headers : known.headers, seen, cookieNames };
}
