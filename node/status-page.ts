import type { NodeStanding, Penalty } from '../common/protocol/node-api.js';

// The volunteer's own page (loopback only by default): who this node is, what it serves, how
// the cache does, and — from the balancer — its trust, status, location check and every penalty
// with its reason and evidence. Trust is shown as of the audit-secrecy cutoff the balancer sets.

export interface StatusView {
  nodeId: string;
  name: string;
  publicUrl: string;
  balancer: string;
  startedAt: string;
  standing: NodeStanding | null;
  lastHeartbeatAt: string | null;
  lastError: string | null;
  traffic: { inFlight: number; requestsTotal: number; errorsTotal: number; bytesTotal: number; byStatus: Record<string, number>; sites: Record<string, { requests: number; errors: number; bytes: number; hits: number }> };
  cache: { hits: number; misses: number; revalidated: number; bypass: number; hitRate: number | null; bytes: number; entries: number; capBytes: number };
}

/** What the page's forms need: the CSRF token of this process and the outcome of the last action. */
export interface PageExtras {
  csrf: string;
  notice?: string | null;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);

function row(label: string, value: string): string {
  return `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`;
}

function recheckForm(extras: PageExtras, auditId: string | null, label: string): string {
  const audit = auditId ? `<input type="hidden" name="auditId" value="${escapeHtml(auditId)}">` : '';
  return `<form method="post" action="/recheck" class="inline"><input type="hidden" name="csrf" value="${escapeHtml(extras.csrf)}">${audit}<button type="submit">${escapeHtml(label)}</button></form>`;
}

function evidenceCell(p: Penalty, extras: PageExtras): string {
  const parts: string[] = [];
  if (p.url) parts.push(`page ${escapeHtml(p.url)}`);
  if (p.confirmation) parts.push(`verdict ${escapeHtml(p.confirmation)}`);
  for (const f of p.findings ?? []) parts.push(`${escapeHtml(f.severity)} ${escapeHtml(f.kind)}: ${escapeHtml(f.summary)}`);
  const links = (p.evidence ?? []).map((e) => `<a href="/evidence/${encodeURIComponent(e.id)}">${escapeHtml(e.kind)}</a>`);
  if (links.length) parts.push(`evidence: ${links.join(', ')}`);
  if (p.auditId) parts.push(recheckForm(extras, p.auditId, 'request re-check of this page'));
  return parts.join('<br>');
}

function penaltiesTable(s: NodeStanding | null, extras: PageExtras): string {
  if (!s) return '<p>Not registered yet.</p>';
  if (s.penalties.length === 0) return '<p>No penalties. Thank you for helping!</p>';
  const rows = s.penalties.map((p) => `<tr><td>${escapeHtml(p.at)}</td><td>${escapeHtml(p.kind)}</td><td>${escapeHtml(p.reason)}</td><td>${escapeHtml(p.statusAfter)}</td><td>${pct(p.integrityAfter)}</td><td>${pct(p.availabilityAfter)}</td><td>${evidenceCell(p, extras)}</td></tr>`);
  return `<table class="penalties"><tr><th>when</th><th>what</th><th>reason</th><th>status after</th><th>integrity after</th><th>availability after</th><th>evidence</th></tr>${rows.join('')}</table>`;
}

function locationTable(s: NodeStanding | null): string {
  const l = s?.location;
  if (!l) return '<p>Not checked yet.</p>';
  const pt = (p: { lat: number; lon: number } | null) => (p ? `${p.lat.toFixed(2)}, ${p.lon.toFixed(2)}` : 'none');
  return `<table>${row('declared', pt(l.declared))}${row('check', l.status)}${row('routed at', pt(l.effective))}${row('country', l.country ?? 'unknown')}${row('why', l.reason)}</table>`;
}

function sitesTable(v: StatusView): string {
  const sites = v.standing?.sites ?? [];
  if (sites.length === 0) return '<p>No sites assigned.</p>';
  const rows = sites.map((site) => {
    const t = v.traffic.sites[site.host] ?? { requests: 0, errors: 0, bytes: 0, hits: 0 };
    return `<tr><td>${escapeHtml(site.host)}</td><td>${escapeHtml(site.origin)}</td><td>${t.requests}</td><td>${t.hits}</td><td>${t.errors}</td><td>${t.bytes}</td></tr>`;
  });
  return `<table><tr><th>site</th><th>origin</th><th>requests</th><th>cache hits</th><th>errors</th><th>bytes</th></tr>${rows.join('')}</table>`;
}

function standingTable(v: StatusView): string {
  const s = v.standing;
  const asOf = s?.disclosedUntil ? `as of ${s.disclosedUntil}: the balancer reports trust changes 10 to 60 minutes late, in batches, so that audits cannot be told from visitors` : 'unknown';
  return `<table>${row('status', s ? s.status + (s.draining ? ' (draining)' : '') : 'unknown')}${row('integrity', pct(s?.integrity ?? null))}${row('availability', pct(s?.availability ?? null))}${row('reported', asOf)}${row('last heartbeat', v.lastHeartbeatAt ?? 'never')}${row('last problem', v.lastError ?? 'none')}</table>`;
}

export function renderStatusPage(v: StatusView, extras: PageExtras = { csrf: '' }): string {
  const s = v.standing;
  const notice = extras.notice ? `<p class="notice">${escapeHtml(extras.notice)}</p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
<title>Verity node ${escapeHtml(v.name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:80em}th{text-align:left;padding-right:1em}td{padding-right:1em;vertical-align:top}table{border-collapse:collapse;margin-bottom:1em}.penalties td{border-top:1px solid #ddd}.notice{background:#eef;padding:.5em}form.inline{display:inline}</style>
</head><body><h1>Verity volunteer node</h1>${notice}
<h2>Identity</h2><table>${row('node id', v.nodeId)}${row('name', v.name)}${row('public URL', v.publicUrl)}${row('balancer', v.balancer)}${row('running since', v.startedAt)}</table>
<h2>Standing (as the balancer reports it)</h2>${standingTable(v)}
<h2>Location check</h2>${locationTable(s)}
<h2>Penalties</h2>${penaltiesTable(s, extras)}
<p>Think a penalty is wrong? ${recheckForm(extras, null, 'request re-check')} queues an audit of your node (at most one every 15 minutes); its result shows here after the same delay.</p>
<h2>Sites</h2>${sitesTable(v)}
<h2>Traffic and cache</h2><table>${row('requests', String(v.traffic.requestsTotal))}${row('errors', String(v.traffic.errorsTotal))}${row('in flight', String(v.traffic.inFlight))}${row('bytes served', String(v.traffic.bytesTotal))}${row('cache hit rate', pct(v.cache.hitRate))}${row('cache hits / revalidated / misses / bypass', `${v.cache.hits} / ${v.cache.revalidated} / ${v.cache.misses} / ${v.cache.bypass}`)}${row('cache size', `${v.cache.bytes} of ${v.cache.capBytes} bytes, ${v.cache.entries} entries`)}</table>
<p><a href="/status.json">status.json</a></p></body></html>`;
}
