import type { OverviewStats, TamperFinding } from '../../common/db/queries/dashboard.js';
import { chart, integrityHistogram, statusBars, type ChartSpec } from './charts.js';
import { emptyState, severityBadge, time } from './format.js';
import { html, seg, type SafeHtml } from './html.js';
import { page } from './layout.js';

export interface OverviewData {
  stats: OverviewStats;
  findings: TamperFinding[];
  requestsPerSecond: number | null;
  /** nodes: visitor requests nodes served (node_traffic); balancer: this balancer's own request counter, while no node traffic is recorded. */
  rateSource: 'nodes' | 'balancer';
  nodeCount: number;
}

/**
 * What the "Traffic now" figure counts, said on the card: it is not what a load generator
 * (the demo's status line) sends, which also counts pages the origin serves and is averaged over
 * a few seconds, not a finished minute.
 */
export function rateExplanation(source: OverviewData['rateSource']): string {
  return source === 'nodes'
    ? 'visitor requests / second sent to nodes, over the last full minute (pages the origin serves and audits are not counted)'
    : 'requests / second this balancer answered, over the last 10 s (no node traffic recorded yet)';
}

function findingsTable(findings: TamperFinding[]): SafeHtml {
  if (findings.length === 0) return emptyState('No tampering found yet.', html`Audits run by <code>verity auditor</code> land here when a node changes what visitors see.`);
  const rows = findings.map((f) => html`<tr>
<td>${time(f.at)}</td><td>${severityBadge(f.severity)}</td>
<td><a href="/nodes/${seg(f.nodeId)}">${f.nodeName}</a></td>
<td class="wrap"><a href="/audits/${seg(f.auditId)}">${f.summary}</a>${f.findingCount > 1 ? html` <span class="muted small">and ${f.findingCount - 1} more</span>` : ''}<div class="muted small">${f.siteHost} · ${f.url}</div></td></tr>`);
  return html`<div class="table-wrap"><table><thead><tr><th>When</th><th>Severity</th><th>Node</th><th>Worst finding</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The part htmx refreshes every few seconds. */
export function overviewLive(d: OverviewData): SafeHtml {
  const s = d.stats;
  const audits24h = Object.values(s.auditsByVerdict).reduce((a, b) => a + b, 0);
  return html`<div class="cards">
<div class="card stat"><div class="stat-label">Traffic now</div><div class="stat-value" data-testid="rps">${d.requestsPerSecond === null ? '–' : d.requestsPerSecond.toFixed(1)}</div><div class="muted small" data-testid="rps-what">${rateExplanation(d.rateSource)}</div></div>
<div class="card stat"><div class="stat-label">Nodes</div><div class="stat-value">${d.nodeCount}</div><div class="muted">${s.nodesByStatus.active} active · ${s.nodesByStatus.probation} on probation</div></div>
<div class="card stat"><div class="stat-label">Audits, 24 h</div><div class="stat-value">${audits24h}</div><div class="muted">${s.auditsByVerdict.tampered} tampered · ${s.queuedAudits} queued</div></div>
<div class="card stat ${s.nodesByStatus.quarantined > 0 ? 'alert' : ''}"><div class="stat-label">Quarantined</div><div class="stat-value">${s.nodesByStatus.quarantined}</div><div class="muted">${s.nodesByStatus.banned} banned</div></div>
</div>
<div class="grid2">
<section class="card"><h2>Nodes by status</h2>${statusBars(s.nodesByStatus)}</section>
<section class="card"><h2>Integrity distribution</h2>${integrityHistogram(s.integrityBuckets)}</section>
</div>
<section class="card"><h2>Latest tamper findings</h2>${findingsTable(d.findings)}</section>`;
}

export function overviewPage(d: OverviewData, traffic: ChartSpec, csrfToken: string | null): SafeHtml {
  const body = html`<h1>Overview</h1>
<section class="card"><h2>Traffic per second <span class="live-dot" title="live">live</span></h2>
${chart(traffic, { id: 'traffic-chart', refresh: '/fragments/traffic.json', label: 'visitor requests per second, last hour', empty: 'No traffic recorded yet: visitor requests show up here once two minutes of them are in. Point a site\'s DNS at the balancer.' })}
</section>
<div id="live" hx-get="/fragments/overview" hx-trigger="every 5s" hx-swap="innerHTML">${overviewLive(d)}</div>`;
  return page({ title: 'Overview', nav: 'overview', csrfToken, body });
}
