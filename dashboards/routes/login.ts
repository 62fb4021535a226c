import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adminTokenMatches, clearCookie, fromSameOrigin, LOGIN_CSRF_COOKIE, parseCookies, randomToken, secretsEqual, SESSION_COOKIE, SESSION_TTL_MS, setCookie } from '../../balancer/control/auth.js';
import { authFailuresOf } from '../../balancer/control/auth-failures.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { createSession, deleteExpiredSessions, deleteSession } from '../../common/db/queries/sessions.js';
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

export function loginRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const limiter = authFailuresOf(deps);

  app.get<{ Querystring: { next?: string } }>('/login', async (req, reply) => renderLogin(req, reply, { next: safeNext(req.query.next), error: null, status: 200 }));

  app.post<{ Body: Record<string, unknown> | undefined }>('/login', async (req, reply) => {
    const body = req.body ?? {};
    const next = safeNext(body.next);
    const cookieCsrf = parseCookies(req.headers.cookie).get(LOGIN_CSRF_COOKIE) ?? '';
    const formCsrf = typeof body._csrf === 'string' ? body._csrf : '';
    if (!fromSameOrigin(req) || cookieCsrf === '' || !secretsEqual(formCsrf, cookieCsrf)) {
      return renderLogin(req, reply, { next, error: 'The form expired. Please try again.', status: 403 });
    }
    if (limiter.blocked(req.ip)) return renderLogin(req, reply, { next, error: 'Too many wrong tokens. Wait a few minutes.', status: 429 });
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    if (!adminTokenMatches(token, deps)) {
      limiter.fail(req.ip);
      return renderLogin(req, reply, { next, error: 'That is not the admin token.', status: 401 });
    }
    limiter.clear(req.ip);
    const now = new Date(deps.now());
    await deleteExpiredSessions(deps.pool, now);
    const { cookieValue } = await createSession(deps.pool, { actor: 'dashboard', ttlMs: SESSION_TTL_MS, now });
    await logAdminAction(deps.pool, { actor: 'dashboard', action: 'session.login', targetKind: 'session', targetId: req.ip });
    clearCookie(reply, req, LOGIN_CSRF_COOKIE);
    setCookie(reply, req, SESSION_COOKIE, cookieValue, SESSION_TTL_MS);
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
