import type { AuditListItem, NodeStrike } from '../../common/db/queries/dashboard.js';
import type { NodeLink } from '../../common/db/queries/node-links.js';
import type { NodeRecord } from '../../common/db/queries/nodes.js';
import type { TrustEventRecord } from '../../common/db/queries/trust.js';
import type { TrustPolicy } from '../../common/domain/trust.js';
import { chart, type ChartSpec } from './charts.js';
import { emptyState, location, ms, pct, scoreCell, shortId, statusBadge, time, verdictBadge } from './format.js';
import { html, seg, type SafeHtml } from './html.js';
import { page } from './layout.js';
import { linksCard, locationCard, trustModelCard } from './node-trust.js';

export interface NodePageData {
  node: NodeRecord;
  events: TrustEventRecord[];
  audits: AuditListItem[];
  strikes: NodeStrike[];
  trust: ChartSpec;
  traffic: ChartSpec;
  latency: ChartSpec;
  hourRequests: number;
  hourAuditRequests: number;
  trafficShare: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  links: NodeLink[];
  policy: TrustPolicy;
  nowMs: number;
}

const badKinds = new Set(['audit_tampered', 'integrity_mismatch', 'header_strike', 'shadow_mismatch', 'linked_quarantine']);

export function markFor(kind: string): 'bad' | 'admin' | 'info' | null {
  if (badKinds.has(kind)) return 'bad';
  if (kind.startsWith('admin_')) return 'admin';
  return null;
}

function facts(n: NodeRecord, d: NodePageData): SafeHtml {
  const hb = typeof n.lastHeartbeat === 'object' && n.lastHeartbeat !== null ? (n.lastHeartbeat as Record<string, unknown>) : {};
  const num = (k: string): string => (typeof hb[k] === 'number' ? String(hb[k]) : '–');
  return html`<dl class="facts">
<dt>Status</dt><dd>${statusBadge(n.status)}${n.draining ? ' (draining)' : ''}</dd>
<dt>Integrity</dt><dd>${scoreCell(n.integrity)}</dd>
<dt>Availability</dt><dd>${scoreCell(n.availability)}</dd>
<dt>Location</dt><dd>${location(n.location)}</dd>
<dt>Sites</dt><dd>${n.sites.length ? n.sites.join(', ') : html`<span class="muted">none</span>`}</dd>
<dt>Public URL</dt><dd class="mono wrap">${n.publicUrl}</dd>
<dt>Subnet</dt><dd class="mono">${n.subnet ?? '–'}</dd>
<dt>Last seen</dt><dd>${time(n.lastSeenAt)}</dd>
<dt>Joined</dt><dd>${time(n.createdAt)}</dd>
<dt>Last hour</dt><dd>${d.hourRequests} visitor requests (${pct(d.trafficShare, 1)} of all) · p50 ${ms(d.p50Ms)} · p99 ${ms(d.p99Ms)}</dd>
<dt>Audits, last hour</dt><dd data-testid="hour-audits">${d.hourAuditRequests} requests from the auditor (not visitors: not in the share)</dd>
<dt>Node counters</dt><dd>${num('requestsTotal')} requests, ${num('errorsTotal')} errors, ${num('inFlight')} in flight, cache ${num('cacheHits')} hits / ${num('cacheMisses')} misses</dd>
</dl>`;
}

function actions(n: NodeRecord, csrf: string | null): SafeHtml {
  const can = {
    quarantine: n.status !== 'quarantined' && n.status !== 'banned',
    reinstate: n.status === 'quarantined' || n.status === 'banned' || n.status === 'offline',
    ban: n.status !== 'banned',
  };
  return html`<form method="post" action="/nodes/${seg(n.id)}/actions" class="actions">
<input type="hidden" name="_csrf" value="${csrf ?? ''}">
<label for="reason">Reason (kept in the admin log and shown to the volunteer)</label>
<textarea id="reason" name="reason" rows="2" required maxlength="2000" placeholder="e.g. injected ads on /checkout, see audit report"></textarea>
<div class="buttons">
${can.quarantine ? html`<button type="submit" name="action" value="quarantine" class="warn">Quarantine</button>` : ''}
${can.reinstate ? html`<button type="submit" name="action" value="reinstate">Reinstate</button>` : ''}
${can.ban ? html`<button type="submit" name="action" value="ban" class="danger">Ban</button>` : ''}
</div></form>`;
}

function eventsTable(events: TrustEventRecord[]): SafeHtml {
  if (events.length === 0) return emptyState('No trust events yet.', 'Events appear as audits, health checks and admin actions judge this node.');
  const rows = [...events].reverse().map((e) => html`<tr class="${markFor(e.kind) ?? ''}">
<td>${time(e.at)}</td><td><span class="mono">${e.kind}</span></td><td class="num">${e.integrityAfter.toFixed(3)}</td><td class="num">${e.availabilityAfter.toFixed(3)}</td>
<td>${statusBadge(e.statusAfter)}</td><td>${e.confirmation ?? ''}</td><td class="wrap">${e.reason}${e.auditId ? html` · <a href="/audits/${seg(e.auditId)}">audit</a>` : ''}${e.viaNode ? html` · via <a href="/nodes/${seg(e.viaNode)}">linked node</a>` : ''}</td><td>${e.actor}</td></tr>`);
  return html`<div class="table-wrap"><table class="events"><thead><tr><th>When</th><th>Event</th><th class="num">Integrity</th><th class="num">Availability</th><th>Status</th><th>Confirmation</th><th>Reason</th><th>By</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The page's path and query (the host has its own unbreakable column text); the URL itself when it does not parse. */
function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

export function auditsTable(audits: AuditListItem[], showNode: boolean): SafeHtml {
  if (audits.length === 0) return emptyState('No audits yet.', html`Run <code>verity auditor</code>: every node is audited at least once per <code>--audit-every</code> (5m by default).`);
  const rows = audits.map((a) => html`<tr>
<td>${time(a.startedAt)}</td><td>${verdictBadge(a.verdict, a.status)}</td>
${showNode ? html`<td><a class="nowrap" href="/nodes/${seg(a.nodeId)}">${a.nodeName}</a></td>` : ''}
<td class="wrap"><a href="/audits/${seg(a.id)}"><span class="host">${a.siteHost}</span> <span class="path">${pathOf(a.url)}</span></a></td>
<td class="wrap">${a.findings.length ? a.findings.map((f) => f.summary).join('; ') : html`<span class="muted">–</span>`}</td><td>${a.reason}</td></tr>`);
  return html`<div class="table-wrap"><table class="audits"><thead><tr><th>Started</th><th>Verdict</th>${showNode ? html`<th>Node</th>` : ''}<th>Page</th><th>Findings</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function previewOf(v: unknown): SafeHtml {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return html``;
  const pairs = Object.entries(v as Record<string, unknown>).slice(0, 8);
  return html`<dl class="preview mono small">${pairs.map(([k, val]) => html`<dt>${k}</dt><dd class="wrap">${typeof val === 'string' ? val : JSON.stringify(val)}</dd>`)}</dl>`;
}

function strikesList(strikes: NodeStrike[]): SafeHtml {
  if (strikes.length === 0) return html`<p class="muted">No inline integrity strikes.</p>`;
  return html`<ul class="plain strikes">${strikes.map((s) => html`<li>${time(s.createdAt)} <span class="mono">${s.kind}</span> — <a href="/api/v1/evidence/${seg(s.id)}">evidence ${shortId(s.id)}</a> (${s.size} bytes)${previewOf(s.preview)}</li>`)}</ul>`;
}

export function nodePage(d: NodePageData, csrf: string | null, flash: string | null): SafeHtml {
  const n = d.node;
  const body = html`<p class="crumbs"><a href="/nodes">Nodes</a> /</p>
<h1 class="node-title">${n.name} ${statusBadge(n.status)}</h1>
<p class="muted mono small">${n.id}</p>
<div class="grid2">
<section class="card">${facts(n, d)}</section>
<section class="card"><h2>Act on this node</h2>${actions(n, csrf)}</section>
</div>
<div class="grid2">
${trustModelCard(n, d.events, d.policy, d.nowMs)}
${locationCard(n)}
</div>
${linksCard(d.links)}
<section class="card"><h2>Trust timeline</h2>
${chart(d.trust, { id: 'trust-chart', label: 'integrity and availability over time, events marked', empty: 'No trust history yet: the chart fills in as events arrive.' })}
<p class="legend small"><span class="key integrity"></span>integrity <span class="key availability"></span>availability <span class="key mark-bad"></span>strike / tamper <span class="key mark-admin"></span>admin action</p></section>
<section class="card"><h2>Trust events</h2>${eventsTable(d.events)}</section>
<section class="card"><h2>Audits</h2>${auditsTable(d.audits, false)}</section>
<div class="grid2">
<section class="card"><h2>Traffic (last hour)</h2>${chart(d.traffic, { id: 'node-traffic-chart', label: 'visitor requests and audits per second', empty: 'Not enough traffic through the balancer in the last hour for a chart (it needs two minutes). Nodes on probation get a small share; quarantined and banned nodes get audits only.' })}</section>
<section class="card"><h2>Latency (last hour)</h2>${chart(d.latency, { id: 'node-latency-chart', label: 'latency p50 and p99', empty: 'Not enough measurements for a chart yet (it needs two minutes of visitor traffic).' })}</section>
</div>
<section class="card"><h2>Inline integrity strikes</h2>${strikesList(d.strikes)}</section>`;
  return page({ title: n.name, nav: 'nodes', csrfToken: csrf, body, flash });
}
