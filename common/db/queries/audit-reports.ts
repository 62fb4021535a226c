import type { Queryable } from '../pool.js';
import type { AuditVerdict } from './audits.js';

// Reading audits back: what the admin API and the dashboard show.

export interface AuditReport {
  id: string;
  nodeId: string;
  siteHost: string;
  url: string;
  reason: string;
  status: string;
  verdict: AuditVerdict | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  summary: Record<string, unknown>;
  findings: Array<{ kind: string; severity: string; summary: string; detail: unknown }>;
  evidence: Array<{ id: string; kind: string; contentType: string; size: number }>;
}

export async function listAuditReports(db: Queryable, filter: { nodeId?: string; verdict?: AuditVerdict; limit?: number } = {}): Promise<AuditReport[]> {
  const { rows } = await db.query<{
    id: string; node_id: string; host: string; url: string; reason: string; status: string; verdict: AuditVerdict | null;
    started_at: Date | null; finished_at: Date | null; summary: Record<string, unknown>; findings: AuditReport['findings'] | null; evidence: AuditReport['evidence'] | null;
  }>(
    `SELECT a.id, a.node_id, s.host, a.url, a.reason, a.status, a.verdict, a.started_at, a.finished_at, a.summary,
            (SELECT json_agg(json_build_object('kind', f.kind, 'severity', f.severity, 'summary', f.summary, 'detail', f.detail) ORDER BY f.id) FROM findings f WHERE f.audit_id = a.id) AS findings,
            (SELECT json_agg(json_build_object('id', e.id, 'kind', e.kind, 'contentType', e.content_type, 'size', octet_length(e.body)) ORDER BY e.created_at) FROM evidence e WHERE e.audit_id = a.id) AS evidence
       FROM audits a JOIN sites s ON s.id = a.site_id
      WHERE a.status = 'done' AND ($1::text IS NULL OR a.node_id = $1) AND ($2::text IS NULL OR a.verdict = $2)
      ORDER BY a.finished_at DESC NULLS LAST LIMIT $3`,
    [filter.nodeId ?? null, filter.verdict ?? null, filter.limit ?? 100],
  );
  return rows.map((r) => ({
    id: r.id, nodeId: r.node_id, siteHost: r.host, url: r.url, reason: r.reason, status: r.status, verdict: r.verdict,
    startedAt: r.started_at, finishedAt: r.finished_at, summary: r.summary, findings: r.findings ?? [], evidence: r.evidence ?? [],
  }));
}

export async function getEvidence(db: Queryable, id: string): Promise<{ id: string; auditId: string | null; kind: string; contentType: string; body: Buffer } | null> {
  const { rows } = await db.query<{ id: string; audit_id: string | null; kind: string; content_type: string; body: Buffer }>(
    'SELECT id, audit_id, kind, content_type, body FROM evidence WHERE id = $1', [id]);
  const r = rows[0];
  return r ? { id: r.id, auditId: r.audit_id, kind: r.kind, contentType: r.content_type, body: r.body } : null;
}
