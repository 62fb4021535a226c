import type { FastifyInstance } from 'fastify';
import type { ControlDeps } from '../../balancer/control/types.js';
import { creditLeaderboard } from '../../common/db/queries/node-credit.js';
import { emptyState, statusBadge } from '../views/format.js';
import { html, seg } from '../views/html.js';
import { page } from '../views/layout.js';
import { csrfOf, sendHtml } from './respond.js';

// The credit leaderboard: verified bytes each node served visitors (audits never count), as the
// balancer counted them; what volunteers see of their own on their status page.

const periods: Record<string, number> = { '1d': 1, '7d': 7, '30d': 30, '365d': 365 };

export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function creditRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.get<{ Querystring: { period?: string } }>('/credit', async (req, reply) => {
    const period = periods[req.query.period ?? ''] !== undefined ? (req.query.period as string) : '30d';
    const since = new Date(deps.now() - ((periods[period] ?? 30) - 1) * 86_400_000).toISOString().slice(0, 10);
    const rows = await creditLeaderboard(deps.pool, since, null);
    const pills = Object.keys(periods).map((p) => html`<a href="/credit?period=${p}" ${p === period ? html`aria-current="true" class="active"` : ''}>${p}</a> `);
    const table = rows.length === 0 ? emptyState('No verified bytes yet.', 'Nodes earn credit for every verified response they serve visitors.')
      : html`<div class="table-wrap"><table class="credit"><thead><tr><th class="num">#</th><th>Node</th><th>Status</th><th class="num">Verified bytes</th><th class="num">Requests</th><th class="num">Days</th><th>Sites</th></tr></thead><tbody>${rows.map((r, i) => html`<tr data-node-id="${r.nodeId}"><td class="num">${i + 1}</td><td><a href="/nodes/${seg(r.nodeId)}" class="nowrap">${r.nodeName}</a></td><td>${statusBadge(r.status)}</td><td class="num" data-bytes="${r.bytes}">${humanBytes(r.bytes)}</td><td class="num">${r.requests}</td><td class="num">${r.days}</td><td>${r.sites.join(', ')}</td></tr>`)}</tbody></table></div>`;
    const body = html`<h1>Credit</h1><p class="filters pills">${pills}</p><section class="card"><h2>Verified bytes served to visitors since ${since}</h2>${table}</section>`;
    return sendHtml(reply, page({ title: 'Credit', nav: 'credit', csrfToken: csrfOf(req), body }));
  });
}
