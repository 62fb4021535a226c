import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addWebhook, ownWebhook } from '../../balancer/control/account-api.js';
import { authOf } from '../../balancer/control/auth.js';
import { maySite, siteFilter } from '../../balancer/control/scope.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { logAdminAction } from '../../common/db/queries/admin-actions.js';
import { listDeliveries, queueTestDelivery, type DeliveryLogEntry } from '../../common/db/queries/notifications.js';
import { listSites, type Site } from '../../common/db/queries/sites.js';
import { disableWebhook, listWebhooks, type Webhook } from '../../common/db/queries/webhooks.js';
import { emptyState, time } from '../views/format.js';
import { html, seg, type SafeHtml } from '../views/html.js';
import { page } from '../views/layout.js';
import { csrfOf, sendHtml, viewerOf } from './respond.js';
import { formAuth } from './sites.js';

// Webhooks (add, send test, delete) and the delivery log: every notification, each attempt.

interface PageData {
  webhooks: Webhook[];
  deliveries: DeliveryLogEntry[];
  sites: Site[];
  created: { id: string; secret: string } | null;
  admin: boolean;
}

function webhooksTable(d: PageData, hidden: SafeHtml): SafeHtml {
  if (d.webhooks.length === 0) return emptyState('No webhooks yet.', 'Add one below: Verity POSTs each event to it, signed.');
  return html`<div class="table-wrap"><table class="webhooks"><thead><tr><th>URL</th><th>Site</th><th>Format</th><th>Added by</th><th></th></tr></thead><tbody>${d.webhooks.map((w) => html`<tr data-webhook="${w.id}"><td class="mono wrap">${w.url}</td><td>${w.siteHost ?? html`<span class="muted">every event</span>`}</td><td>${w.format}</td><td>${w.createdBy}</td>
<td><form method="post" action="/notifications/webhooks/${seg(w.id)}/test" class="inline">${hidden}<button type="submit" class="small">Send test</button></form>
<form method="post" action="/notifications/webhooks/${seg(w.id)}/delete" class="inline">${hidden}<button type="submit" class="danger small">Delete</button></form></td></tr>`)}</tbody></table></div>`;
}

function deliveriesTable(deliveries: DeliveryLogEntry[]): SafeHtml {
  if (deliveries.length === 0) return emptyState('Nothing sent yet.', 'Quarantines, bans, nodes going offline or coming back, critical findings, certificate trouble and audit backlogs are sent here.');
  const attempts = (d: DeliveryLogEntry) => d.attempts.map((a) => html`<li>${time(a.at)} ${a.ok ? html`<span class="badge status-active">ok${a.statusCode ? ` ${a.statusCode}` : ''}</span>` : html`<span class="badge status-quarantined">failed</span> <span class="small wrap">${a.error ?? ''}</span>`}</li>`);
  return html`<div class="table-wrap"><table class="deliveries"><thead><tr><th>Event</th><th>Site · node</th><th>To</th><th>Status</th><th>Attempts</th></tr></thead><tbody>${deliveries.map((d) => html`<tr data-delivery="${d.id}" data-status="${d.status}"><td class="mono">${d.event}<br>${time(d.eventAt)}</td><td>${d.siteHost ?? '–'} · ${d.nodeName ?? '–'}</td><td class="mono wrap">${d.target}</td>
<td><span class="badge delivery-${d.status}">${d.status}</span>${d.nextAttemptAt ? html`<br><span class="small">next try ${time(d.nextAttemptAt)}</span>` : ''}</td><td><ol class="attempts small">${attempts(d)}</ol></td></tr>`)}</tbody></table></div>`;
}

function notificationsPage(req: FastifyRequest, d: PageData, flash: string | null): SafeHtml {
  const csrf = csrfOf(req);
  const hidden = html`<input type="hidden" name="_csrf" value="${csrf ?? ''}">`;
  const siteOptions = [...(d.admin ? [html`<option value="">every event (all sites)</option>`] : []), ...d.sites.map((s) => html`<option value="${s.host}">${s.host}</option>`)];
  const created = d.created ? html`<div class="card created" role="status"><p>Webhook added. Its signing secret — copy it now, it is not shown again:</p><pre class="code token" data-testid="webhook-secret">${d.created.secret}</pre>
<p class="small">Each POST carries <code>Verity-Signature: t=UNIX,v1=HEX</code>, HEX = HMAC-SHA256(secret, "UNIX.BODY").</p></div>` : '';
  const body = html`<h1>Notifications</h1>${created}
<section class="card"><h2>Webhooks</h2>${webhooksTable(d, hidden)}
<form method="post" action="/notifications/webhooks" class="inline add-webhook">${hidden}<label>URL <input name="url" type="url" required placeholder="https://hooks.example.org/verity"></label>
<label>Site <select name="site">${siteOptions}</select></label><label>Format <select name="format"><option value="verity">Verity JSON</option><option value="slack">Slack / Matrix {text}</option></select></label><button type="submit">Add webhook</button></form>
<p class="small">E-mail goes to every admin, and to owners for their sites, when the balancer has <code>VERITY_SMTP_URL</code>.</p></section>
<section class="card"><h2>Delivery log</h2>${deliveriesTable(d.deliveries)}</section>`;
  return page({ title: 'Notifications', nav: 'notifications', csrfToken: csrf, body, flash, viewer: viewerOf(req) });
}

export function notificationRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const render = async (req: FastifyRequest, reply: FastifyReply, flash: string | null, created: PageData['created'] = null, status = 200) => {
    const auth = authOf(req);
    const [webhooks, deliveries, sites] = await Promise.all([listWebhooks(deps.pool, siteFilter(req)), listDeliveries(deps.pool, { siteIds: siteFilter(req), limit: 200 }), listSites(deps.pool)]);
    const data = { webhooks, deliveries, sites: sites.filter((s) => maySite(auth, s.id)), created, admin: auth?.role === 'admin' };
    return sendHtml(reply, notificationsPage(req, data, flash), status);
  };

  app.get<{ Querystring: { done?: string } }>('/notifications', async (req, reply) =>
    render(req, reply, req.query.done === 'test' ? 'Test queued: it shows in the delivery log within seconds.' : req.query.done === 'deleted' ? 'Webhook deleted.' : null));

  app.post<{ Body: Record<string, unknown> | undefined }>('/notifications/webhooks', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const b = req.body ?? {};
    const url = typeof b.url === 'string' ? b.url.trim() : '';
    if (!/^https?:\/\/\S+$/.test(url) || url.length > 2048) return render(req, reply, 'The URL must be an http:// or https:// URL.', null, 400);
    const site = typeof b.site === 'string' && b.site !== '' ? b.site : undefined;
    const out = await addWebhook(deps, auth, { url, site, format: b.format === 'slack' ? 'slack' : 'verity' });
    if ('problem' in out) return render(req, reply, `Not added: ${out.problem}`, null, out.status);
    return render(req, reply, null, out, 201);
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/notifications/webhooks/:id/test', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const w = await ownWebhook(deps, auth, req.params.id);
    if (!w) return render(req, reply, 'No webhook of yours has this id.', null, 404);
    await queueTestDelivery(deps.pool, w.id, `test sent by ${auth.actor}`, new Date(deps.now()));
    return reply.code(303).header('location', '/notifications?done=test').send();
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/notifications/webhooks/:id/delete', async (req, reply) => {
    const auth = formAuth(req, reply);
    if (!auth) return reply;
    const w = await ownWebhook(deps, auth, req.params.id);
    if (!w) return render(req, reply, 'No webhook of yours has this id.', null, 404);
    await disableWebhook(deps.pool, w.id, new Date(deps.now()));
    await logAdminAction(deps.pool, { actor: auth.actor, action: 'webhook.delete', targetKind: 'webhook', targetId: w.id, siteId: w.siteId });
    return reply.code(303).header('location', '/notifications?done=deleted').send();
  });
}
