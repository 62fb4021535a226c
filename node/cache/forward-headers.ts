import { HOP_BY_HOP, type HeaderPairs } from './http-headers.js';

// What of a request reaches the origin: a fixed allowlist of what a browser says about itself,
// plus the request headers the origin itself named in Vary for that URL (so that Vary-keyed
// variants are right). Nothing else: a header nobody thought of never leaves the node.

const ALLOWED = new Set(['accept', 'accept-encoding', 'accept-language', 'user-agent', 'dnt', 'upgrade-insecure-requests', 'priority']);
const ALLOWED_PREFIXES = ['sec-ch-ua', 'sec-fetch-'];

/**
 * Never forwarded, whatever the origin's Vary says: credentials, the node's own request
 * signature, framing, and the headers whose meaning belongs to this hop (the node makes its own
 * conditional and range requests).
 */
const NEVER = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'x-verity-request-auth', 'host', 'content-length', 'expect',
  'range', 'if-range', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'cache-control', 'pragma',
  ...HOP_BY_HOP,
]);

export function isAllowlisted(lowerName: string): boolean {
  return ALLOWED.has(lowerName) || ALLOWED_PREFIXES.some((p) => lowerName.startsWith(p));
}

/** May a header the origin named in Vary be sent to it? */
export function mayForwardForVary(lowerName: string): boolean {
  return !NEVER.has(lowerName);
}

/** The request headers for the origin: allowlisted ones, and those of `varyNames` that may go. */
export function forwardHeaders(raw: HeaderPairs, varyNames: readonly string[]): HeaderPairs {
  const learned = new Set(varyNames.filter(mayForwardForVary));
  return raw.filter(([n]) => {
    const lower = n.toLowerCase();
    return isAllowlisted(lower) || learned.has(lower);
  });
}
