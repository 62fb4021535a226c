import type { NodeLink } from '../../common/db/queries/node-links.js';
import type { NodeRecord } from '../../common/db/queries/nodes.js';
import type { TrustEventRecord } from '../../common/db/queries/trust.js';
import type { TrustPolicy } from '../../common/domain/trust.js';
import { location, statusBadge } from './format.js';
import { html, seg, type SafeHtml } from './html.js';

// The node page's explanation of where the node stands and why: the trust model with this
// node's figures, the check of its declared location, and the nodes it is linked to.

const resultClass: Record<string, string> = { agrees: 'good', disagrees: 'bad', skipped: 'muted' };

/** Unconfirmed findings and proven failures of the last half-life, from the event history. */
function findingCounts(events: TrustEventRecord[], sinceMs: number): { unconfirmed: number; proven: number } {
  const recent = events.filter((e) => e.at.getTime() >= sinceMs && e.kind === 'audit_tampered');
  return { unconfirmed: recent.filter((e) => e.confirmation === 'unconfirmed').length, proven: recent.filter((e) => e.confirmation !== 'unconfirmed').length };
}

export function trustModelCard(n: NodeRecord & { provenFailures: number }, events: TrustEventRecord[], policy: TrustPolicy, nowMs: number): SafeHtml {
  const days = Math.round(policy.halfLifeMs / 86_400_000);
  const counts = findingCounts(events, nowMs - policy.halfLifeMs);
  return html`<section class="card"><h2>Trust model</h2>
<dl class="facts">
<dt>Integrity</dt><dd>${n.integrity.toFixed(3)}: quarantined below ${policy.quarantineIntegrity}</dd>
<dt>Proven failures</dt><dd>${n.provenFailures.toFixed(1)} of ${policy.quarantineFailureMass}: quarantined at ${policy.quarantineFailureMass}, whatever the passes</dd>
<dt>Last ${days} days</dt><dd>${counts.proven} confirmed or unambiguous findings, ${counts.unconfirmed} unconfirmed</dd>
</dl>
<p class="small muted">A tampered verdict counts in full (high = ${policy.tamperWeight.high}, critical = ${policy.tamperWeight.critical}) only when confirmation audits repeat it or it is unambiguous (bytes that differ from the origin's digest, a host no origin render contacted); an unconfirmed one is recorded and weighs ${policy.unconfirmedWeight}, and never counts toward the proven failures. Truncations, timeouts and unreachable audits weigh on availability only. Evidence halves every ${days} days.</p>
</section>`;
}

export function locationCard(n: NodeRecord): SafeHtml {
  const c = n.locationCheck;
  const declared = n.declaredLocation ? location({ ...n.declaredLocation, country: null }).replace(/^\?\? · /, '') : 'none';
  const lines = c?.lines ?? [];
  return html`<section class="card"><h2>Location check ${statusBadge(c?.status ?? 'unchecked')}</h2>
<dl class="facts">
<dt>Declared</dt><dd>${declared}</dd>
<dt>Routed at</dt><dd>${location(n.location)}${c ? html` <span class="muted">(${c.source})</span>` : ''}</dd>
<dt>Why</dt><dd class="wrap">${c?.reason ?? 'not checked yet: the next registration checks it'}</dd>
</dl>
${lines.length ? html`<ul class="plain small">${lines.map((l) => html`<li><span class="mono">${l.check}</span> <span class="${resultClass[l.result] ?? ''}">${l.result}</span>: ${l.detail}</li>`)}</ul>` : ''}
</section>`;
}

export function linksCard(links: NodeLink[]): SafeHtml {
  if (links.length === 0) return html``;
  return html`<section class="card"><h2>Linked nodes</h2>
<p class="small muted">Nodes sharing a public URL or a public address with this one are one group: penalties and quarantines reach all of them.</p>
<ul class="plain">${links.map((l) => html`<li><a href="/nodes/${seg(l.nodeId)}">${l.name}</a> ${statusBadge(l.status)} <span class="muted">shares ${l.via}</span></li>`)}</ul></section>`;
}
