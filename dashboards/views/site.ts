import type { AuditListItem } from '../../common/db/queries/dashboard.js';
import type { NodeRecord } from '../../common/db/queries/nodes.js';
import type { Exclusion, SiteState } from '../../common/db/queries/site-owners.js';
import type { Site } from '../../common/db/queries/sites.js';
import type { JoinToken } from '../../common/db/queries/tokens.js';
import { emptyState, location, scoreCell, statusBadge, time } from './format.js';
import { html, seg, type SafeHtml } from './html.js';
import { page, type Viewer } from './layout.js';
import { auditsTable } from './node.js';
import { createdToken, tokenForm, tokensTable } from './sites.js';

// One site as its owner runs it: settings, pause and delete, the nodes serving it (with a
// quarantine for this site alone), join tokens and its audits.

export interface SitePageData {
  site: Site;
  state: SiteState;
  nodes: NodeRecord[];
  exclusions: Exclusion[];
  tokens: JoinToken[];
  audits: AuditListItem[];
  challengeUrl: string | null;
  created: { token: string; site: string } | null;
  now: Date;
  viewer: Viewer;
}

const hidden = (csrf: string | null) => html`<input type="hidden" name="_csrf" value="${csrf ?? ''}">`;

function settingsForm(d: SitePageData, csrf: string | null): SafeHtml {
  const s = d.site;
  const action = `/sites/${seg(s.host)}`;
  return html`<form method="post" action="${action}/settings" class="site-settings stack">${hidden(csrf)}
<label>Origin <input name="origin" type="url" value="${s.origin}" required></label>
<label>Private routes <input name="private" value="${s.privateRoutes.join(',')}"></label>
<label>Public routes <input name="public" value="${s.publicRoutes.join(',')}" placeholder="(all the origin publishes)"></label>
<label>Dynamic pages <select name="dynamic"><option value="origin"${s.dynamicPolicy === 'origin' ? html` selected` : ''}>served by the origin</option><option value="sampled"${s.dynamicPolicy === 'sampled' ? html` selected` : ''}>served by nodes, checked after the fact</option></select></label>
${d.viewer === 'owner' && d.challengeUrl ? html`<p class="small">A new origin must first serve <code class="wrap">${d.challengeUrl.replace(s.origin, '')}</code> with the site's proof (the one of its ownership check).</p>` : ''}
<button type="submit">Save</button></form>
<div class="actions">
<form method="post" action="${action}/pause" class="inline">${hidden(csrf)}<input type="hidden" name="paused" value="${d.state.paused ? '0' : '1'}"><button type="submit">${d.state.paused ? 'Resume: let nodes serve again' : 'Pause: the origin serves everything'}</button></form>
<form method="post" action="${action}/delete" class="inline">${hidden(csrf)}<button type="submit" class="danger">Delete site</button></form>
</div>`;
}

function nodesTable(d: SitePageData, csrf: string | null): SafeHtml {
  if (d.nodes.length === 0) return emptyState('No node serves this site yet.', 'Create a join token below and give it to a volunteer.');
  const excluded = new Map(d.exclusions.map((e) => [e.nodeId, e]));
  const rows = d.nodes.map((n) => {
    const ex = excluded.get(n.id);
    const base = `/sites/${seg(d.site.host)}/nodes/${seg(n.id)}`;
    const act = ex
      ? html`<span class="badge status-quarantined">quarantined here</span> <span class="small wrap">${ex.reason} (${ex.actor})</span>
<form method="post" action="${base}/reinstate" class="inline">${hidden(csrf)}<button type="submit" class="small">Reinstate here</button></form>`
      : html`<form method="post" action="${base}/quarantine" class="inline quarantine-for-site">${hidden(csrf)}<input name="reason" placeholder="why" required aria-label="reason"><button type="submit" class="danger small">Quarantine for this site</button></form>`;
    return html`<tr data-node-id="${n.id}"><td class="node-name">${n.name}</td><td>${statusBadge(n.status)}${n.resting ? html` <span class="badge">resting</span>` : ''}</td><td>${scoreCell(n.integrity)}</td><td>${location(n.location)}</td><td>${time(n.lastSeenAt)}</td><td>${act}</td></tr>`;
  });
  return html`<div class="table-wrap"><table class="site-nodes"><thead><tr><th>Node</th><th>Status</th><th>Integrity</th><th>Location</th><th>Last seen</th><th>For this site</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function sitePage(d: SitePageData, csrf: string | null, flash: string | null): SafeHtml {
  const s = d.site;
  const hosts = new Map([[s.id, s.host]]);
  const state = d.state.deleteAfter ? html`<span class="badge status-banned">deleted at ${time(d.state.deleteAfter)}</span>` : d.state.paused ? html`<span class="badge status-offline">paused</span>` : html`<span class="badge status-active">serving</span>`;
  const body = html`<h1><span class="host">${s.host}</span> ${state}</h1>${createdToken(d.created)}
<section class="card"><h2>Settings</h2>${settingsForm(d, csrf)}</section>
<section class="card"><h2>Nodes serving it</h2>${nodesTable(d, csrf)}</section>
<section class="card"><h2>Join tokens</h2>${tokensTable(d.tokens, hosts, d.now, csrf, `/sites/${seg(s.host)}`)}${tokenForm([s], csrf, `/sites/${seg(s.host)}/tokens`)}</section>
<section class="card"><h2>Audits</h2>${d.audits.length ? auditsTable(d.audits, true) : emptyState('No audits yet.', 'The auditor audits every node regularly.')}</section>`;
  return page({ title: s.host, nav: 'sites', csrfToken: csrf, body, flash, viewer: d.viewer });
}
