import { identityChanges, type NodeIdentityView } from '../../domain/identity.js';
import type { LocationCheck, LocationFacts } from '../../domain/location-check.js';
import { defaultTrustPolicy, type NodeStatus } from '../../domain/trust.js';
import type { Pool, Queryable } from '../pool.js';
import { withTransaction } from '../pool.js';
import { linkedNodes, recordIdentities } from './node-links.js';
import { consumeJoinToken, hashToken } from './tokens.js';
import { applyTrustEventIn, NODE_CHANGED_CHANNEL } from './trust.js';
import { loadTrustPolicy } from './trust-policy.js';

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
  /** What GeoIP said, and the verdict on the declared location (common/domain/location-check.ts). */
  locationFacts: LocationFacts | null;
  locationCheck: LocationCheck | null;
  /** SPKI fingerprint of the node's TLS certificate (pinned by balancers), or null for plain HTTP. */
  tlsSpki: string | null;
  now: Date;
}

export type RegistrationOutcome =
  | { kind: 'created' | 'updated'; siteId: string | null; identityChanges: string[] }
  | { kind: 'token_rejected' }
  | { kind: 'token_required' }
  | { kind: 'banned' };

interface KnownRow {
  status: NodeStatus;
  public_url: string;
  registered_ip: string | null;
  subnet: string | null;
  declared_lat: number | null;
  declared_lon: number | null;
}

function identityOf(r: { publicUrl: string; registeredIp: string | null; subnet: string | null; lat: number | null; lon: number | null }): NodeIdentityView {
  return { publicUrl: r.publicUrl, address: r.registeredIp, subnet: r.subnet, location: r.lat === null || r.lon === null ? null : { lat: r.lat, lon: r.lon } };
}

async function upsertNode(db: Queryable, input: RegistrationInput): Promise<void> {
  const check = input.locationCheck;
  await db.query(
    `INSERT INTO nodes (id, name, public_key, public_url, declared_lat, declared_lon, registered_ip, subnet, last_seen_at, trust_updated_at, created_at,
                        effective_lat, effective_lon, country, location_facts, location_check, tls_spki_sha256)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, public_url = EXCLUDED.public_url, declared_lat = EXCLUDED.declared_lat,
       declared_lon = EXCLUDED.declared_lon, registered_ip = EXCLUDED.registered_ip, subnet = EXCLUDED.subnet,
       last_seen_at = EXCLUDED.last_seen_at, draining = false, effective_lat = EXCLUDED.effective_lat, effective_lon = EXCLUDED.effective_lon,
       country = EXCLUDED.country, location_facts = EXCLUDED.location_facts, location_check = EXCLUDED.location_check,
       tls_spki_sha256 = EXCLUDED.tls_spki_sha256`,
    [input.nodeId, input.name, input.publicKey, input.publicUrl, input.location?.lat ?? null, input.location?.lon ?? null, input.registeredIp, input.subnet, input.now,
      check ? check.effective?.lat ?? null : input.location?.lat ?? null, check ? check.effective?.lon ?? null : input.location?.lon ?? null,
      check?.country ?? null, input.locationFacts ? JSON.stringify(input.locationFacts) : null, check ? JSON.stringify({ ...check, checkedAt: input.now.toISOString() }) : null,
      input.tlsSpki],
  );
}

/** The trust events a registration causes, in the registration's transaction. */
async function registrationEvents(db: Queryable, input: RegistrationInput, known: KnownRow | undefined, changes: string[]): Promise<void> {
  const policy = await loadTrustPolicy(db).catch(() => defaultTrustPolicy);
  if (!known) {
    await applyTrustEventIn(db, input.nodeId, { kind: 'registered', reason: `enrolled with a join token from ${input.registeredIp ?? 'an unknown address'}` }, input.now, policy);
    // A new key on the URL or address of a quarantined or banned node is that node again.
    const tainted = (await linkedNodes(db, input.nodeId, input.now)).find((l) => l.status === 'quarantined' || l.status === 'banned');
    if (tainted) {
      await applyTrustEventIn(db, input.nodeId, { kind: 'linked_quarantine', reason: `shares the ${tainted.via} of ${tainted.status} node ${tainted.nodeId}`, viaNode: tainted.nodeId }, input.now, policy);
    }
    return;
  }
  if (changes.length > 0 && known.status !== 'banned') {
    await applyTrustEventIn(db, input.nodeId, { kind: 'identity_changed', reason: `re-registered with a new identity: ${changes.join('; ')}`.slice(0, 1000) }, input.now, policy);
  }
}

/**
 * Enrolls a new node or updates a known one, in one transaction: the join token is spent
 * (atomically: of two concurrent uses of a one-use token exactly one wins) only when the
 * whole registration commits. A banned node spends nothing. A known node whose URL, address,
 * subnet or declared location changed goes back to probation in the same transaction.
 */
export async function registerNode(pool: Pool, input: RegistrationInput): Promise<RegistrationOutcome> {
  return withTransaction(pool, async (client) => {
    const existing = await client.query<KnownRow>(
      'SELECT status, public_url, host(registered_ip) AS registered_ip, subnet, declared_lat, declared_lon FROM nodes WHERE id = $1 FOR UPDATE',
      [input.nodeId],
    );
    const known = existing.rows[0];
    if (known?.status === 'banned') return { kind: 'banned' };
    if (!known && input.token === undefined) return { kind: 'token_required' };
    let siteId: string | null = null;
    if (input.token !== undefined) {
      const token = await consumeJoinToken(client, input.token, input.now);
      if (!token) return { kind: 'token_rejected' };
      siteId = token.siteId;
    }
    const changes = known
      ? identityChanges(
        identityOf({ publicUrl: known.public_url, registeredIp: known.registered_ip, subnet: known.subnet, lat: known.declared_lat, lon: known.declared_lon }),
        identityOf({ publicUrl: input.publicUrl, registeredIp: input.registeredIp, subnet: input.subnet, lat: input.location?.lat ?? null, lon: input.location?.lon ?? null }),
      )
      : [];
    await upsertNode(client, input);
    await recordIdentities(client, input.nodeId, { publicUrl: input.publicUrl, address: input.registeredIp }, input.now);
    if (siteId) {
      await client.query('INSERT INTO node_sites (node_id, site_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [input.nodeId, siteId, input.now]);
    }
    await registrationEvents(client, input, known, changes);
    await client.query('SELECT pg_notify($1, $2)', [NODE_CHANGED_CHANNEL, input.nodeId]);
    return { kind: known ? 'updated' : 'created', siteId, identityChanges: changes };
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

/** A new TLS key from a signed heartbeat (rotation): balancers pin this one from now on. */
export async function rotateTlsKey(db: Queryable, nodeId: string, tlsSpki: string): Promise<void> {
  await db.query('UPDATE nodes SET tls_spki_sha256 = $2 WHERE id = $1 AND tls_spki_sha256 IS DISTINCT FROM $2', [nodeId, tlsSpki]);
}

/** Spends a counter of a signed request that changes nothing else (recheck, evidence), under the heartbeat rule. */
export async function acceptCounter(db: Queryable, nodeId: string, counter: number): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE nodes SET heartbeat_counter = $2 WHERE id = $1 AND heartbeat_counter < $2 AND status <> 'banned'",
    [nodeId, counter],
  );
  return (rowCount ?? 0) > 0;
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
