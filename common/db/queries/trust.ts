import { applyTrustEvent, defaultTrustPolicy, integrityFailure, score, type Confirmation, type NodeStatus, type TrustEvent, type TrustPolicy, type TrustState } from '../../domain/trust.js';
import { VerityError } from '../../errors.js';
import { linkedNodes } from './node-links.js';
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
  /** Set on the copies a linked node receives: the node the event happened to. */
  viaNode?: string | null;
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
  confirmation: Confirmation | null;
  viaNode: string | null;
}

interface NodeTrustRow {
  id: string;
  integrity_alpha: number;
  integrity_beta: number;
  availability_alpha: number;
  availability_beta: number;
  status: NodeStatus;
  clean_audit_streak: number;
  proven_failures: number;
  trust_updated_at: Date;
}

function toState(r: NodeTrustRow): TrustState {
  return {
    integrity: { alpha: r.integrity_alpha, beta: r.integrity_beta },
    availability: { alpha: r.availability_alpha, beta: r.availability_beta },
    status: r.status,
    cleanAuditStreak: r.clean_audit_streak,
    provenFailures: r.proven_failures,
    updatedAt: r.trust_updated_at,
  };
}

/**
 * Applies one trust event: the node row is locked, the pure trust step computed, the event
 * appended, and every balancer told (pg_notify is delivered on commit). Penalties reach the
 * nodes linked to it too (applyTrustEventIn).
 */
export async function recordTrustEvent(pool: Pool, nodeId: string, input: TrustEventInput, now = new Date(), givenPolicy?: TrustPolicy): Promise<TrustState> {
  return withTransaction(pool, async (client) => {
    // Every writer (auditor, balancer strikes, admin actions) applies the same policy: the
    // settings override when one is stored and valid, else the defaults.
    const policy = givenPolicy ?? (await loadTrustPolicy(client).catch(() => defaultTrustPolicy));
    return applyTrustEventIn(client, nodeId, input, now, policy);
  });
}

/** Penalties and quarantines apply to the linked group; good news and availability are the node's own. */
function spreadsToGroup(input: TrustEventInput, policy: TrustPolicy): boolean {
  if (input.viaNode) return false;
  return input.kind === 'admin_quarantine' || input.kind === 'admin_ban' || integrityFailure(input, policy).weight > 0;
}

async function lockStates(db: Queryable, ids: string[]): Promise<Map<string, TrustState>> {
  // One statement, rows locked in id order: two events on linked nodes at once cannot deadlock.
  const { rows } = await db.query<NodeTrustRow>(
    `SELECT id, integrity_alpha, integrity_beta, availability_alpha, availability_beta, status, clean_audit_streak, proven_failures, trust_updated_at
       FROM nodes WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, toState(r)]));
}

/** Inside a transaction: the event on the node, then (for penalties) on every node linked to it. */
export async function applyTrustEventIn(db: Queryable, nodeId: string, input: TrustEventInput, now: Date, policy: TrustPolicy): Promise<TrustState> {
  const links = spreadsToGroup(input, policy) ? await linkedNodes(db, nodeId, now) : [];
  const states = await lockStates(db, [nodeId, ...links.map((l) => l.nodeId)].sort());
  const mine = states.get(nodeId);
  if (!mine) throw new VerityError('NODE_ERR_UNKNOWN', `no node has id ${nodeId}`);
  const next = await step(db, nodeId, mine, input, now, policy);
  const quarantinedNow = next.status === 'quarantined' && mine.status !== 'quarantined';
  for (const link of links) {
    const state = states.get(link.nodeId);
    if (!state) continue;
    const copy: TrustEventInput = { ...input, viaNode: nodeId, reason: `linked to node ${nodeId} (shared ${link.via}): ${input.reason}`.slice(0, 1000) };
    const after = await step(db, link.nodeId, state, copy, now, policy);
    if (quarantinedNow && after.status !== 'quarantined' && after.status !== 'banned') {
      await step(db, link.nodeId, after, { kind: 'linked_quarantine', reason: `linked to node ${nodeId} (shared ${link.via}), which was quarantined`, viaNode: nodeId, actor: input.actor }, now, policy);
    }
  }
  return next;
}

async function step(db: Queryable, nodeId: string, state: TrustState, input: TrustEventInput, now: Date, policy: TrustPolicy): Promise<TrustState> {
  const next = applyTrustEvent(state, input, now, policy);
  await db.query(
    `UPDATE nodes SET integrity_alpha = $2, integrity_beta = $3, availability_alpha = $4, availability_beta = $5,
            integrity = $6, availability = $7, status = $8, clean_audit_streak = $9, trust_updated_at = $10, proven_failures = $11
      WHERE id = $1`,
    [nodeId, next.integrity.alpha, next.integrity.beta, next.availability.alpha, next.availability.beta,
      score(next.integrity), score(next.availability), next.status, next.cleanAuditStreak, now, next.provenFailures],
  );
  await insertTrustEventRow(db, nodeId, input, next, now);
  await db.query('SELECT pg_notify($1, $2)', [NODE_CHANGED_CHANNEL, nodeId]);
  return next;
}

async function insertTrustEventRow(db: Queryable, nodeId: string, input: TrustEventInput, state: TrustState, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO trust_events (node_id, at, kind, integrity_after, availability_after, status_after, reason, audit_id, evidence_id, actor, confirmation, via_node)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [nodeId, now, input.kind, score(state.integrity), score(state.availability), state.status, input.reason,
      input.auditId ?? null, input.evidenceId ?? null, input.actor ?? 'system', input.confirmation ?? null, input.viaNode ?? null],
  );
}

export async function listTrustEvents(db: Queryable, nodeId: string, limit = 1000): Promise<TrustEventRecord[]> {
  const { rows } = await db.query<{
    at: Date; kind: string; integrity_after: number; availability_after: number; status_after: NodeStatus;
    reason: string; audit_id: string | null; evidence_id: string | null; actor: string; confirmation: Confirmation | null; via_node: string | null;
  }>(
    `SELECT at, kind, integrity_after, availability_after, status_after, reason, audit_id, evidence_id, actor, confirmation, via_node
       FROM trust_events WHERE node_id = $1 ORDER BY at, id LIMIT $2`,
    [nodeId, limit],
  );
  return rows.map((r) => ({
    at: r.at, kind: r.kind, integrityAfter: r.integrity_after, availabilityAfter: r.availability_after, statusAfter: r.status_after,
    reason: r.reason, auditId: r.audit_id, evidenceId: r.evidence_id, actor: r.actor, confirmation: r.confirmation, viaNode: r.via_node,
  }));
}
