import type { AuditDetail, EvidenceMeta } from '../../common/db/queries/dashboard.js';
import type { AuditTrust } from '../../common/db/queries/confirmations.js';
import { trustCard } from './audit-trust.js';
import { highlightedPair } from './diff.js';
import { emptyState, severityBadge, shortId, time, verdictBadge } from './format.js';
import { html, seg, type SafeHtml } from './html.js';
import { page } from './layout.js';

/** Parsed JSON evidence (fragments, headers_diff, blocked_requests) keyed by kind. */
export type JsonEvidence = Map<string, unknown>;

const evidenceUrl = (e: EvidenceMeta): string => `/api/v1/evidence/${seg(e.id)}`;
const str = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

/**
 * Why an audit has no screenshots, from what the auditor recorded about rendering: it keeps
 * screenshots only of audits that found something, so a clean pass has none even though
 * Chromium ran. Only an audit that was compared but not rendered points at a missing browser.
 */
export function noScreenshotsReason(a: Pick<AuditDetail, 'status' | 'verdict' | 'summary'>): string {
  if (a.status !== 'done') return 'The audit has not finished yet.';
  const rendered = rec(a.summary).rendered;
  if (rendered === 'done') return 'Both copies were rendered in Chromium and compared; screenshots are kept only for audits that find a difference.';
  if (rendered === 'not-html') return 'This response is not a page: it was compared byte for byte, not rendered.';
  if (rendered === 'failed') return `Rendering failed: ${str(rec(a.summary).renderError) || 'see the findings'}.`;
  if (rendered === 'skipped' && (a.verdict === 'pass' || a.verdict === 'tampered')) {
    return 'Not rendered: the auditor that ran this audit had no Chromium, so only its HTTP and document checks ran.';
  }
  if (rendered === 'skipped') return 'Not rendered: the copies could not be fetched and compared first.';
  return 'The auditor recorded no screenshots for this audit.';
}

function screenshots(a: AuditDetail): SafeHtml {
  const evidence = a.evidence;
  const find = (kind: string) => evidence.find((e) => e.kind === kind);
  const shots = [['origin_screenshot', 'Origin'], ['node_screenshot', 'Node'], ['diff_image', 'Difference']] as const;
  const present = shots.filter(([k]) => find(k));
  if (present.length === 0) return emptyState('No screenshots.', noScreenshotsReason(a));
  return html`<div class="shots">${present.map(([kind, label]) => {
    const e = find(kind);
    return e ? html`<figure><a href="${evidenceUrl(e)}"><img src="${evidenceUrl(e)}" alt="${label} screenshot" data-kind="${kind}" loading="lazy"></a><figcaption>${label}</figcaption></figure>` : '';
  })}</div>`;
}

function fragments(value: unknown): SafeHtml {
  if (!Array.isArray(value) || value.length === 0) return html`<p class="muted">No changed fragments recorded.</p>`;
  return html`${value.map((f) => {
    const r = rec(f);
    const pair = highlightedPair(str(r.origin), str(r.node));
    const absent = html`<span class="muted">(absent)</span>`;
    return html`<div class="fragment"><h3 class="mono">${str(r.kind) || 'fragment'}</h3><div class="side-by-side">
<div><div class="side-label">Origin</div><pre class="code">${r.origin === null || r.origin === undefined ? absent : pair.origin}</pre></div>
<div><div class="side-label">Node</div><pre class="code">${r.node === null || r.node === undefined ? absent : pair.node}</pre></div></div></div>`;
  })}`;
}

function headersDiff(value: unknown): SafeHtml {
  const rows: [string, string, string][] = Array.isArray(value)
    ? value.map((h) => [str(rec(h).name), str(rec(h).origin), str(rec(h).node)])
    : Object.entries(rec(value)).map(([name, v]) => [name, str(rec(v).origin), str(rec(v).node)]);
  if (rows.length === 0) return html`<p class="muted">Headers match.</p>`;
  return html`<div class="table-wrap"><table class="headers-diff"><thead><tr><th>Header</th><th>Origin</th><th>Node</th></tr></thead><tbody>
${rows.map(([name, o, n]) => html`<tr><td class="mono">${name}</td><td class="mono wrap">${o || html`<span class="muted">(absent)</span>`}</td><td class="mono wrap changed">${n || html`<span class="muted">(absent)</span>`}</td></tr>`)}
</tbody></table></div>`;
}

function blocked(value: unknown): SafeHtml {
  if (!Array.isArray(value) || value.length === 0) return html`<p class="muted">The node's page made no blocked request.</p>`;
  return html`<ul class="blocked">${value.map((b) => {
    const r = rec(b);
    const where = r.render ? ` on the ${str(r.render)} page` : '';
    return typeof b === 'string' ? html`<li class="mono wrap">${b}</li>` : html`<li><span class="mono wrap">${str(r.url)}</span> <span class="muted">${str(r.type)}${where}${r.reason ? ` — ${str(r.reason)}` : ''}</span></li>`;
  })}</ul>`;
}

function findingsList(a: AuditDetail): SafeHtml {
  if (a.findingsDetail.length === 0) return html`<p class="muted">${a.verdict === 'pass' ? 'No findings: the node served what the origin serves.' : 'No findings recorded.'}</p>`;
  return html`<div class="table-wrap"><table class="findings"><thead><tr><th>Severity</th><th>Kind</th><th>Finding</th></tr></thead><tbody>
${a.findingsDetail.map((f) => html`<tr><td>${severityBadge(f.severity)}</td><td class="mono">${f.kind}</td><td class="wrap">${f.summary}</td></tr>`)}
</tbody></table></div>`;
}

export function auditPage(a: AuditDetail, json: JsonEvidence, csrf: string | null, flash: string | null, trust: AuditTrust | null = null): SafeHtml {
  const others = a.evidence.filter((e) => !['origin_screenshot', 'node_screenshot', 'diff_image'].includes(e.kind));
  const body = html`<p class="crumbs"><a href="/audits">Audits</a> /</p>
<h1>Audit ${shortId(a.id)} ${verdictBadge(a.verdict, a.status)}</h1>
<div class="grid2">
<section class="card"><dl class="facts">
<dt>Node</dt><dd><a href="/nodes/${seg(a.nodeId)}">${a.nodeName}</a></dd>
<dt>Site</dt><dd>${a.siteHost}</dd>
<dt>Page</dt><dd class="mono wrap">${a.url}</dd>
<dt>Started</dt><dd>${time(a.startedAt)}</dd>
<dt>Finished</dt><dd>${time(a.finishedAt, 'not yet')}</dd>
<dt>Why</dt><dd>${a.reason}</dd>
</dl></section>
<section class="card"><h2>Rescan</h2><p>Queue a fresh audit of this node and page; the auditor picks it up like any job.</p>
<form method="post" action="/audits/${seg(a.id)}/rescan"><input type="hidden" name="_csrf" value="${csrf ?? ''}"><button type="submit">Rescan now</button></form></section>
</div>
${trust ? trustCard(trust, a.summary) : ''}
<section class="card"><h2>Findings</h2>${findingsList(a)}</section>
<section class="card"><h2>Screenshots</h2>${screenshots(a)}</section>
<section class="card"><h2>Changed fragments</h2>${fragments(json.get('fragments'))}</section>
<div class="grid2">
<section class="card"><h2>Headers</h2>${headersDiff(json.get('headers_diff'))}</section>
<section class="card"><h2>Blocked third-party requests</h2>${blocked(json.get('blocked_requests'))}</section>
</div>
<section class="card"><h2>All evidence</h2>${others.length || a.evidence.length ? html`<ul class="plain">${a.evidence.map((e) => html`<li><a href="${evidenceUrl(e)}">${e.kind}</a> <span class="muted">${e.contentType}, ${e.size} bytes</span></li>`)}</ul>` : html`<p class="muted">None.</p>`}</section>`;
  return page({ title: `Audit ${shortId(a.id)}`, nav: 'audits', csrfToken: csrf, body, flash });
}
