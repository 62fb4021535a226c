import type { Confirmation, NodeStatus, Severity } from '../../domain/trust.js';
import type { Pool, Queryable } from '../pool.js';
import { withTransaction } from '../pool.js';

// Audits are both the job queue (status, run_after; claimed FOR UPDATE SKIP LOCKED by any number
// of auditor processes) and the result (verdict, findings, evidence).

export type AuditVerdict = 'pass' | 'tampered' | 'inconclusive' | 'unreachable';

export interface NewAudit {
  nodeId: string;
  siteId: string;
  url: string;
  reason: 'scheduled' | 'probation' | 'shadow' | 'rescan' | 'admin' | 'confirm';
  runAfter: Date;
  /** For reason 'confirm': the tamper verdict this audit re-tests. */
  confirmsAuditId?: string | null;
}

/** Inserts a job; a second pending scheduled audit for the same node and site is silently skipped. */
export async function enqueueAudit(db: Queryable, a: NewAudit): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO audits (node_id, site_id, url, reason, run_after, confirms_audit_id) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING id`,
    [a.nodeId, a.siteId, a.url, a.reason, a.runAfter, a.confirmsAuditId ?? null],
  );
  return rows[0]?.id ?? null;
}

export interface ClaimedAudit {
  id: string;
  nodeId: string;
  siteId: string;
  url: string;
  reason: string;
  attempts: number;
  siteHost: string;
  originUrl: string;
  nodeUrl: string;
  nodeStatus: NodeStatus;
  /** For confirmation audits: the audit re-tested. */
  confirmsAuditId: string | null;
}

/** Takes up to `limit` due jobs for this worker; concurrent workers never get the same one. */
export async function claimAudits(db: Queryable, worker: string, limit: number, now = new Date()): Promise<ClaimedAudit[]> {
  const { rows } = await db.query<{
    id: string; node_id: string; site_id: string; url: string; reason: string; attempts: number; host: string; origin: string; public_url: string; status: NodeStatus;
    confirms_audit_id: string | null;
  }>(
    `WITH due AS (
       SELECT id FROM audits WHERE status = 'queued' AND run_after <= $3 ORDER BY run_after LIMIT $2 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE audits a SET status = 'running', started_at = $3, worker = $1, attempts = a.attempts + 1
         FROM due WHERE a.id = due.id
       RETURNING a.id, a.node_id, a.site_id, a.url, a.reason, a.attempts, a.confirms_audit_id
     )
     SELECT c.*, s.host, s.origin, n.public_url, n.status
       FROM claimed c JOIN sites s ON s.id = c.site_id JOIN nodes n ON n.id = c.node_id`,
    [worker, limit, now],
  );
  return rows.map((r) => ({
    id: r.id, nodeId: r.node_id, siteId: r.site_id, url: r.url, reason: r.reason, attempts: r.attempts,
    siteHost: r.host, originUrl: r.origin, nodeUrl: r.public_url, nodeStatus: r.status, confirmsAuditId: r.confirms_audit_id,
  }));
}

export interface FindingInput {
  kind: string;
  severity: Severity;
  summary: string;
  detail?: unknown;
}

export interface EvidenceInput {
  kind: string;
  contentType: string;
  body: Buffer;
  meta?: unknown;
}

export interface AuditOutcome {
  verdict: AuditVerdict;
  summary: Record<string, unknown>;
  findings: FindingInput[];
  evidence: EvidenceInput[];
  /** For tamper verdicts: how sure (issue 14). */
  confirmation?: Confirmation | null;
}

/** Stores the verdict, findings and evidence of a running audit at once. Returns the evidence ids by kind. */
export async function finishAudit(pool: Pool, auditId: string, outcome: AuditOutcome, now = new Date()): Promise<Record<string, string>> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ node_id: string }>(
      `UPDATE audits SET status = 'done', verdict = $2, summary = $3, finished_at = $4, confirmation = $5 WHERE id = $1 RETURNING node_id`,
      [auditId, outcome.verdict, JSON.stringify(outcome.summary), now, outcome.confirmation ?? null],
    );
    const nodeId = rows[0]?.node_id ?? null;
    for (const f of outcome.findings) {
      await client.query('INSERT INTO findings (audit_id, kind, severity, summary, detail) VALUES ($1, $2, $3, $4, $5)',
        [auditId, f.kind, f.severity, f.summary, JSON.stringify(f.detail ?? {})]);
    }
    const ids: Record<string, string> = {};
    for (const e of outcome.evidence) {
      const r = await client.query<{ id: string }>(
        'INSERT INTO evidence (audit_id, node_id, kind, content_type, body, meta) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [auditId, nodeId, e.kind, e.contentType, e.body, JSON.stringify(e.meta ?? {})],
      );
      ids[e.kind] = r.rows[0]?.id ?? '';
    }
    return ids;
  });
}

/** Jobs whose worker died: back to the queue, or done as inconclusive after `maxAttempts`. */
export async function requeueStaleAudits(db: Queryable, staleAfterMs: number, maxAttempts: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - staleAfterMs);
  const back = await db.query(`UPDATE audits SET status = 'queued', run_after = $2 WHERE status = 'running' AND started_at < $1 AND attempts < $3`, [cutoff, now, maxAttempts]);
  const given = await db.query(
    `UPDATE audits SET status = 'done', verdict = 'inconclusive', finished_at = $2, summary = summary || '{"reason":"worker lost the job too often"}'
      WHERE status = 'running' AND started_at < $1 AND attempts >= $3`,
    [cutoff, now, maxAttempts],
  );
  return (back.rowCount ?? 0) + (given.rowCount ?? 0);
}

export interface AuditPlanRow {
  nodeId: string;
  siteId: string;
  siteHost: string;
  originUrl: string;
  status: NodeStatus;
  integrity: number;
  cleanAuditStreak: number;
  lastAuditAt: Date | null;
  pending: boolean;
}

/** Every (node, site) pair that can be audited, with when it last was and whether one is pending. */
export async function listAuditPlan(db: Queryable): Promise<AuditPlanRow[]> {
  const { rows } = await db.query<{
    node_id: string; site_id: string; host: string; origin: string; status: NodeStatus; integrity: number; clean_audit_streak: number; last_at: Date | null; pending: boolean;
  }>(
    `SELECT ns.node_id, ns.site_id, s.host, s.origin, n.status, n.integrity, n.clean_audit_streak,
            (SELECT max(a.finished_at) FROM audits a WHERE a.node_id = ns.node_id AND a.site_id = ns.site_id AND a.status = 'done') AS last_at,
            EXISTS (SELECT 1 FROM audits a WHERE a.node_id = ns.node_id AND a.site_id = ns.site_id AND a.status <> 'done' AND a.reason IN ('scheduled', 'probation')) AS pending
       FROM node_sites ns JOIN nodes n ON n.id = ns.node_id JOIN sites s ON s.id = ns.site_id
      WHERE n.status NOT IN ('banned', 'offline')`,
  );
  return rows.map((r) => ({
    nodeId: r.node_id, siteId: r.site_id, siteHost: r.host, originUrl: r.origin, status: r.status, integrity: r.integrity,
    cleanAuditStreak: r.clean_audit_streak, lastAuditAt: r.last_at, pending: r.pending,
  }));
}

/** The pages visitors ask for most on a site. */
export async function listUrlSamples(db: Queryable, siteId: string, limit = 200): Promise<Array<{ path: string; hits: number }>> {
  const { rows } = await db.query<{ path: string; hits: number }>('SELECT path, hits FROM url_samples WHERE site_id = $1 ORDER BY hits DESC LIMIT $2', [siteId, limit]);
  return rows;
}

/** How long the oldest due audit has been waiting (0 when the queue keeps up). */
export async function auditQueueLagMs(db: Queryable, now = new Date()): Promise<number> {
  const { rows } = await db.query<{ oldest: Date | null }>("SELECT min(run_after) AS oldest FROM audits WHERE status = 'queued' AND run_after <= $1", [now]);
  const oldest = rows[0]?.oldest;
  return oldest ? Math.max(0, now.getTime() - oldest.getTime()) : 0;
}
