import type { NodeStatus } from '../../domain/trust.js';
import type { Pool, Queryable } from '../pool.js';
import { withTransaction } from '../pool.js';
import { consumeJoinToken, hashToken } from './tokens.js';
import { NODE_CHANGED_CHANNEL } from './trust.js';

// Enrollment and liveness of volunteer nodes: what the node API (balancer/control/node-api.ts)
// and the offline sweeper need. Scores and status are only ever moved by recordTrustEvent.

export interface NodeAuth {
  id: string;
  publicKey: string;
  status: NodeStatus;
  heartbeatCounter: number;
}

export async function findNodeAuth(db: Queryable, nodeId: string): Promise<NodeAuth | null> {
  const { rows } = await db.query<{ id: string; public_key: string; status: NodeStatus; heartbeat_counter: number }>(
    'SELECT id, public_key, status, heartbeat_counter FROM nodes WHERE id = $1',
    [nodeId],
  );
  const r = rows[0];
  return r ? { id: r.id, publicKey: r.public_key, status: r.status, heartbeatCounter: r.heartbeat_counter } : null;
}

/**
 * What a registration's credential amounts to, checked before the costlier steps (DNS of the
 * public URL): a known node (and whether it is banned), else whether its token is usable. Spends nothing.
 */
export async function registrationCredential(db: Queryable, nodeId: string, token: string | undefined, now: Date): Promise<'known' | 'banned' | 'token' | 'none'> {
  const { rows } = await db.query<{ status: NodeStatus | null; token_ok: boolean }>(
    `SELECT (SELECT status FROM nodes WHERE id = $1) AS status,
            EXISTS (SELECT 1 FROM join_tokens WHERE token_hash = $2 AND uses_count < uses_allowed AND revoked_at IS NULL AND expires_at > $3) AS token_ok`,
    [nodeId, token === undefined ? null : hashToken(token), now],
  );
  const r = rows[0];
  if (r?.status === 'banned') return 'banned';
  if (r?.status) return 'known';
  return r?.token_ok ? 'token' : 'none';
}

export interface RegistrationInput {
  nodeId: string;
  publicKey: string;
  name: string;
  publicUrl: string;
  location: { lat: number; lon: number } | null;
  token: string | undefined;
  registeredIp: string | null;
  subnet: string | null;
  now: Date;
}

export type RegistrationOutcome =
  | { kind: 'created' | 'updated'; siteId: string | null }
  | { kind: 'token_rejected' }
  | { kind: 'token_required' }
  | { kind: 'banned' };

/**
 * Enrolls a new node or updates a known one, in one transaction: the join token is spent
 * (atomically: of two concurrent uses of a one-use token exactly one wins) only when the
 * whole registration commits. A banned node spends nothing.
 */
export async function registerNode(pool: Pool, input: RegistrationInput): Promise<RegistrationOutcome> {
  return withTransaction(pool, async (client) => {
    const existing = await client.query<{ status: NodeStatus }>('SELECT status FROM nodes WHERE id = $1 FOR UPDATE', [input.nodeId]);
    const known = existing.rows[0];
    if (known?.status === 'banned') return { kind: 'banned' };
    if (!known && input.token === undefined) return { kind: 'token_required' };
    let siteId: string | null = null;
    if (input.token !== undefined) {
      const token = await consumeJoinToken(client, input.token, input.now);
      if (!token) return { kind: 'token_rejected' };
      siteId = token.siteId;
    }
    const lat = input.location?.lat ?? null;
    const lon = input.location?.lon ?? null;
    await client.query(
      `INSERT INTO nodes (id, name, public_key, public_url, declared_lat, declared_lon, registered_ip, subnet, last_seen_at, trust_updated_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, public_url = EXCLUDED.public_url, declared_lat = EXCLUDED.declared_lat,
         declared_lon = EXCLUDED.declared_lon, registered_ip = EXCLUDED.registered_ip, subnet = EXCLUDED.subnet,
         last_seen_at = EXCLUDED.last_seen_at, draining = false`,
      [input.nodeId, input.name, input.publicKey, input.publicUrl, lat, lon, input.registeredIp, input.subnet, input.now],
    );
    if (siteId) {
      await client.query('INSERT INTO node_sites (node_id, site_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [input.nodeId, siteId, input.now]);
    }
    await client.query('SELECT pg_notify($1, $2)', [NODE_CHANGED_CHANNEL, input.nodeId]);
    return { kind: known ? 'updated' : 'created', siteId };
  });
}

/**
 * Accepts a heartbeat's counter and figures only if the counter is above the stored one and the
 * node is not banned: the single UPDATE makes a replayed or raced counter lose. Returns the
 * status, or null when refused (findNodeAuth then tells why).
 */
export async function acceptHeartbeat(db: Queryable, h: { nodeId: string; counter: number; figures: unknown; now: Date }): Promise<{ status: NodeStatus } | null> {
  const { rows } = await db.query<{ status: NodeStatus }>(
    `UPDATE nodes SET heartbeat_counter = $2, last_heartbeat = $3, last_seen_at = $4
      WHERE id = $1 AND heartbeat_counter < $2 AND status <> 'banned' RETURNING status`,
    [h.nodeId, h.counter, JSON.stringify(h.figures), h.now],
  );
  return rows[0] ?? null;
}

/** Marks a node as draining (no new traffic) under the same counter rule as heartbeats. */
export async function markDraining(pool: Pool, d: { nodeId: string; counter: number; now: Date }): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      "UPDATE nodes SET draining = true, heartbeat_counter = $2, last_seen_at = $3 WHERE id = $1 AND heartbeat_counter < $2 AND status <> 'banned'",
      [d.nodeId, d.counter, d.now],
    );
    if ((rowCount ?? 0) === 0) return false;
    await client.query('SELECT pg_notify($1, $2)', [NODE_CHANGED_CHANNEL, d.nodeId]);
    return true;
  });
}

export interface NodeStandingRow {
  nodeId: string;
  status: NodeStatus;
  draining: boolean;
  integrity: number;
  availability: number;
  heartbeatCounter: number;
  sites: { host: string; origin: string }[];
  penalties: PenaltyRecord[];
}

// Events that are good news even when decay toward the prior nudges a high score down.
const positiveKinds = ['registered', 'audit_pass', 'health_ok', 'heartbeat_resumed', 'admin_reinstate'];

/** Trust events of node $1 that lowered a score or worsened the status, newest first, at most $2. */
const penaltiesSql = `
  SELECT id, at, kind, reason, status_after, integrity_after, availability_after FROM (
    SELECT id, at, kind, reason, status_after, integrity_after, availability_after,
           LAG(integrity_after, 1, 0.5::double precision) OVER w AS prev_i,
           LAG(availability_after, 1, 0.5::double precision) OVER w AS prev_a,
           LAG(status_after, 1, 'probation') OVER w AS prev_s
      FROM trust_events WHERE node_id = $1 WINDOW w AS (ORDER BY at, id)) e
   WHERE NOT (kind = ANY($3::text[]))
     AND (integrity_after < prev_i - 1e-9 OR availability_after < prev_a - 1e-9
          OR (status_after <> prev_s AND status_after IN ('quarantined', 'banned', 'offline')))
   ORDER BY at DESC, id DESC LIMIT $2`;

interface PenaltyRow {
  at: Date | string;
  kind: string;
  reason: string;
  status_after: NodeStatus;
  integrity_after: number;
  availability_after: number;
}

function toPenalty(r: PenaltyRow): PenaltyRecord {
  return { at: new Date(r.at), kind: r.kind, reason: r.reason, statusAfter: r.status_after, integrityAfter: r.integrity_after, availabilityAfter: r.availability_after };
}

/** Everything a node is told about itself, in one round trip (it runs on every heartbeat). */
export async function loadStanding(db: Queryable, nodeId: string, penaltyLimit = 50): Promise<NodeStandingRow | null> {
  const { rows } = await db.query<{ id: string; status: NodeStatus; draining: boolean; integrity: number; availability: number; heartbeat_counter: number; sites: { host: string; origin: string }[]; penalties: PenaltyRow[] }>(
    `SELECT n.id, n.status, n.draining, n.integrity, n.availability, n.heartbeat_counter,
            COALESCE((SELECT json_agg(json_build_object('host', s.host, 'origin', s.origin) ORDER BY s.host)
                        FROM node_sites ns JOIN sites s ON s.id = ns.site_id WHERE ns.node_id = n.id), '[]'::json) AS sites,
            COALESCE((SELECT json_agg(p ORDER BY p.at DESC, p.id DESC) FROM (${penaltiesSql}) p), '[]'::json) AS penalties
       FROM nodes n WHERE n.id = $1`,
    [nodeId, penaltyLimit, positiveKinds],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    nodeId: r.id, status: r.status, draining: r.draining, integrity: r.integrity, availability: r.availability,
    heartbeatCounter: r.heartbeat_counter, sites: r.sites, penalties: r.penalties.map(toPenalty),
  };
}

export interface PenaltyRecord {
  at: Date;
  kind: string;
  reason: string;
  statusAfter: NodeStatus;
  integrityAfter: number;
  availabilityAfter: number;
}

/**
 * Trust events that lowered a node's scores or moved it to a worse status, newest first: what
 * a volunteer needs to see to understand why the node gets less traffic.
 */
export async function listPenalties(db: Queryable, nodeId: string, limit = 50): Promise<PenaltyRecord[]> {
  const { rows } = await db.query<PenaltyRow>(penaltiesSql, [nodeId, limit, positiveKinds]);
  return rows.map(toPenalty);
}

/** Routable, non-draining nodes whose last heartbeat is older than the cutoff. */
export async function listStaleNodes(db: Queryable, cutoff: Date): Promise<{ id: string; lastSeenAt: Date | null }[]> {
  const { rows } = await db.query<{ id: string; last_seen_at: Date | null }>(
    `SELECT id, last_seen_at FROM nodes
      WHERE status IN ('probation', 'active') AND NOT draining AND (last_seen_at IS NULL OR last_seen_at < $1)
      ORDER BY id`,
    [cutoff],
  );
  return rows.map((r) => ({ id: r.id, lastSeenAt: r.last_seen_at }));
}
