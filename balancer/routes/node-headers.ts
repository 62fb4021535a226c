import type { IncomingHttpHeaders } from 'node:http';
import type { Publication } from '../publication/types.js';

// Visitors never get a node's headers, so a node cannot set cookies or weaken a policy. Trying
// is still a sign worth a (light) strike, but only where it is unambiguous: the node claims the
// very version we verified (same validator), and the header is one whose value the origin never
// varied for that URL. An honest node relays the origin's headers for that version as it got them.

const POLICY = [
  'strict-transport-security', 'content-security-policy', 'content-security-policy-report-only', 'x-frame-options', 'x-content-type-options',
  'referrer-policy', 'permissions-policy', 'cross-origin-opener-policy', 'cross-origin-embedder-policy', 'cross-origin-resource-policy',
  'clear-site-data', 'alt-svc', 'refresh', 'access-control-allow-origin', 'access-control-allow-credentials',
];

function value(v: string | string[] | undefined): string {
  return v === undefined ? '' : (Array.isArray(v) ? v.join(', ') : v).trim();
}

/** Per request: what the node got wrong about the origin's headers ([] when nothing is provable). */
export function headerViolations(node: IncomingHttpHeaders, pub: Publication, host: string): string[] {
  const o = pub.current;
  if (pub.mode !== 'stable') return [];
  const validator = o.etag !== null ? value(node.etag) === o.etag : o.lastModified !== null && value(node['last-modified']) === o.lastModified;
  if (!validator) return [];
  const out: string[] = [];
  if (node['set-cookie'] !== undefined) out.push('set-cookie');
  const location = value(node.location);
  if (location !== '' && location !== value(o.headers.location)) {
    try {
      if (new URL(location, `http://${host}/`).host !== host) out.push(`location: ${location.slice(0, 200)}`);
    } catch {
      out.push('location: malformed');
    }
  }
  for (const name of POLICY) {
    if (pub.unstableHeaders.includes(name)) continue;
    const theirs = value(node[name]);
    if (theirs !== value(o.headers[name])) out.push(`${name}: ${theirs.slice(0, 200) || '(removed)'}`);
  }
  return out;
}
