import { html, jsonAttr, type SafeHtml } from './html.js';
import { trustClass } from './format.js';

/** Integrity distribution as a server-drawn SVG histogram (no script needed). */
export function integrityHistogram(buckets: number[]): SafeHtml {
  const max = Math.max(1, ...buckets);
  const w = 320;
  const h = 130;
  const barW = w / buckets.length;
  const bars = buckets.map((n, i) => {
    const bh = Math.round((n / max) * (h - 30));
    const x = Math.round(i * barW) + 2;
    const cls = trustClass((i + 0.5) / buckets.length);
    return html`<g><title>${`${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}: ${n} node${n === 1 ? '' : 's'}`}</title>
<rect class="hist ${cls}" x="${x}" y="${h - 18 - bh}" width="${Math.round(barW) - 4}" height="${bh}"/>
${n > 0 ? html`<text class="hist-n" x="${x + barW / 2 - 2}" y="${h - 22 - bh}" text-anchor="middle">${n}</text>` : ''}</g>`;
  });
  return html`<svg class="histogram" viewBox="0 0 ${w} ${h}" role="img" aria-label="integrity distribution">
${bars}
<text class="axis" x="2" y="${h - 4}">0</text><text class="axis" x="${w / 2}" y="${h - 4}" text-anchor="middle">0.5</text><text class="axis" x="${w - 2}" y="${h - 4}" text-anchor="end">1</text>
</svg>`;
}

export interface ChartSpec {
  kind: 'traffic' | 'trust' | 'latency';
  /** Seconds since epoch. */
  x: number[];
  series: { label: string; values: (number | null)[]; unit?: string }[];
  /** Events drawn as vertical marks (trust chart). */
  marks?: { t: number; label: string; severity: 'bad' | 'admin' | 'info' }[];
}

/** A line needs two points; with fewer, uPlot draws an axis of made-up years and no line. */
export const MIN_CHART_POINTS = 2;

/**
 * A uPlot chart, drawn by assets/app.js from the JSON in data-chart (escaped like any text).
 * Until it has two points it shows `empty` instead; a refreshing chart turns into a chart once
 * its data does.
 */
export function chart(spec: ChartSpec, o: { id?: string; refresh?: string; label: string; empty: string }): SafeHtml {
  const placeholder = spec.x.length < MIN_CHART_POINTS ? html`<div class="empty chart-empty"><p>${o.empty}</p></div>` : '';
  return html`<div class="chart" ${o.id ? html`id="${o.id}"` : ''} data-chart="${jsonAttr(spec)}" ${o.refresh ? html`data-refresh="${o.refresh}"` : ''} role="img" aria-label="${o.label}">${placeholder}</div>`;
}

export function statusBars(counts: Record<string, number>): SafeHtml {
  const total = Math.max(1, Object.values(counts).reduce((a, b) => a + b, 0));
  const rows = Object.entries(counts).map(([status, n]) => html`<tr><th scope="row"><span class="badge status-${status}">${status}</span></th>
<td class="num">${n}</td><td class="bar-cell"><svg class="bar wide" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true"><rect width="100" height="8" class="bar-bg"/><rect width="${Math.round((n / total) * 100)}" height="8" class="bar-fg status-fill-${status}"/></svg></td></tr>`);
  return html`<table class="status-bars"><tbody>${rows}</tbody></table>`;
}
