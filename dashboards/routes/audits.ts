import type { FastifyInstance } from 'fastify';
import { rescanAudit } from '../../balancer/control/admin-ops.js';
import { isUuid } from '../../balancer/control/api-helpers.js';
import { authOf, csrfValid } from '../../balancer/control/auth.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { auditVerdicts, findAudit, getEvidence, listAudits, type AuditDetail, type AuditVerdict } from '../../common/db/queries/dashboard.js';
import { auditPage, type JsonEvidence } from '../views/audit.js';
import { auditTrust } from '../../common/db/queries/confirmations.js';
import { emptyState } from '../views/format.js';
import { html } from '../views/html.js';
import { page } from '../views/layout.js';
import { auditsTable } from '../views/node.js';
import { csrfOf, notFound, sendHtml } from './respond.js';

const JSON_KINDS = ['fragments', 'headers_diff', 'blocked_requests'];
const MAX_JSON_BYTES = 1 << 20;

async function jsonEvidence(deps: ControlDeps, a: AuditDetail): Promise<JsonEvidence> {
  const out: JsonEvidence = new Map();
  for (const e of a.evidence) {
    if (!JSON_KINDS.includes(e.kind) || e.size > MAX_JSON_BYTES || out.has(e.kind)) continue;
    const blob = await getEvidence(deps.pool, e.id);
    try {
      if (blob) out.set(e.kind, JSON.parse(blob.body.toString('utf8')));
    } catch {
      out.set(e.kind, null); // Unparseable evidence shows as "none"; the raw bytes stay downloadable.
    }
  }
  return out;
}

export function auditRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.get<{ Querystring: { verdict?: string } }>('/audits', async (req, reply) => {
    const verdict = (auditVerdicts as readonly string[]).includes(req.query.verdict ?? '') ? (req.query.verdict as AuditVerdict) : null;
    const audits = await listAudits(deps.pool, { verdict, limit: 200, includePending: verdict === null });
    const links = [html`<a href="/audits" ${verdict === null ? html`aria-current="true" class="active"` : ''}>all</a>`,
      ...auditVerdicts.map((v) => html` <a href="/audits?verdict=${v}" ${verdict === v ? html`aria-current="true" class="active"` : ''}>${v}</a>`)];
    const body = html`<h1>Audits</h1><p class="filters pills">${links}</p>${audits.length ? auditsTable(audits, true) : emptyState('No audits match.', html`Start <code>verity auditor</code>; it audits every node regularly.`)}`;
    return sendHtml(reply, page({ title: 'Audits', nav: 'audits', csrfToken: csrfOf(req), body }));
  });

  app.get<{ Params: { id: string }; Querystring: { queued?: string } }>('/audits/:id', async (req, reply) => {
    const audit = isUuid(req.params.id) ? await findAudit(deps.pool, req.params.id) : null;
    if (!audit) return notFound(reply, 'audit');
    const flash = req.query.queued === '1' ? 'Rescan queued: this page shows its result once the auditor has run it.' : null;
    return sendHtml(reply, auditPage(audit, await jsonEvidence(deps, audit), csrfOf(req), flash, await auditTrust(deps.pool, audit.id)));
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/audits/:id/rescan', async (req, reply) => {
    const auth = authOf(req);
    if (!auth || !csrfValid(req, auth, (req.body ?? {})._csrf)) return reply.code(403).send('bad CSRF token: reload the page and try again');
    const id = isUuid(req.params.id) ? await rescanAudit(deps, auth.actor, req.params.id) : null;
    if (!id) return notFound(reply, 'audit');
    return reply.code(303).header('location', `/audits/${id}?queued=1`).send();
  });
}
