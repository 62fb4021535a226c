import { applyTrustEvent, defaultTrustPolicy, score, type NodeStatus, type TrustEvent, type TrustPolicy, type TrustState } from '../../domain/trust.js';
import { VerityError } from '../../errors.js';
import { loadTrustPolicy } from './trust-policy.js';
import type { Pool, Queryable } from '../pool.js';
import { withTransaction } from '../pool.js';

/** Channel every balancer LISTENs on; the payload is the node id whose row changed. */
export const NODE_CHANGED_CHANNEL = 'verity_node_changed';

export interface TrustEventInput extends TrustEvent {
  reason: string;
  auditId?: string | null;
  evidenceId?: string | null;
  actor?: string;
}

export interface TrustEventRecord {
  at: Date;
  kind: string;
  integrityAfter: number;
  availabilityAfter: number;
  statusAfter: NodeStatus;
  reason: string;
  auditId: string | null;
  evidenceId: string | null;
  actor: string;
}

interface NodeTrustRow {
  integrity_alpha: number;
  integrity_beta: number;
  availability_alpha: number;
  availability_beta: number;
  status: NodeStatus;
  clean_audit_streak: number;
  trust_updated_at: Date;
}

function toState(r: NodeTrustRow): TrustState {
  return {
    integrity: { alpha: r.integrity_alpha, beta: r.integrity_beta },
    availability: { alpha: r.availability_alpha, beta: r.availability_beta },
    status: r.status,
    cleanAuditStreak: r.clean_audit_streak,
    updatedAt: r.trust_updated_at,
  };
}

/**
 * Applies one trust event: the node row is locked, the pure trust step computed, the event
 * appended, and every balancer told (pg_notify is delivered on commit).
 */
export async function recordTrustEvent(pool: Pool, nodeId: string, input: TrustEventInput, now = new Date(), givenPolicy?: TrustPolicy): Promise<TrustState> {
  return withTransaction(pool, async (client) => {
    // Every writer (auditor, balancer strikes, admin actions) applies the same policy: the
    // settings override when one is stored and valid, else the defaults.
    const policy = givenPolicy ?? (await loadTrustPolicy(client).catch(() => defaultTrustPolicy));
    const { rows } = await client.query<NodeTrustRow>(
      `SELECT integrity_alpha, integrity_beta, availability_alpha, availability_beta, status, clean_audit_streak, trust_updated_at
         FROM nodes WHERE id = $1 FOR UPDATE`,
      [nodeId],
    );
    const row = rows[0];
    if (!row) throw new VerityError('NODE_ERR_UNKNOWN', `no node has id ${nodeId}`);
    const next = applyTrustEvent(toState(row), input, now, policy);
    await client.query(
      `UPDATE nodes SET integrity_alpha = $2, integrity_beta = $3, availability_alpha = $4, availability_beta = $5,
              integrity = $6, availability = $7, status = $8, clean_audit_streak = $9, trust_updated_at = $10
        WHERE id = $1`,
      [nodeId, next.integrity.alpha, next.integrity.beta, next.availability.alpha, next.availability.beta,
        score(next.integrity), score(next.availability), next.status, next.cleanAuditStreak, now],
    );
    await insertTrustEventRow(client, nodeId, input, next, now);
    await client.query('SELECT pg_notify($1, $2)', [NODE_CHANGED_CHANNEL, nodeId]);
    return next;
  });
}

async function insertTrustEventRow(db: Queryable, nodeId: string, input: TrustEventInput, state: TrustState, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO trust_events (node_id, at, kind, integrity_after, availability_after, status_after, reason, audit_id, evidence_id, actor, confirmation)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [nodeId, now, input.kind, score(state.integrity), score(state.availability), state.status, input.reason,
      input.auditId ?? null, input.evidenceId ?? null, input.actor ?? 'system', input.confirmation ?? null],
  );
}

export async function listTrustEvents(db: Queryable, nodeId: string, limit = 1000): Promise<TrustEventRecord[]> {
  const { rows } = await db.query<{
    at: Date; kind: string; integrity_after: number; availability_after: number; status_after: NodeStatus;
    reason: string; audit_id: string | null; evidence_id: string | null; actor: string;
  }>(
    `SELECT at, kind, integrity_after, availability_after, status_after, reason, audit_id, evidence_id, actor
       FROM trust_events WHERE node_id = $1 ORDER BY at, id LIMIT $2`,
    [nodeId, limit],
  );
  return rows.map((r) => ({
    at: r.at, kind: r.kind, integrityAfter: r.integrity_after, availabilityAfter: r.availability_after, statusAfter: r.status_after,
    reason: r.reason, auditId: r.audit_id, evidenceId: r.evidence_id, actor: r.actor,
  }));
}
