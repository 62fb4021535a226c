import { html, type SafeHtml } from './html.js';

/** A timestamp the browser shows in the viewer's locale with a relative time (assets/app.js). */
export function time(d: Date | null | undefined, empty = 'never'): SafeHtml {
  if (!d) return html`<span class="muted">${empty}</span>`;
  const iso = d.toISOString();
  return html`<time datetime="${iso}" data-rel>${iso.replace('T', ' ').slice(0, 19)} UTC</time>`;
}

export function pct(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`;
}

export function ms(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${Math.round(x)} ms`;
}

export function trustClass(score: number): 'good' | 'warn' | 'bad' {
  if (score >= 0.75) return 'good';
  if (score >= 0.35) return 'warn';
  return 'bad';
}

/** A score as a number and a small bar; both colour-coded. */
export function scoreCell(score: number): SafeHtml {
  const width = Math.round(Math.max(0, Math.min(1, score)) * 40);
  return html`<span class="score ${trustClass(score)}"><svg class="bar" width="40" height="6" aria-hidden="true"><rect width="40" height="6" class="bar-bg"/><rect width="${width}" height="6" class="bar-fg"/></svg>${score.toFixed(2)}</span>`;
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="badge status-${status.replace(/[^a-z]/g, '')}">${status}</span>`;
}

export function verdictBadge(verdict: string | null, status = 'done'): SafeHtml {
  const v = verdict ?? status;
  return html`<span class="badge verdict-${v.replace(/[^a-z]/g, '')}">${v}</span>`;
}

export function severityBadge(severity: string): SafeHtml {
  return html`<span class="badge sev-${severity.replace(/[^a-z]/g, '')}">${severity}</span>`;
}

/** Where a node is: its country (from its checked location) or, when none is known, says so in words. */
export function location(loc: { lat: number; lon: number; country: string | null } | null): string {
  if (!loc) return 'unknown';
  const ns = `${Math.abs(loc.lat).toFixed(1)}°${loc.lat >= 0 ? 'N' : 'S'}`;
  const ew = `${Math.abs(loc.lon).toFixed(1)}°${loc.lon >= 0 ? 'E' : 'W'}`;
  return `${loc.country ?? 'country unknown'} · ${ns} ${ew}`;
}

export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

export function emptyState(title: string, what: SafeHtml | string): SafeHtml {
  return html`<div class="empty"><p class="empty-title">${title}</p><p>${what}</p></div>`;
}
