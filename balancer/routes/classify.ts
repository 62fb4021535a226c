import type { IncomingHttpHeaders } from 'node:http';
import picomatch from 'picomatch';

// Which requests may ever reach a volunteer node. Anything that could carry a secret or change
// state goes to the origin only; when in doubt, the origin.

export type RequestClass = { route: 'node' } | { route: 'origin'; reason: OriginReason };
export type OriginReason = 'method' | 'private-route' | 'credentials' | 'token-query' | 'service-worker';

export type PrivateMatcher = (path: string) => boolean;

export function compilePrivateRoutes(globs: readonly string[]): PrivateMatcher {
  if (globs.length === 0) return () => false;
  // Case-insensitive: some origins treat /Account and /account alike.
  const matchers = globs.map((g) => picomatch(g, { dot: true, nocase: true }));
  // "/account/**" should also cover "/account" itself.
  return (path) => matchers.some((m) => m(path) || m(`${path.replace(/\/$/, '')}/`));
}

/** Query parameter names that look like credentials or one-time links. */
const tokenLikeParam = /(^|_|-)(token|auth|session|sess|sid|key|apikey|api_key|secret|password|passwd|pwd|code|sig|signature|jwt|access|credential|otp|nonce|ticket)s?($|_|-)/i;
/** Values that look like a bearer credential regardless of their name (long opaque strings). */
const tokenLikeValue = /^[A-Za-z0-9_\-.~+/=]{32,}$/;

export function hasTokenLikeQuery(search: string): boolean {
  if (search.length <= 1) return false;
  const params = new URLSearchParams(search);
  for (const [name, value] of params) {
    if (tokenLikeParam.test(name) || tokenLikeValue.test(value)) return true;
  }
  return false;
}

/** Splits a request target into path and query (the target is origin-form, checked earlier). */
export function splitTarget(url: string): { path: string; search: string } {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, search: '' } : { path: url.slice(0, q), search: url.slice(q) };
}

/** Per request: no I/O. */
export function classifyRequest(method: string, url: string, headers: IncomingHttpHeaders, isPrivate: PrivateMatcher): RequestClass {
  if (method !== 'GET' && method !== 'HEAD') return { route: 'origin', reason: 'method' };
  if (headers.cookie !== undefined || headers.authorization !== undefined || headers['proxy-authorization'] !== undefined) {
    return { route: 'origin', reason: 'credentials' };
  }
  if (headers['service-worker'] !== undefined) return { route: 'origin', reason: 'service-worker' };
  const { path, search } = splitTarget(url);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return { route: 'origin', reason: 'private-route' };
  }
  // Both spellings are checked so %2F-style encoding cannot slip a private path past a glob.
  if (isPrivate(path) || isPrivate(decoded) || isPrivate(decoded.replace(/\/{2,}/g, '/'))) return { route: 'origin', reason: 'private-route' };
  if (hasTokenLikeQuery(search)) return { route: 'origin', reason: 'token-query' };
  return { route: 'node' };
}
