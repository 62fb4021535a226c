import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_TOKEN_ACTOR, adminTokenMatches, clearCookie, fromSameOrigin, LOGIN_CSRF_COOKIE, parseCookies, randomToken, secretsEqual, SESSION_COOKIE, SESSION_TTL_MS, setCookie } from '../../balancer/control/auth.js';
import { authFailuresOf } from '../../balancer/control/auth-failures.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { verifyPassword } from '../../common/auth/password.js';
import { createSession, deleteExpiredSessions, deleteSession } from '../../common/db/queries/sessions.js';
import { consumeLoginLink, findLogin, type User } from '../../common/db/queries/users.js';
import { loginPage } from '../views/login.js';
import { safeNext, sendHtml } from './respond.js';

const LOGIN_CSRF_TTL_MS = 3600_000;

/** Renders the login form with a fresh double-submit CSRF cookie. */
export function renderLogin(req: FastifyRequest, reply: FastifyReply, o: { next: string; error: string | null; status: number }): FastifyReply {
  const csrf = randomToken();
  setCookie(reply, req, LOGIN_CSRF_COOKIE, csrf, LOGIN_CSRF_TTL_MS);
  return sendHtml(reply, loginPage({ csrf, next: o.next, error: o.error }), o.status);
}

/** Who asks for a page without being logged in: htmx gets a redirect header, a browser the login page. */
export function denyPage(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (req.headers['hx-request']) return reply.code(401).header('hx-redirect', '/login').send('');
  return renderLogin(req, reply, { next: req.method === 'GET' ? safeNext(req.url) : '/', error: null, status: 401 });
}

/** A fresh session cookie for an account (or, userId null, for the admin token), recorded in the admin log. */
async function startSession(deps: ControlDeps, req: FastifyRequest, reply: FastifyReply, who: { actor: string; user: User | null; via: string }): Promise<void> {
  const now = new Date(deps.now());
  await deleteExpiredSessions(deps.pool, now);
  const { cookieValue } = await createSession(deps.pool, { actor: who.actor, ttlMs: SESSION_TTL_MS, now, userId: who.user?.id ?? null });
  await logAdminAction(deps.pool, { actor: who.actor, action: 'session.login', targetKind: 'session', targetId: req.ip, detail: { via: who.via } });
  clearCookie(reply, req, LOGIN_CSRF_COOKIE);
  setCookie(reply, req, SESSION_COOKIE, cookieValue, SESSION_TTL_MS);
}

/** The login form's own double-submit check (no session yet). */
function loginFormOk(req: FastifyRequest<{ Body: Record<string, unknown> | undefined }>): boolean {
  const body = req.body ?? {};
  const cookieCsrf = parseCookies(req.headers.cookie).get(LOGIN_CSRF_COOKIE) ?? '';
  const formCsrf = typeof body._csrf === 'string' ? body._csrf : '';
  return fromSameOrigin(req) && cookieCsrf !== '' && secretsEqual(formCsrf, cookieCsrf);
}

export function loginRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const limiter = authFailuresOf(deps);

  // Wrong passwords count against the same per-address budget as wrong tokens.
  app.post<{ Body: Record<string, unknown> | undefined }>('/login/password', async (req, reply) => {
    const body = req.body ?? {};
    const next = safeNext(body.next);
    if (!loginFormOk(req)) return renderLogin(req, reply, { next, error: 'The form expired. Please try again.', status: 403 });
    if (limiter.blocked(req.ip)) return renderLogin(req, reply, { next, error: 'Too many wrong passwords. Wait a few minutes.', status: 429 });
    const found = typeof body.email === 'string' && body.email.length <= 254 ? await findLogin(deps.pool, body.email) : null;
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    // Unknown e-mails cost a hash too, so timing does not tell which accounts exist.
    const ok = await verifyPassword(password, found?.passwordHash ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    if (!found || !ok) {
      limiter.fail(req.ip);
      return renderLogin(req, reply, { next, error: 'Wrong e-mail or password.', status: 401 });
    }
    limiter.clear(req.ip);
    await startSession(deps, req, reply, { actor: found.user.email, user: found.user, via: 'password' });
    return reply.code(303).header('location', next).send();
  });

  // A one-time link from `verity user add --dashboard-url`: logs in once, then asks for a password.
  app.get<{ Params: { token: string } }>('/login/link/:token', async (req, reply) => {
    if (limiter.blocked(req.ip)) return renderLogin(req, reply, { next: '/', error: 'Too many wrong attempts. Wait a few minutes.', status: 429 });
    const user = /^vll_[A-Za-z0-9_-]{20,100}$/.test(req.params.token) ? await consumeLoginLink(deps.pool, req.params.token, new Date(deps.now())) : null;
    if (!user) {
      limiter.fail(req.ip);
      return renderLogin(req, reply, { next: '/', error: 'That login link is used up, expired or wrong: ask an admin for a new one.', status: 401 });
    }
    await startSession(deps, req, reply, { actor: user.email, user, via: 'login link' });
    return reply.code(303).header('location', '/account?welcome=1').send();
  });

  app.get<{ Querystring: { next?: string } }>('/login', async (req, reply) => renderLogin(req, reply, { next: safeNext(req.query.next), error: null, status: 200 }));

  app.post<{ Body: Record<string, unknown> | undefined }>('/login', async (req, reply) => {
    const body = req.body ?? {};
    const next = safeNext(body.next);
    if (!loginFormOk(req)) return renderLogin(req, reply, { next, error: 'The form expired. Please try again.', status: 403 });
    if (limiter.blocked(req.ip)) return renderLogin(req, reply, { next, error: 'Too many wrong tokens. Wait a few minutes.', status: 429 });
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    if (!adminTokenMatches(token, deps)) {
      limiter.fail(req.ip);
      return renderLogin(req, reply, { next, error: 'That is not the admin token.', status: 401 });
    }
    limiter.clear(req.ip);
    await startSession(deps, req, reply, { actor: ADMIN_TOKEN_ACTOR, user: null, via: 'admin token' });
    return reply.code(303).header('location', next).send();
  });
}

/** Logout needs the session (and its CSRF token), so it is mounted with the authenticated routes. */
export function logoutRoute(app: FastifyInstance, deps: ControlDeps, csrfOk: (req: FastifyRequest) => boolean): void {
  app.post('/logout', async (req, reply) => {
    if (!csrfOk(req)) return reply.code(403).send('bad CSRF token');
    const cookie = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (cookie) await deleteSession(deps.pool, cookie);
    clearCookie(reply, req, SESSION_COOKIE);
    return reply.code(303).header('location', '/login').send();
  });
}
