import type { AdminActionRecord } from '../../common/db/queries/admin-actions.js';
import type { SiteClaim } from '../../common/db/queries/site-owners.js';
import type { Site } from '../../common/db/queries/sites.js';
import { DEFAULT_TOKEN_TTL, type JoinToken } from '../../common/db/queries/tokens.js';
import { emptyState, shortId, time } from './format.js';
import { html, seg, type SafeHtml } from './html.js';
import { page, type Viewer } from './layout.js';

export interface SitesData {
  sites: Site[];
  nodeCounts: Map<string, number>;
  tokens: JoinToken[];
  claims: SiteClaim[];
  /** The URL each claim's origin must serve its proof at. */
  challengeUrls: Map<string, string>;
  now: Date;
  /** A token just created: shown once, never again. */
  created: { token: string; site: string } | null;
  viewer: Viewer;
}

function tokenState(t: JoinToken, now: Date): string {
  if (t.revokedAt) return 'revoked';
  if (t.usesCount >= t.usesAllowed) return 'used up';
  if (t.expiresAt <= now) return 'expired';
  return 'active';
}

const hidden = (csrf: string | null) => html`<input type="hidden" name="_csrf" value="${csrf ?? ''}">`;

export function tokensTable(tokens: JoinToken[], hosts: Map<string, string>, now: Date, csrf: string | null, back: string): SafeHtml {
  if (tokens.length === 0) return emptyState('No join tokens yet.', 'Create one below and give it to a volunteer.');
  const rows = tokens.map((t) => {
    const state = tokenState(t, now);
    return html`<tr data-token-id="${t.id}"><td class="mono">${shortId(t.id)}</td><td>${hosts.get(t.siteId) ?? t.siteId}</td><td class="num">${t.usesCount} / ${t.usesAllowed}</td>
<td>${time(t.expiresAt)}</td><td><span class="badge token-${state.replace(' ', '-')}">${state}</span></td>
<td>${state === 'active' ? html`<form method="post" action="/tokens/${seg(t.id)}/revoke" class="inline">${hidden(csrf)}<input type="hidden" name="back" value="${back}"><button type="submit" class="danger small">Revoke</button></form>` : ''}</td></tr>`;
  });
  return html`<div class="table-wrap"><table class="tokens"><thead><tr><th>Token</th><th>Site</th><th class="num">Uses</th><th>Expires</th><th>State</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function tokenForm(sites: Site[], csrf: string | null, action = '/sites/tokens'): SafeHtml {
  if (sites.length === 0) return html``;
  return html`<form method="post" action="${action}" class="create-token">
${hidden(csrf)}
<label>Site <select name="site" required>${sites.map((s) => html`<option value="${s.host}">${s.host}</option>`)}</select></label>
<label>Uses <input type="number" name="uses" min="1" max="10000" value="1" required></label>
<label>Valid for <input type="text" name="ttl" value="${DEFAULT_TOKEN_TTL}" title="a duration with its unit: 30m, 24h, 7d" size="6" required></label>
<button type="submit">Create join token</button></form>`;
}

export function createdToken(created: SitesData['created']): SafeHtml | '' {
  return created
    ? html`<div class="card created" role="status"><p>Join token for <strong>${created.site}</strong> — copy it now, it is not shown again:</p><pre class="code token" data-testid="new-token">${created.token}</pre>
<p class="small">The volunteer runs <code>verity node --balancer URL --token ${created.token}</code>.</p></div>`
    : '';
}

function addSiteForm(csrf: string | null, viewer: Viewer): SafeHtml {
  const check = viewer === 'owner'
    ? html`<p class="small">Next you prove the origin is yours: it serves a file we name, with a value we give (as ACME's HTTP-01 check does).</p>`
    : html`<p class="small">As an admin your site is added at once; site owners prove they run the origin first.</p>`;
  return html`<form method="post" action="/sites/add" class="add-site stack">${hidden(csrf)}
<label>Host <input name="host" required placeholder="www.example.org" autocomplete="off"></label>
<label>Origin <input name="origin" type="url" required placeholder="https://origin.example.org"></label>
<label>Private routes <input name="private" placeholder="/login,/account/**" title="path globs only the origin serves"></label>
<label>Public routes <input name="public" placeholder="(all the origin publishes)" title="if set, only these paths may be node-served"></label>
<label>Dynamic pages <select name="dynamic"><option value="origin">served by the origin</option><option value="sampled">served by nodes, checked after the fact</option></select></label>
${check}<button type="submit">Add site</button></form>`;
}

function claimsList(d: SitesData, csrf: string | null): SafeHtml | '' {
  if (d.claims.length === 0) return '';
  const items = d.claims.map((c) => html`<li class="claim" data-claim="${c.id}"><strong>${c.host}</strong> → <span class="mono">${c.origin}</span>
<p>Make <code class="wrap" data-testid="challenge-url">${d.challengeUrls.get(c.id) ?? ''}</code> answer <strong>200</strong> with exactly this body:</p>
<pre class="code" data-testid="challenge-body">${c.challengeProof}</pre>
${c.lastError ? html`<p class="error" role="alert">${c.lastError}</p>` : ''}
<form method="post" action="/sites/claims/${seg(c.id)}/verify" class="inline">${hidden(csrf)}<button type="submit">Check and add the site</button></form></li>`);
  return html`<section class="card"><h2>Waiting for the ownership check</h2><ul class="claims">${items}</ul></section>`;
}

export function sitesPage(d: SitesData, csrf: string | null, flash: string | null): SafeHtml {
  const sites = d.sites.length === 0
    ? emptyState(d.viewer === 'owner' ? 'You have no sites yet.' : 'No sites registered.', d.viewer === 'owner' ? 'Add one below.' : html`Add one below, or from the shell: <code>verity site add --host HOST --origin URL --private '/account/**,/login'</code>.`)
    : html`<div class="table-wrap"><table class="sites"><thead><tr><th>Host</th><th>Origin</th><th>Private routes (always sent to the origin)</th><th class="num">Nodes</th></tr></thead><tbody>
${d.sites.map((s) => html`<tr><td><a href="/sites/${seg(s.host)}" class="host">${s.host}</a></td><td class="mono wrap">${s.origin}</td><td class="mono wrap">${s.privateRoutes.length ? s.privateRoutes.join(', ') : html`<span class="muted">none</span>`}</td><td class="num">${d.nodeCounts.get(s.host) ?? 0}</td></tr>`)}
</tbody></table></div>`;
  const hosts = new Map(d.sites.map((s) => [s.id, s.host]));
  const body = html`<h1>Sites</h1>${createdToken(d.created)}<section class="card"><h2>${d.viewer === 'owner' ? 'Your sites' : 'Sites'}</h2>${sites}</section>
${claimsList(d, csrf)}
<section class="card"><h2>Add a site</h2>${addSiteForm(csrf, d.viewer)}</section>
<section class="card"><h2>Join tokens</h2>${tokensTable(d.tokens, hosts, d.now, csrf, '/sites')}${tokenForm(d.sites, csrf)}</section>`;
  return page({ title: 'Sites', nav: 'sites', csrfToken: csrf, body, flash, viewer: d.viewer });
}

export function adminLogPage(actions: AdminActionRecord[], csrf: string | null, viewer: Viewer = 'admin'): SafeHtml {
  const body = actions.length === 0
    ? emptyState('Nothing in the admin log yet.', 'Quarantines, bans, reinstatements, token changes, rescans and logins are recorded here.')
    : html`<div class="table-wrap"><table class="admin-log"><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Reason</th></tr></thead><tbody>
${actions.map((a) => html`<tr><td>${time(a.at)}</td><td class="actor">${a.actor}</td><td class="mono">${a.action}</td>
<td>${a.targetKind === 'node' ? html`<a href="/nodes/${seg(a.targetId)}" class="mono">${shortId(a.targetId)}</a>` : a.targetKind === 'audit' ? html`<a href="/audits/${seg(a.targetId)}" class="mono">audit ${shortId(a.targetId)}</a>` : html`<span class="mono">${a.targetKind} ${shortId(a.targetId)}</span>`}</td>
<td class="wrap">${a.reason}</td></tr>`)}
</tbody></table></div>`;
  return page({ title: 'Admin log', nav: 'admin-log', csrfToken: csrf, body: html`<h1>Admin log</h1>${body}`, viewer });
}
