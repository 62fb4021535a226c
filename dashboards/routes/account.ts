import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authOf } from '../../balancer/control/auth.js';
import { isUuid } from '../../balancer/control/api-helpers.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { hashPassword, passwordProblem } from '../../common/auth/password.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { createApiToken, listApiTokens, revokeApiToken, setPasswordHash, type ApiToken } from '../../common/db/queries/users.js';
import { emptyState, shortId, time } from '../views/format.js';
import { html, seg, type SafeHtml } from '../views/html.js';
import { page } from '../views/layout.js';
import { csrfOf, sendHtml, viewerOf } from './respond.js';
import { formAuth } from './sites.js';

// The account of whoever is logged in: their password, and API tokens that act as them.

function accountPage(req: FastifyRequest, o: { tokens: ApiToken[]; created: string | null; flash: string | null }): SafeHtml {
  const auth = authOf(req);
  const csrf = csrfOf(req);
  const hidden = html`<input type="hidden" name="_csrf" value="${csrf ?? ''}">`;
  if (!auth?.userId) {
    const body = html`<h1>Account</h1><section class="card"><p>You are logged in with the admin token, which belongs to no account. Accounts are made with <code>verity user add --email E --role admin|owner</code> (or on the Users page).</p></section>`;
    return page({ title: 'Account', nav: 'account', csrfToken: csrf, body, flash: o.flash, viewer: viewerOf(req) });
  }
  const tokens = o.tokens.length === 0 ? emptyState('No API tokens.', 'A token acts as you (your role and sites) from scripts: Authorization: Bearer vat_…')
    : html`<div class="table-wrap"><table class="api-tokens"><thead><tr><th>Name</th><th>Id</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>${o.tokens.map((t) => html`<tr><td>${t.name}</td><td class="mono">${shortId(t.id)}</td><td>${time(t.createdAt)}</td><td>${time(t.lastUsedAt)}</td>
<td><form method="post" action="/account/tokens/${seg(t.id)}/revoke" class="inline">${hidden}<button type="submit" class="danger small">Revoke</button></form></td></tr>`)}</tbody></table></div>`;
  const created = o.created ? html`<div class="card created" role="status"><p>Your API token — copy it now, it is not shown again:</p><pre class="code token" data-testid="new-api-token">${o.created}</pre></div>` : '';
  const body = html`<h1>Account <span class="muted small">${auth.actor} · ${auth.role}</span></h1>${created}
<section class="card"><h2>Password</h2><form method="post" action="/account/password" class="stack">${hidden}
<label>New password <input name="password" type="password" autocomplete="new-password" minlength="12" required></label><button type="submit">Set password</button></form></section>
<section class="card"><h2>API tokens</h2>${tokens}<form method="post" action="/account/tokens" class="inline">${hidden}<label>Name <input name="name" required placeholder="deploy script"></label><button type="submit">Create API token</button></form></section>`;
  return page({ title: 'Account', nav: 'account', csrfToken: csrf, body, flash: o.flash, viewer: viewerOf(req) });
}

export function accountRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const render = async (req: FastifyRequest, reply: FastifyReply, flash: string | null, created: string | null = null, status = 200) => {
    const userId = authOf(req)?.userId;
    return sendHtml(reply, accountPage(req, { tokens: userId ? await listApiTokens(deps.pool, userId) : [], created, flash }), status);
  };

  app.get<{ Querystring: { welcome?: string; done?: string } }>('/account', async (req, reply) =>
    render(req, reply, req.query.welcome === '1' ? 'Welcome! Choose a password below: the login link worked once and will not work again.' : req.query.done === 'password' ? 'Password set.' : null));

  app.post<{ Body: Record<string, unknown> | undefined }>('/account/password', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const password = typeof req.body?.password === 'string' ? req.body.password : '';
    const problem = passwordProblem(password);
    if (!auth.userId || problem) return render(req, reply, problem ? `The password ${problem}.` : 'The admin token has no password.', null, 400);
    await setPasswordHash(deps.pool, auth.userId, await hashPassword(password));
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'user.password', targetKind: 'user', targetId: auth.actor });
    return reply.code(303).header('location', '/account?done=password').send();
  });

  app.post<{ Body: Record<string, unknown> | undefined }>('/account/tokens', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const name = typeof req.body?.name === 'string' ? req.body.name.trim().slice(0, 100) : '';
    if (!auth.userId || name === '') return render(req, reply, 'Give the token a name.', null, 400);
    const { token, record } = await createApiToken(deps.pool, { userId: auth.userId, name, siteIds: null });
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'api_token.create', targetKind: 'api_token', targetId: record.id, detail: { name } });
    return render(req, reply, null, token, 201);
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/account/tokens/:id/revoke', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    if (auth.userId && isUuid(req.params.id) && (await revokeApiToken(deps.pool, auth.userId, req.params.id, new Date(deps.now())))) {
      await logAdminAction(deps.pool, { actor: auth.actor, action: 'api_token.revoke', targetKind: 'api_token', targetId: req.params.id });
    }
    return reply.code(303).header('location', '/account').send();
  });
}
