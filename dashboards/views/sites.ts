import type { AdminActionRecord } from '../../common/db/queries/admin-actions.js';
import type { Site } from '../../common/db/queries/sites.js';
import { DEFAULT_TOKEN_TTL, type JoinToken } from '../../common/db/queries/tokens.js';
import { emptyState, shortId, time } from './format.js';
import { html, seg, type SafeHtml } from './html.js';
import { page } from './layout.js';

export interface SitesData {
  sites: Site[];
  nodeCounts: Map<string, number>;
  tokens: JoinToken[];
  now: Date;
  /** A token just created: shown once, never again. */
  created: { token: string; site: string } | null;
}

function tokenState(t: JoinToken, now: Date): string {
  if (t.revokedAt) return 'revoked';
  if (t.usesCount >= t.usesAllowed) return 'used up';
  if (t.expiresAt <= now) return 'expired';
  return 'active';
}

function tokensTable(d: SitesData, csrf: string | null): SafeHtml {
  if (d.tokens.length === 0) return emptyState('No join tokens yet.', 'Create one below and give it to a volunteer.');
  const hosts = new Map(d.sites.map((s) => [s.id, s.host]));
  const rows = d.tokens.map((t) => {
    const state = tokenState(t, d.now);
    return html`<tr data-token-id="${t.id}"><td class="mono">${shortId(t.id)}</td><td>${hosts.get(t.siteId) ?? t.siteId}</td><td class="num">${t.usesCount} / ${t.usesAllowed}</td>
<td>${time(t.expiresAt)}</td><td><span class="badge token-${state.replace(' ', '-')}">${state}</span></td>
<td>${state === 'active' ? html`<form method="post" action="/tokens/${seg(t.id)}/revoke" class="inline"><input type="hidden" name="_csrf" value="${csrf ?? ''}"><button type="submit" class="danger small">Revoke</button></form>` : ''}</td></tr>`;
  });
  return html`<div class="table-wrap"><table class="tokens"><thead><tr><th>Token</th><th>Site</th><th class="num">Uses</th><th>Expires</th><th>State</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function createForm(sites: Site[], csrf: string | null): SafeHtml {
  if (sites.length === 0) return html``;
  return html`<form method="post" action="/sites/tokens" class="create-token">
<input type="hidden" name="_csrf" value="${csrf ?? ''}">
<label>Site <select name="site" required>${sites.map((s) => html`<option value="${s.host}">${s.host}</option>`)}</select></label>
<label>Uses <input type="number" name="uses" min="1" max="10000" value="1" required></label>
<label>Valid for <input type="text" name="ttl" value="${DEFAULT_TOKEN_TTL}" title="a duration with its unit: 30m, 24h, 7d" size="6" required></label>
<button type="submit">Create join token</button></form>`;
}

export function sitesPage(d: SitesData, csrf: string | null, flash: string | null): SafeHtml {
  const sites = d.sites.length === 0
    ? emptyState('No sites registered.', html`Register one with <code>verity site add --host HOST --origin URL --private '/account/**,/login'</code>.`)
    : html`<div class="table-wrap"><table class="sites"><thead><tr><th>Host</th><th>Origin</th><th>Private routes (always sent to the origin)</th><th class="num">Nodes</th></tr></thead><tbody>
${d.sites.map((s) => html`<tr><td>${s.host}</td><td class="mono wrap">${s.origin}</td><td class="mono wrap">${s.privateRoutes.length ? s.privateRoutes.join(', ') : html`<span class="muted">none</span>`}</td><td class="num">${d.nodeCounts.get(s.host) ?? 0}</td></tr>`)}
</tbody></table></div>`;
  const created = d.created
    ? html`<div class="card created" role="status"><p>Join token for <strong>${d.created.site}</strong> — copy it now, it is not shown again:</p><pre class="code token" data-testid="new-token">${d.created.token}</pre>
<p class="small">The volunteer runs <code>verity node --balancer URL --token ${d.created.token}</code>.</p></div>`
    : '';
  const body = html`<h1>Sites</h1>${created}<section class="card"><h2>Sites</h2>${sites}</section>
<section class="card"><h2>Join tokens</h2>${tokensTable(d, csrf)}${createForm(d.sites, csrf)}</section>`;
  return page({ title: 'Sites', nav: 'sites', csrfToken: csrf, body, flash });
}

export function adminLogPage(actions: AdminActionRecord[], csrf: string | null): SafeHtml {
  const body = actions.length === 0
    ? emptyState('Nothing in the admin log yet.', 'Quarantines, bans, reinstatements, token changes, rescans and logins are recorded here.')
    : html`<div class="table-wrap"><table class="admin-log"><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Reason</th></tr></thead><tbody>
${actions.map((a) => html`<tr><td>${time(a.at)}</td><td>${a.actor}</td><td class="mono">${a.action}</td>
<td>${a.targetKind === 'node' ? html`<a href="/nodes/${seg(a.targetId)}" class="mono">${shortId(a.targetId)}</a>` : a.targetKind === 'audit' ? html`<a href="/audits/${seg(a.targetId)}" class="mono">audit ${shortId(a.targetId)}</a>` : html`<span class="mono">${a.targetKind} ${shortId(a.targetId)}</span>`}</td>
<td class="wrap">${a.reason}</td></tr>`)}
</tbody></table></div>`;
  return page({ title: 'Admin log', nav: 'admin-log', csrfToken: csrf, body: html`<h1>Admin log</h1>${body}` });
}
