import { nodeStatuses } from '../../common/domain/trust.js';
import type { NodeFilter, NodeRow, SortKey } from '../routes/node-rows.js';
import { emptyState, location, ms, pct, scoreCell, statusBadge, time } from './format.js';
import { html, seg, type SafeHtml } from './html.js';
import { page } from './layout.js';

const columns: { key: SortKey; label: string; num?: boolean }[] = [
  { key: 'name', label: 'Node' },
  { key: 'status', label: 'Status' },
  { key: 'integrity', label: 'Integrity', num: true },
  { key: 'availability', label: 'Availability', num: true },
  { key: 'location', label: 'Location' },
  { key: 'traffic', label: 'Traffic share', num: true },
  { key: 'latency', label: 'Latency p50 / p99', num: true },
  { key: 'seen', label: 'Last seen' },
];

function query(f: NodeFilter, over: Partial<NodeFilter>): string {
  const m = { ...f, ...over };
  const p = new URLSearchParams({ sort: m.sort, dir: m.dir });
  if (m.status) p.set('status', m.status);
  if (m.q) p.set('q', m.q);
  return `/nodes?${p.toString()}`;
}

function header(f: NodeFilter): SafeHtml {
  return html`<tr>${columns.map((c) => {
    const active = f.sort === c.key;
    const dir = active && f.dir === 'desc' ? 'asc' : 'desc';
    const arrow = active ? (f.dir === 'asc' ? ' ▲' : ' ▼') : '';
    return html`<th scope="col" class="${c.num ? 'num' : ''}" ${active ? html`aria-sort="${f.dir === 'asc' ? 'ascending' : 'descending'}"` : ''}><a href="${query(f, { sort: c.key, dir })}">${c.label}${arrow}</a></th>`;
  })}</tr>`;
}

function row(r: NodeRow): SafeHtml {
  const n = r.node;
  return html`<tr data-node-id="${n.id}">
<td><a href="/nodes/${seg(n.id)}" class="node-name">${n.name}</a><div class="muted small mono">${n.id.slice(0, 12)}</div></td>
<td>${statusBadge(n.status)}${n.draining ? html` <span class="badge">draining</span>` : ''}</td>
<td class="num">${scoreCell(n.integrity)}</td>
<td class="num">${scoreCell(n.availability)}</td>
<td>${location(n.location)}</td>
<td class="num">${pct(r.trafficShare, 1)}</td>
<td class="num">${ms(r.p50Ms)} / ${ms(r.p99Ms)}</td>
<td>${time(n.lastSeenAt)}</td></tr>`;
}

function filters(f: NodeFilter): SafeHtml {
  const options = nodeStatuses.map((s) => html`<option value="${s}" ${f.status === s ? 'selected' : ''}>${s}</option>`);
  return html`<form method="get" action="/nodes" class="filters" role="search">
<input type="hidden" name="sort" value="${f.sort}"><input type="hidden" name="dir" value="${f.dir}">
<label>Status <select name="status"><option value="">any</option>${options}</select></label>
<label>Search <input type="search" name="q" value="${f.q}" placeholder="name, id, country, site"></label>
<button type="submit">Filter</button>${f.status || f.q ? html` <a href="${query(f, { status: null, q: '' })}">clear</a>` : ''}
</form>`;
}

export function nodesPage(rows: NodeRow[], total: number, f: NodeFilter, csrfToken: string | null): SafeHtml {
  let content: SafeHtml;
  if (total === 0) {
    content = emptyState('No volunteer nodes have joined yet.', html`Create a join token on the <a href="/sites">Sites</a> page, then a volunteer runs <code>verity node --balancer URL --token TOKEN</code>.`);
  } else if (rows.length === 0) {
    content = emptyState('No node matches this filter.', html`<a href="/nodes">Show all ${total} nodes</a>.`);
  } else {
    content = html`<div class="table-wrap"><table class="nodes"><thead>${header(f)}</thead><tbody>${rows.map(row)}</tbody></table></div>
<p class="muted small">${rows.length} of ${total} nodes. Traffic share and latency: the last hour at the balancer.</p>`;
  }
  return page({ title: 'Nodes', nav: 'nodes', csrfToken, body: html`<h1>Nodes</h1>${filters(f)}${content}` });
}
