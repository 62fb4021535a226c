import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ControlDeps } from '../../balancer/control/types.js';
import { generatePassword, hashPassword } from '../../common/auth/password.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { listSites } from '../../common/db/queries/sites.js';
import { createUser, listUsers, type User } from '../../common/db/queries/users.js';
import { emptyState, time } from '../views/format.js';
import { html, type SafeHtml } from '../views/html.js';
import { page } from '../views/layout.js';
import { csrfOf, sendHtml } from './respond.js';
import { formAuth, globsOf, knownProblem } from './sites.js';

// Accounts (admins only): who may log in, as admin or as the owner of which sites.

function usersPage(req: FastifyRequest, users: User[], hosts: Map<string, string>, created: { email: string; password: string } | null, flash: string | null): SafeHtml {
  const csrf = csrfOf(req);
  const table = users.length === 0 ? emptyState('No accounts yet.', 'Everyone uses the admin token until accounts exist.')
    : html`<div class="table-wrap"><table class="users"><thead><tr><th>E-mail</th><th>Role</th><th>Sites</th><th>Since</th></tr></thead><tbody>${users.map((u) => html`<tr><td>${u.email}</td><td>${u.role}</td><td>${u.role === 'admin' ? 'all' : u.siteIds.map((s) => hosts.get(s) ?? s).join(', ') || '–'}</td><td>${time(u.createdAt)}</td></tr>`)}</tbody></table></div>`;
  const shown = created ? html`<div class="card created" role="status"><p>Account <strong>${created.email}</strong> made. Its password — give it to them now, it is not shown again (they can change it on their Account page):</p><pre class="code token" data-testid="new-password">${created.password}</pre></div>` : '';
  const body = html`<h1>Users</h1>${shown}<section class="card"><h2>Accounts</h2>${table}
<form method="post" action="/users" class="inline add-user"><input type="hidden" name="_csrf" value="${csrf ?? ''}"><label>E-mail <input name="email" type="email" required></label>
<label>Role <select name="role"><option value="owner">site owner</option><option value="admin">admin</option></select></label><label>Sites <input name="sites" placeholder="www.example.org,…"></label><button type="submit">Add account</button></form></section>`;
  return page({ title: 'Users', nav: 'users', csrfToken: csrf, body, flash });
}

export function userRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const render = async (req: FastifyRequest, reply: FastifyReply, flash: string | null, created: { email: string; password: string } | null = null, status = 200) => {
    const [users, sites] = await Promise.all([listUsers(deps.pool), listSites(deps.pool)]);
    return sendHtml(reply, usersPage(req, users, new Map(sites.map((s) => [s.id, s.host])), created, flash), status);
  };
  app.get('/users', async (req, reply) => render(req, reply, null));
  app.post<{ Body: Record<string, unknown> | undefined }>('/users', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const b = req.body ?? {};
    const email = typeof b.email === 'string' ? b.email.trim().toLowerCase() : '';
    const role = b.role === 'admin' ? 'admin' : 'owner';
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) return render(req, reply, 'Give an e-mail address.', null, 400);
    const hosts = globsOf(b.sites) ?? [];
    const sites = await listSites(deps.pool);
    const siteIds = hosts.map((h) => sites.find((s) => s.host === h.toLowerCase())?.id);
    if (siteIds.some((id) => id === undefined)) return render(req, reply, `Unknown site among: ${hosts.join(', ')}`, null, 404);
    const password = generatePassword();
    try {
      await createUser(deps.pool, { email, role, siteIds: role === 'owner' ? (siteIds as string[]) : [], createdBy: auth.actor, passwordHash: await hashPassword(password) });
    } catch (err) {
      const p = knownProblem(err);
      return render(req, reply, p.message, null, p.status);
    }
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'user.add', targetKind: 'user', targetId: email, detail: { role, sites: hosts } });
    return render(req, reply, null, { email, password }, 201);
  });
}
