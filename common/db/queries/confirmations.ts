import type { Queryable } from '../pool.js';

// Confirmation audits (issue 14): queued after a tamper verdict that is not unambiguous; once one
// repeats the verdict, the original is marked confirmed and the rest are dropped.

/** The visitor an audit presented itself as (summary.visitor), so a confirmation can present another. */
export async function auditVisitor(db: Queryable, auditId: string): Promise<{ family: string | null; language: string | null }> {
  const { rows } = await db.query<{ family: string | null; language: string | null }>(
    "SELECT summary->'visitor'->>'family' AS family, summary->'visitor'->>'language' AS language FROM audits WHERE id = $1",
    [auditId],
  );
  return rows[0] ?? { family: null, language: null };
}

/** Marks the original confirmed and drops its confirmations still queued. Returns how many were dropped. */
export async function markConfirmed(db: Queryable, originalAuditId: string): Promise<number> {
  await db.query("UPDATE audits SET confirmation = 'confirmed' WHERE id = $1 AND verdict = 'tampered'", [originalAuditId]);
  const r = await db.query("DELETE FROM audits WHERE confirms_audit_id = $1 AND status = 'queued'", [originalAuditId]);
  return r.rowCount ?? 0;
}

export interface ConfirmationRow {
  id: string;
  verdict: string | null;
  status: string;
  finishedAt: Date | null;
}

/** The confirmation audits of one audit, oldest first (for the audit report). */
export async function listConfirmations(db: Queryable, auditId: string): Promise<ConfirmationRow[]> {
  const { rows } = await db.query<{ id: string; verdict: string | null; status: string; finished_at: Date | null }>(
    'SELECT id, verdict, status, finished_at FROM audits WHERE confirms_audit_id = $1 ORDER BY created_at, id',
    [auditId],
  );
  return rows.map((r) => ({ id: r.id, verdict: r.verdict, status: r.status, finishedAt: r.finished_at }));
}

export interface AuditTrust {
  confirmation: string | null;
  /** For a confirmation audit: the audit it re-tested. */
  confirmsAuditId: string | null;
  confirmations: ConfirmationRow[];
  /** The trust event this audit caused, if any. */
  event: { kind: string; confirmation: string | null; integrityAfter: number; statusAfter: string } | null;
}

/** How sure an audit's verdict is and what it did to the node's trust (the audit report). */
export async function auditTrust(db: Queryable, auditId: string): Promise<AuditTrust> {
  const a = await db.query<{ confirmation: string | null; confirms_audit_id: string | null }>('SELECT confirmation, confirms_audit_id FROM audits WHERE id = $1', [auditId]);
  const e = await db.query<{ kind: string; confirmation: string | null; integrity_after: number; status_after: string }>(
    'SELECT kind, confirmation, integrity_after, status_after FROM trust_events WHERE audit_id = $1 ORDER BY at, id LIMIT 1',
    [auditId],
  );
  const ev = e.rows[0];
  return {
    confirmation: a.rows[0]?.confirmation ?? null,
    confirmsAuditId: a.rows[0]?.confirms_audit_id ?? null,
    confirmations: await listConfirmations(db, auditId),
    event: ev ? { kind: ev.kind, confirmation: ev.confirmation, integrityAfter: ev.integrity_after, statusAfter: ev.status_after } : null,
  };
}
