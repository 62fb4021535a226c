import { createServer, type Server } from 'node:http';
import type { NodeStanding } from '../common/protocol/node-api.js';
import { renderNodeMetrics } from './metrics.js';

// The volunteer's own page (loopback only by default): who this node is, what it serves, how
// the cache does, and — from the balancer — its trust, status and every penalty with its reason.

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

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);

function row(label: string, value: string): string {
  return `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`;
}

function penaltiesTable(s: NodeStanding | null): string {
  if (!s) return '<p>Not registered yet.</p>';
  if (s.penalties.length === 0) return '<p>No penalties. Thank you for helping!</p>';
  const rows = s.penalties.map((p) => `<tr><td>${escapeHtml(p.at)}</td><td>${escapeHtml(p.kind)}</td><td>${escapeHtml(p.reason)}</td><td>${escapeHtml(p.statusAfter)}</td><td>${pct(p.integrityAfter)}</td><td>${pct(p.availabilityAfter)}</td></tr>`);
  return `<table class="penalties"><tr><th>when</th><th>what</th><th>reason</th><th>status after</th><th>integrity after</th><th>availability after</th></tr>${rows.join('')}</table>`;
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

export function renderStatusPage(v: StatusView): string {
  const s = v.standing;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>Verity node ${escapeHtml(v.name)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}th{text-align:left;padding-right:1em}td{padding-right:1em}table{border-collapse:collapse;margin-bottom:1em}.penalties td{border-top:1px solid #ddd}</style>
</head><body><h1>Verity volunteer node</h1>
<h2>Identity</h2><table>${row('node id', v.nodeId)}${row('name', v.name)}${row('public URL', v.publicUrl)}${row('balancer', v.balancer)}${row('running since', v.startedAt)}</table>
<h2>Standing (as the balancer reports it)</h2><table>${row('status', s ? s.status + (s.draining ? ' (draining)' : '') : 'unknown')}${row('integrity', pct(s?.integrity ?? null))}${row('availability', pct(s?.availability ?? null))}${row('last heartbeat', v.lastHeartbeatAt ?? 'never')}${row('last problem', v.lastError ?? 'none')}</table>
<h2>Penalties</h2>${penaltiesTable(s)}
<h2>Sites</h2>${sitesTable(v)}
<h2>Traffic and cache</h2><table>${row('requests', String(v.traffic.requestsTotal))}${row('errors', String(v.traffic.errorsTotal))}${row('in flight', String(v.traffic.inFlight))}${row('bytes served', String(v.traffic.bytesTotal))}${row('cache hit rate', pct(v.cache.hitRate))}${row('cache hits / revalidated / misses / bypass', `${v.cache.hits} / ${v.cache.revalidated} / ${v.cache.misses} / ${v.cache.bypass}`)}${row('cache size', `${v.cache.bytes} of ${v.cache.capBytes} bytes, ${v.cache.entries} entries`)}</table>
<p><a href="/status.json">status.json</a></p></body></html>`;
}

export function createStatusServer(view: () => StatusView): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET', ...headers });
      res.end();
      return;
    }
    if (path === '/status.json') {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(view()));
      return;
    }
    if (path === '/healthz') {
      // Healthy while registered and not draining: what a supervisor (or Docker) should watch.
      const v = view();
      const ok = v.standing !== null && v.standing.status !== 'banned' && v.lastError === null;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ ok, nodeId: v.nodeId, status: v.standing?.status ?? 'unregistered', lastError: v.lastError }));
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', ...headers });
      res.end(renderNodeMetrics(view()));
      return;
    }
    if (path !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain', ...headers });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(renderStatusPage(view()));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}
