import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { hashPassword } from '../../common/auth/password.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { listDeliveries, queueTestDelivery } from '../../common/db/queries/notifications.js';
import { findSiteByHost } from '../../common/db/queries/sites.js';
import { createApiToken, createUser, listApiTokens, listUsers, revokeApiToken, roles } from '../../common/db/queries/users.js';
import { createWebhook, disableWebhook, findWebhook, listWebhooks, webhookFormats } from '../../common/db/queries/webhooks.js';
import { generatePassword } from '../../common/auth/password.js';
import { httpUrl } from '../../common/config/shared.js';
import { domainErrorStatus, isUuid, parseOr400, sendError, writer } from './api-helpers.js';
import { authOf, type AdminAuth } from './auth.js';
import { adminOnly, forbidden, isAdmin, maySite, siteFilter } from './scope.js';
import { ownerUrlProblem } from './ssrf.js';
import type { ControlDeps } from './types.js';

// Webhooks and their delivery log, accounts (admins only) and each account's API tokens.

const webhookBody = z.object({ url: httpUrl, site: z.string().min(1).max(253).optional(), format: z.enum(webhookFormats).default('verity'), _csrf: z.string().optional() });
const userBody = z.object({ email: z.string().trim().toLowerCase().pipe(z.email()), role: z.enum(roles), sites: z.array(z.string()).default([]), _csrf: z.string().optional() });
const apiTokenBody = z.object({ name: z.string().trim().min(1).max(100), sites: z.array(z.string()).optional(), _csrf: z.string().optional() });

export interface NewWebhook {
  id: string;
  secret: string;
}

/** An owner's webhook is for one of their sites and must have a public address; an admin's may be global. */
export async function addWebhook(deps: ControlDeps, auth: AdminAuth, w: { url: string; site?: string | undefined; format: 'verity' | 'slack' }): Promise<NewWebhook | { problem: string; status: number }> {
  const site = w.site === undefined ? null : await findSiteByHost(deps.pool, w.site);
  if (w.site !== undefined && !site) return { problem: `no site has host ${w.site.slice(0, 253)}`, status: 404 };
  if (!site && !isAdmin(auth)) return { problem: 'give the site (site owners add webhooks for their own sites)', status: 400 };
  if (site && !maySite(auth, site.id)) return { problem: `${site.host} is not one of your sites`, status: 403 };
  const refused = isAdmin(auth) ? null : await ownerUrlProblem(w.url, deps.allowPrivateOwnerUrls === true, deps.resolveHost);
  if (refused) return { problem: refused, status: 400 };
  const { webhook, secret } = await createWebhook(deps.pool, { siteId: site?.id ?? null, url: w.url, format: w.format, createdBy: auth.actor, ownerMade: !isAdmin(auth) });
  await logAdminAction(deps.pool, { actor: auth.actor, action: 'webhook.add', targetKind: 'webhook', targetId: webhook.id, siteId: site?.id ?? null, detail: { url: w.url, site: site?.host ?? null } });
  return { id: webhook.id, secret };
}

/** The webhook if the caller may manage it (global ones: admins). */
export async function ownWebhook(deps: ControlDeps, auth: AdminAuth | null, id: string) {
  const w = isUuid(id) ? await findWebhook(deps.pool, id) : null;
  if (!w) return null;
  return (w.siteId === null ? isAdmin(auth) : maySite(auth, w.siteId)) ? w : null;
}

function webhookRoutes(api: FastifyInstance, deps: ControlDeps): void {
  api.get('/api/v1/webhooks', async (req) => (await listWebhooks(deps.pool, siteFilter(req))).map((w) => ({
    id: w.id, site: w.siteHost, url: w.url, format: w.format, createdBy: w.createdBy, createdAt: w.createdAt.toISOString(),
  })));

  api.post('/api/v1/webhooks', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const body = parseOr400(webhookBody, req.body, reply);
    if (!body) return reply;
    const out = await addWebhook(deps, auth, body);
    if ('problem' in out) return sendError(reply, out.status, out.status === 403 ? 'forbidden' : out.status === 404 ? 'not_found' : 'bad_request', out.problem);
    return reply.code(201).send(out);
  });

  api.delete<{ Params: { id: string } }>('/api/v1/webhooks/:id', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const w = await ownWebhook(deps, auth, req.params.id);
    if (!w) return sendError(reply, 404, 'not_found', 'no webhook of yours has this id');
    await disableWebhook(deps.pool, w.id, new Date(deps.now()));
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'webhook.delete', targetKind: 'webhook', targetId: w.id, siteId: w.siteId });
    return { id: w.id, deleted: true };
  });

  api.post<{ Params: { id: string } }>('/api/v1/webhooks/:id/test', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const w = await ownWebhook(deps, auth, req.params.id);
    if (!w) return sendError(reply, 404, 'not_found', 'no webhook of yours has this id');
    await queueTestDelivery(deps.pool, w.id, `test sent by ${auth.actor}`, new Date(deps.now()));
    return reply.code(202).send({ id: w.id, queued: true });
  });

  api.get<{ Querystring: { webhook?: string; limit?: string } }>('/api/v1/deliveries', async (req) => {
    const limit = Math.min(500, Math.max(1, Number(req.query.limit) || 100));
    const webhook = typeof req.query.webhook === 'string' && isUuid(req.query.webhook) ? req.query.webhook : null;
    return (await listDeliveries(deps.pool, { siteIds: siteFilter(req), webhookId: webhook, limit })).map((d) => ({
      ...d, eventAt: d.eventAt.toISOString(), nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null, attempts: d.attempts.map((a) => ({ ...a, at: a.at.toISOString() })),
    }));
  });
}

function accountRoutes(api: FastifyInstance, deps: ControlDeps): void {
  api.get('/api/v1/users', { onRequest: adminOnly }, async () => (await listUsers(deps.pool)).map((u) => ({ id: u.id, email: u.email, role: u.role, siteIds: u.siteIds, createdAt: u.createdAt.toISOString() })));

  api.post('/api/v1/users', { onRequest: adminOnly }, async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const body = parseOr400(userBody, req.body, reply);
    if (!body) return reply;
    const siteIds: string[] = [];
    for (const host of body.sites) {
      const site = await findSiteByHost(deps.pool, host);
      if (!site) return sendError(reply, 404, 'not_found', `no site has host ${host.slice(0, 253)}`);
      siteIds.push(site.id);
    }
    const password = generatePassword();
    try {
      const user = await createUser(deps.pool, { email: body.email, role: body.role, siteIds, createdBy: auth.actor, passwordHash: await hashPassword(password) });
      await logAdminAction(deps.pool, { actor: auth.actor, action: 'user.add', targetKind: 'user', targetId: user.email, detail: { role: user.role, sites: body.sites } });
      return reply.code(201).send({ id: user.id, email: user.email, role: user.role, password });
    } catch (err) {
      const known = domainErrorStatus(err);
      if (known) return sendError(reply, known.status, known.error, known.message);
      throw err;
    }
  });

  api.get('/api/v1/api-tokens', async (req, reply) => {
    const auth = authOf(req);
    if (!auth?.userId) return forbidden(reply, 'API tokens belong to accounts; the admin token has none');
    return (await listApiTokens(deps.pool, auth.userId)).map((t) => ({ ...t, createdAt: t.createdAt.toISOString(), lastUsedAt: t.lastUsedAt?.toISOString() ?? null }));
  });

  api.post('/api/v1/api-tokens', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    if (!auth.userId) return forbidden(reply, 'API tokens belong to accounts; the admin token has none');
    const body = parseOr400(apiTokenBody, req.body, reply);
    if (!body) return reply;
    const siteIds = body.sites ? await hostsToOwnedIds(deps, auth, body.sites) : null;
    if (siteIds !== null && 'problem' in siteIds) return forbidden(reply, siteIds.problem);
    const { token, record } = await createApiToken(deps.pool, { userId: auth.userId, name: body.name, siteIds: siteIds?.ids ?? null });
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'api_token.create', targetKind: 'api_token', targetId: record.id, detail: { name: body.name, sites: body.sites ?? null } });
    return reply.code(201).send({ id: record.id, name: record.name, token });
  });

  api.delete<{ Params: { id: string } }>('/api/v1/api-tokens/:id', async (req, reply) => {
    const auth = writer(req, reply, req.body);
    if (!auth) return reply;
    const ok = auth.userId !== null && isUuid(req.params.id) && (await revokeApiToken(deps.pool, auth.userId, req.params.id, new Date(deps.now())));
    if (!ok) return sendError(reply, 404, 'not_found', 'no API token of yours has this id');
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'api_token.revoke', targetKind: 'api_token', targetId: req.params.id });
    return { id: req.params.id, revoked: true };
  });
}

async function hostsToOwnedIds(deps: ControlDeps, auth: AdminAuth, hosts: string[]): Promise<{ ids: string[] } | { problem: string }> {
  const ids: string[] = [];
  for (const host of hosts) {
    const site = await findSiteByHost(deps.pool, host);
    if (!site || !maySite(auth, site.id)) return { problem: `${host.slice(0, 253)} is not one of your sites` };
    ids.push(site.id);
  }
  return { ids };
}

export function accountApiRoutes(api: FastifyInstance, deps: ControlDeps): void {
  webhookRoutes(api, deps);
  accountRoutes(api, deps);
}
