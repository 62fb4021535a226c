import type { AuditTrust } from '../../common/db/queries/confirmations.js';
import { pct, shortId, statusBadge, time, verdictBadge } from './format.js';
import { html, seg, type SafeHtml } from './html.js';

// The audit report's "Confirmation and trust" card (issue 14): how sure the verdict is, the
// confirmation audits it queued or the one it re-tested, what it did to the node's integrity,
// and how the audit learned the origin's own variance and whom it presented itself as.

const meaning: Record<string, string> = {
  unconfirmed: 'One audit saw it. Confirmation audits of the same page through the same node, as another visitor and with fresh origin renders, were queued; until one repeats it, the finding is recorded and weighs little.',
  confirmed: 'A confirmation audit repeated the verdict: it counts in full.',
  unambiguous: 'No second look needed: a host no origin render of this site ever contacted and no origin page names, or bytes that differ from a digest the origin published. It counts in full.',
};

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

export function trustCard(t: AuditTrust, summary: unknown): SafeHtml {
  const s = (typeof summary === 'object' && summary !== null ? summary : {}) as Record<string, unknown>;
  const visitor = (typeof s.visitor === 'object' && s.visitor !== null ? s.visitor : {}) as Record<string, unknown>;
  const renders = typeof s.originRenders === 'number' && s.originRenders > 0 ? html`<dt>Origin renders</dt><dd>${s.originRenders} (its own variance learned from them; fresh contexts)</dd>` : '';
  const confirmation = t.confirmation ? html`<dt>Confirmation</dt><dd><strong class="confirmation-${t.confirmation}">${t.confirmation}</strong> — ${meaning[t.confirmation] ?? ''}</dd>` : '';
  const retested = t.confirmsAuditId ? html`<dt>Re-tests</dt><dd><a href="/audits/${seg(t.confirmsAuditId)}">audit ${shortId(t.confirmsAuditId)}</a> (this is one of its confirmation audits)</dd>` : '';
  const retests = t.confirmations.length
    ? html`<dt>Confirmation audits</dt><dd><ul class="plain">${t.confirmations.map((c) => html`<li><a href="/audits/${seg(c.id)}">${shortId(c.id)}</a> ${verdictBadge(c.verdict, c.status)} ${time(c.finishedAt, 'queued')}</li>`)}</ul></dd>`
    : '';
  const event = t.event
    ? html`<dt>Trust</dt><dd>${t.event.kind}${t.event.confirmation ? ` (${t.event.confirmation})` : ''}: integrity ${pct(t.event.integrityAfter)} after it, ${statusBadge(t.event.statusAfter)}</dd>`
    : html`<dt>Trust</dt><dd class="muted">no trust event (yet)</dd>`;
  const who = str(visitor.family) ? html`<dt>Presented as</dt><dd>${str(visitor.family)}, ${str(visitor.language)}${str(visitor.navigation) ? `, arriving ${str(visitor.navigation)}` : ''}${visitor.returning === true ? ', returning' : ''}</dd>` : '';
  return html`<section class="card trust-card"><h2>Confirmation and trust</h2><dl class="facts">${confirmation}${retested}${retests}${event}${renders}${who}</dl>
<p class="muted">Integrity is a Beta reputation: passes add a little, a confirmed or unambiguous tamper verdict subtracts a lot, an unconfirmed one little. Trust events are append-only, so every score can be explained (node page).</p></section>`;
}
