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
  /** Lower-case name → value, as the origin sent them (security and policy headers only). */
  headers: Readonly<Record<string, string>>;
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

function checkPolicyHeader(name: string, value: string, policy: OriginPolicy | null): string | null {
  if (name.startsWith('access-control-')) {
    const originValue = policy?.headers[name];
    return originValue === value ? null : `${name}: ${value}`;
  }
  if (!policyHeaderNames.has(name)) return null;
  // Without the origin's policy, security headers cannot be judged; the rest is never a node's.
  if (!policy) return securityHeaderNames.includes(name as (typeof securityHeaderNames)[number]) ? null : `${name}: ${value}`;
  return policy.headers[name] === value ? null : `${name}: ${value}`;
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
      violations.push('set-cookie');
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
  }
  if (policy) for (const name of securityHeaderNames) if (policy.headers[name] !== undefined) headers[name] = policy.headers[name];
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

/** The policy headers of an origin response, to remember for the site. */
export function extractPolicy(upstream: IncomingHttpHeaders): OriginPolicy {
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(upstream)) {
    if (raw === undefined) continue;
    if (policyHeaderNames.has(name) || name.startsWith('access-control-')) headers[name] = headerValue(raw);
  }
  return { headers };
}
