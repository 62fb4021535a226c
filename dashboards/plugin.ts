import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authOf, csrfValid, requireAdmin } from '../balancer/control/auth.js';
import type { ControlDeps, ControlPlugin } from '../balancer/control/types.js';
import { assetRoutes } from './routes/assets.js';
import { auditRoutes } from './routes/audits.js';
import { denyPage, loginRoutes, logoutRoute } from './routes/login.js';
import { mapRoutes } from './routes/map.js';
import { nodeRoutes } from './routes/node.js';
import { nodesRoutes } from './routes/nodes.js';
import { overviewRoutes } from './routes/overview.js';
import { accountRoutes } from './routes/account.js';
import { creditRoutes } from './routes/credit.js';
import { notificationRoutes } from './routes/notifications.js';
import { adminPages } from './routes/respond.js';
import { sitePageRoutes } from './routes/site.js';
import { siteRoutes } from './routes/sites.js';
import { userRoutes } from './routes/users.js';
import { startRequestSampler, type RequestSampler } from './traffic-sampler.js';

// The admin dashboard, served by the control plane. Evidence on these pages is attacker-chosen
// content, so the CSP allows nothing but our own files: no inline script, no inline style.
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "font-src 'self'",
  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

async function securityHeaders(_req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  reply.header('content-security-policy', DASHBOARD_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  // same-origin, not no-referrer: with no-referrer a form POST carries `Origin: null` and fails the origin check.
  reply.header('referrer-policy', 'same-origin');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
  return payload;
}

function authedRoutes(deps: ControlDeps, sampler: RequestSampler) {
  return async (authed: FastifyInstance): Promise<void> => {
    authed.addHook('onRequest', requireAdmin(deps, denyPage));
    // Fleet-wide pages: admins only (an owner is sent to their sites).
    await authed.register(async (admins) => {
      admins.addHook('onRequest', adminPages);
      overviewRoutes(admins, deps, sampler);
      nodesRoutes(admins, deps);
      nodeRoutes(admins, deps);
      mapRoutes(admins, deps);
      creditRoutes(admins, deps);
      userRoutes(admins, deps);
    });
    auditRoutes(authed, deps);
    siteRoutes(authed, deps);
    sitePageRoutes(authed, deps);
    notificationRoutes(authed, deps);
    accountRoutes(authed, deps);
    logoutRoute(authed, deps, (req) => {
      const auth = authOf(req);
      const body = (req.body ?? {}) as Record<string, unknown>;
      return auth !== null && csrfValid(req, auth, body._csrf);
    });
  };
}

export const dashboardPlugin: ControlPlugin = async (app, deps) => {
  // An encapsulated scope: the form parser, headers and auth hook stay on the dashboard's routes.
  await app.register(async (scope) => {
    if (!scope.hasContentTypeParser('application/x-www-form-urlencoded')) await scope.register(formbody, { bodyLimit: 64 * 1024 });
    scope.addHook('onSend', securityHeaders);
    scope.setErrorHandler((err, req, reply) => {
      const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
      if (status >= 500) req.log.error({ err }, 'dashboard request failed');
      // Internal details stay in the log; the page says only what the admin can act on.
      const text = status >= 500 ? 'Something went wrong on the server; the log has the details. Try again in a moment.' : `Bad request: ${(err as Error).message}`;
      return reply.code(status).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store').send(text);
    });
    assetRoutes(scope);
    loginRoutes(scope, deps);
    const sampler = startRequestSampler(deps.metrics, deps.now);
    scope.addHook('onClose', async () => sampler.stop());
    await scope.register(authedRoutes(deps, sampler));
  });
};
