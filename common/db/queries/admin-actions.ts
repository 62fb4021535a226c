import type { TrustEventKind } from '../../domain/trust.js';
import { VerityError } from '../../errors.js';
import type { Pool, Queryable } from '../pool.js';
import { recordTrustEvent } from './trust.js';

export const nodeActions = ['quarantine', 'reinstate', 'ban'] as const;
export type NodeAction = (typeof nodeActions)[number];

const eventFor: Record<NodeAction, TrustEventKind> = { quarantine: 'admin_quarantine', reinstate: 'admin_reinstate', ban: 'admin_ban' };

export interface AdminActionRecord {
  id: number;
  at: Date;
  actor: string;
  action: string;
  targetKind: string;
  targetId: string;
  reason: string;
}

export async function logAdminAction(db: Queryable, a: { actor: string; action: string; targetKind: string; targetId: string; reason?: string; detail?: unknown }): Promise<void> {
  await db.query(
    'INSERT INTO admin_actions (actor, action, target_kind, target_id, reason, detail) VALUES ($1, $2, $3, $4, $5, $6)',
    [a.actor, a.action, a.targetKind, a.targetId, a.reason ?? '', JSON.stringify(a.detail ?? {})],
  );
}

/** Quarantine, reinstate or ban a node: a trust event (so balancers hear of it) plus the admin log. */
export async function applyNodeAction(pool: Pool, nodeId: string, action: NodeAction, reason: string, actor: string, now = new Date()) {
  // The volunteer is shown why, and the admin log is only worth reading with one: every way in
  // (CLI, admin API, dashboard) ends here, so the rule holds for all of them.
  if (reason.trim() === '') throw new VerityError('ADMIN_ERR_NO_REASON', `${action} needs a reason (it is shown to the volunteer and kept in the admin log)`);
  const exists = await pool.query('SELECT 1 FROM nodes WHERE id = $1', [nodeId]);
  if (exists.rowCount === 0) throw new VerityError('NODE_ERR_UNKNOWN', `no node has id ${nodeId}`);
  const state = await recordTrustEvent(pool, nodeId, { kind: eventFor[action], reason: reason.trim(), actor }, now);
  await logAdminAction(pool, { actor, action: `node.${action}`, targetKind: 'node', targetId: nodeId, reason: reason.trim() });
  return state;
}

export async function listAdminActions(db: Queryable, limit = 200): Promise<AdminActionRecord[]> {
  const { rows } = await db.query<{ id: number; at: Date; actor: string; action: string; target_kind: string; target_id: string; reason: string }>(
    'SELECT id, at, actor, action, target_kind, target_id, reason FROM admin_actions ORDER BY at DESC, id DESC LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, targetKind: r.target_kind, targetId: r.target_id, reason: r.reason }));
}
