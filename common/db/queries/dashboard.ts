import type { NodeStatus } from '../../domain/trust.js';
import type { Queryable } from '../pool.js';

// Read models for the admin API and the dashboard. Writes stay in their own query files.

export const auditVerdicts = ['pass', 'tampered', 'inconclusive', 'unreachable'] as const;
export type AuditVerdict = (typeof auditVerdicts)[number];

export interface FindingSummary {
  kind: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
  summary: string;
}

export interface AuditListItem {
  id: string;
  nodeId: string;
  nodeName: string;
  siteHost: string;
  url: string;
  reason: string;
  status: 'queued' | 'running' | 'done';
  verdict: AuditVerdict | null;
  startedAt: Date;
  finishedAt: Date | null;
  findings: FindingSummary[];
}

interface AuditRow {
  id: string;
  node_id: string;
  node_name: string;
  site_host: string;
  url: string;
  reason: string;
  status: AuditListItem['status'];
  verdict: AuditVerdict | null;
  started_at: Date;
  finished_at: Date | null;
  findings: FindingSummary[];
}

const auditSelect = `
  SELECT a.id, a.node_id, n.name AS node_name, s.host AS site_host, a.url, a.reason, a.status, a.verdict,
         COALESCE(a.started_at, a.created_at) AS started_at, a.finished_at,
         COALESCE((SELECT json_agg(json_build_object('kind', f.kind, 'severity', f.severity, 'summary', f.summary) ORDER BY f.id)
                     FROM findings f WHERE f.audit_id = a.id), '[]'::json) AS findings
    FROM audits a JOIN sites s ON s.id = a.site_id JOIN nodes n ON n.id = a.node_id`;

function toAudit(r: AuditRow): AuditListItem {
  return {
    id: r.id, nodeId: r.node_id, nodeName: r.node_name, siteHost: r.site_host, url: r.url, reason: r.reason, status: r.status,
    verdict: r.verdict, startedAt: r.started_at, finishedAt: r.finished_at, findings: r.findings,
  };
}

export interface AuditFilter {
  nodeId?: string | null;
  verdict?: AuditVerdict | null;
  limit: number;
  /** Queued and running audits too (the node page shows what is coming). */
  includePending?: boolean;
}

/** Newest first by the time shown as "started" (queued ones: when they were planned). */
export async function listAudits(db: Queryable, f: AuditFilter): Promise<AuditListItem[]> {
  const { rows } = await db.query<AuditRow>(
    `${auditSelect}
      WHERE ($1::boolean OR a.verdict IS NOT NULL) AND ($2::text IS NULL OR a.node_id = $2) AND ($3::text IS NULL OR a.verdict = $3)
      ORDER BY COALESCE(a.started_at, a.created_at) DESC, a.id LIMIT $4`,
    [f.includePending === true, f.nodeId ?? null, f.verdict ?? null, f.limit],
  );
  return rows.map(toAudit);
}

export interface Finding extends FindingSummary {
  detail: unknown;
}

export interface EvidenceMeta {
  id: string;
  kind: string;
  contentType: string;
  size: number;
  meta: unknown;
  createdAt: Date;
}

export interface AuditDetail extends AuditListItem {
  summary: unknown;
  findingsDetail: Finding[];
  evidence: EvidenceMeta[];
}

interface EvidenceMetaRow {
  id: string;
  kind: string;
  content_type: string;
  size: number;
  meta: unknown;
  created_at: Date;
}

const toEvidenceMeta = (r: EvidenceMetaRow): EvidenceMeta => ({ id: r.id, kind: r.kind, contentType: r.content_type, size: r.size, meta: r.meta, createdAt: r.created_at });

export async function findAudit(db: Queryable, id: string): Promise<AuditDetail | null> {
  const { rows } = await db.query<AuditRow & { summary: unknown }>(`${auditSelect.replace('a.finished_at,', 'a.finished_at, a.summary,')} WHERE a.id = $1`, [id]);
  const row = rows[0];
  if (!row) return null;
  const findings = await db.query<Finding>('SELECT kind, severity, summary, detail FROM findings WHERE audit_id = $1 ORDER BY id', [id]);
  const evidence = await db.query<EvidenceMetaRow>(
    'SELECT id, kind, content_type, octet_length(body) AS size, meta, created_at FROM evidence WHERE audit_id = $1 ORDER BY kind, created_at, id',
    [id],
  );
  return { ...toAudit(row), summary: row.summary, findingsDetail: findings.rows, evidence: evidence.rows.map(toEvidenceMeta) };
}

export interface EvidenceBlob {
  id: string;
  auditId: string | null;
  nodeId: string | null;
  kind: string;
  contentType: string;
  body: Buffer;
}

export async function getEvidence(db: Queryable, id: string): Promise<EvidenceBlob | null> {
  const { rows } = await db.query<{ id: string; audit_id: string | null; node_id: string | null; kind: string; content_type: string; body: Buffer }>(
    'SELECT id, audit_id, node_id, kind, content_type, body FROM evidence WHERE id = $1',
    [id],
  );
  const r = rows[0];
  return r ? { id: r.id, auditId: r.audit_id, nodeId: r.node_id, kind: r.kind, contentType: r.content_type, body: r.body } : null;
}

export interface NodeStrike extends EvidenceMeta {
  /** Small JSON bodies (the balancer's hash pairs), parsed; null when large or not JSON. */
  preview: unknown;
}

/** Inline strikes (audit_id null) against one node, newest first. */
export async function listNodeEvidence(db: Queryable, nodeId: string, limit = 20): Promise<NodeStrike[]> {
  const { rows } = await db.query<EvidenceMetaRow & { small: Buffer | null }>(
    `SELECT id, kind, content_type, octet_length(body) AS size, meta, created_at,
            CASE WHEN content_type LIKE 'application/json%' AND octet_length(body) <= 4096 THEN body END AS small
       FROM evidence WHERE node_id = $1 AND audit_id IS NULL ORDER BY created_at DESC, id LIMIT $2`,
    [nodeId, limit],
  );
  return rows.map((r) => ({ ...toEvidenceMeta(r), preview: parseSmallJson(r.small) }));
}

function parseSmallJson(body: Buffer | null): unknown {
  if (!body) return null;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

/** Queues a fresh audit of the same node and page; the auditor picks it up like any job. */
export async function queueRescan(db: Queryable, auditId: string, now: Date): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO audits (node_id, site_id, url, reason, run_after, created_at)
     SELECT node_id, site_id, url, 'rescan', $2, $2 FROM audits WHERE id = $1 RETURNING id`,
    [auditId, now],
  );
  return rows[0]?.id ?? null;
}

export interface OverviewStats {
  nodesByStatus: Record<NodeStatus, number>;
  /** Ten buckets of integrity: [0,0.1), [0.1,0.2) … [0.9,1]. */
  integrityBuckets: number[];
  auditsByVerdict: Record<AuditVerdict, number>;
  queuedAudits: number;
}

export async function overviewStats(db: Queryable, auditsSince: Date): Promise<OverviewStats> {
  const status = await db.query<{ status: NodeStatus; n: number }>('SELECT status, count(*)::int AS n FROM nodes GROUP BY status');
  const buckets = await db.query<{ b: number; n: number }>(
    'SELECT LEAST(width_bucket(integrity, 0, 1, 10), 10) AS b, count(*)::int AS n FROM nodes GROUP BY 1',
  );
  const verdicts = await db.query<{ verdict: AuditVerdict; n: number }>(
    'SELECT verdict, count(*)::int AS n FROM audits WHERE verdict IS NOT NULL AND created_at >= $1 GROUP BY verdict',
    [auditsSince],
  );
  const queued = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audits WHERE status <> 'done'");
  const nodesByStatus: Record<NodeStatus, number> = { probation: 0, active: 0, quarantined: 0, banned: 0, offline: 0 };
  for (const r of status.rows) nodesByStatus[r.status] = r.n;
  const integrityBuckets = Array.from({ length: 10 }, () => 0);
  for (const r of buckets.rows) integrityBuckets[Math.max(0, r.b - 1)] = r.n;
  const auditsByVerdict: Record<AuditVerdict, number> = { pass: 0, tampered: 0, inconclusive: 0, unreachable: 0 };
  for (const r of verdicts.rows) auditsByVerdict[r.verdict] = r.n;
  return { nodesByStatus, integrityBuckets, auditsByVerdict, queuedAudits: queued.rows[0]?.n ?? 0 };
}

export interface TamperFinding extends FindingSummary {
  auditId: string;
  nodeId: string;
  nodeName: string;
  siteHost: string;
  url: string;
  at: Date;
  /** How many findings the audit had in all (this one is the worst). */
  findingCount: number;
}

/** The latest tampered audits, one row each, carrying their worst finding. */
export async function latestTamperFindings(db: Queryable, limit: number): Promise<TamperFinding[]> {
  const { rows } = await db.query<{
    audit_id: string; node_id: string; node_name: string; site_host: string; url: string; at: Date; kind: string | null;
    severity: FindingSummary['severity'] | null; summary: string | null; finding_count: number;
  }>(
    `SELECT a.id AS audit_id, a.node_id, n.name AS node_name, s.host AS site_host, a.url, COALESCE(a.finished_at, a.created_at) AS at,
            w.kind, w.severity, w.summary, (SELECT count(*)::int FROM findings f WHERE f.audit_id = a.id) AS finding_count
       FROM audits a JOIN nodes n ON n.id = a.node_id JOIN sites s ON s.id = a.site_id
       LEFT JOIN LATERAL (
         SELECT f.kind, f.severity, f.summary FROM findings f WHERE f.audit_id = a.id
          ORDER BY array_position(ARRAY['critical','high','medium','low'], f.severity), f.id LIMIT 1) w ON true
      WHERE a.verdict = 'tampered' ORDER BY a.created_at DESC, a.id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    auditId: r.audit_id, nodeId: r.node_id, nodeName: r.node_name, siteHost: r.site_host, url: r.url, at: r.at,
    kind: r.kind ?? 'tampered', severity: r.severity ?? 'high', summary: r.summary ?? 'tampered (no finding recorded)', findingCount: r.finding_count,
  }));
}
