import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findSession } from '../../common/db/queries/sessions.js';
import { authFailuresOf } from './auth-failures.js';
import type { ControlDeps } from './types.js';

// Who may use the admin API and the dashboard: the bearer admin token, or a dashboard session
// made by logging in with it. Shared by balancer/control/admin-api.ts and dashboards/.

export const SESSION_COOKIE = 'verity_session';
/** Double-submit token for the login form, which has no session yet. */
export const LOGIN_CSRF_COOKIE = 'verity_login_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';
export const SESSION_TTL_MS = 12 * 3600_000;

export interface AdminAuth {
  actor: string;
  via: 'bearer' | 'session';
  /** The session's CSRF token; null for bearer callers (no ambient credential to abuse). */
  csrfToken: string | null;
  /** Raw session cookie value, for logout. */
  sessionCookie: string | null;
}

const authByRequest = new WeakMap<FastifyRequest, AdminAuth>();

/** Compares secrets in constant time whatever their lengths (both are hashed first). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * Is `given` the admin token? The token itself when this process knows it (VERITY_ADMIN_TOKEN,
 * or generated at this start); otherwise its sha256 stored at the first start.
 */
export function adminTokenMatches(given: string, deps: Pick<ControlDeps, 'adminToken' | 'adminTokenSha256'>): boolean {
  if (given === '') return false;
  if (deps.adminToken !== '' && secretsEqual(given, deps.adminToken)) return true;
  if (!deps.adminTokenSha256) return false;
  return secretsEqual(createHash('sha256').update(given, 'utf8').digest('hex'), deps.adminTokenSha256);
}

export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1] ?? null;
}

export async function authenticate(req: FastifyRequest, deps: ControlDeps): Promise<AdminAuth | null> {
  const bearer = bearerToken(req);
  if (bearer !== null) {
    return adminTokenMatches(bearer, deps) ? { actor: 'admin-api', via: 'bearer', csrfToken: null, sessionCookie: null } : null;
  }
  const cookie = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  if (!cookie || !/^[A-Za-z0-9_-]{20,100}$/.test(cookie)) return null;
  const session = await findSession(deps.pool, cookie, new Date(deps.now()));
  return session ? { actor: session.actor, via: 'session', csrfToken: session.csrfToken, sessionCookie: cookie } : null;
}

/** The caller's identity, set by requireAdmin. */
export function authOf(req: FastifyRequest): AdminAuth | null {
  return authByRequest.get(req) ?? null;
}

/**
 * An onRequest hook: authenticated callers go on, everyone else gets `deny` (401 JSON for the
 * API, the login page for the dashboard). Wrong bearer tokens count against the caller's
 * address like wrong logins; once it has used them up it gets 429 until the window ends,
 * without its token being looked at.
 */
export function requireAdmin(deps: ControlDeps, deny: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>) {
  const failures = authFailuresOf(deps);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const bearer = bearerToken(req) !== null;
    if (bearer && failures.blocked(req.ip)) {
      return reply.code(429).header('retry-after', String(failures.retryAfterSeconds(req.ip))).header('cache-control', 'no-store')
        .send({ error: 'too_many_attempts', message: 'too many wrong admin tokens from this address; wait and try again' });
    }
    const auth = await authenticate(req, deps);
    if (bearer) {
      if (auth) failures.clear(req.ip);
      else failures.fail(req.ip);
    }
    if (!auth) return deny(req, reply);
    authByRequest.set(req, auth);
    return undefined;
  };
}

/** A browser says where a request came from; anything from another site is refused outright. */
export function fromSameOrigin(req: FastifyRequest): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return false;
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === '') return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * CSRF check for state-changing requests: bearer callers pass (a browser never adds that
 * header by itself); session callers must echo their session's token and come from our origin.
 */
export function csrfValid(req: FastifyRequest, auth: AdminAuth, submitted: unknown): boolean {
  if (auth.via === 'bearer') return true;
  if (!fromSameOrigin(req) || auth.csrfToken === null) return false;
  const header = req.headers[CSRF_HEADER];
  const given = typeof submitted === 'string' && submitted !== '' ? submitted : typeof header === 'string' ? header : '';
  return given !== '' && secretsEqual(given, auth.csrfToken);
}

function cookieAttributes(req: FastifyRequest, maxAgeSec: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${secure}`;
}

export function setCookie(reply: FastifyReply, req: FastifyRequest, name: string, value: string, maxAgeMs: number): void {
  const prev = reply.getHeader('set-cookie');
  const list = Array.isArray(prev) ? prev : typeof prev === 'string' ? [prev] : [];
  reply.header('set-cookie', [...list, `${name}=${value}; ${cookieAttributes(req, Math.floor(maxAgeMs / 1000))}`]);
}

export function clearCookie(reply: FastifyReply, req: FastifyRequest, name: string): void {
  setCookie(reply, req, name, '', 0);
}
