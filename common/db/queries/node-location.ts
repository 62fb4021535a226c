import type { GeoPoint } from '../../domain/geo.js';
import { urlIdentity } from '../../domain/identity.js';
import type { LocationCheck, LocationFacts, RttFact } from '../../domain/location-check.js';
import type { Queryable } from '../pool.js';

// The facts behind a node's location check (GeoIP at registration, RTT from balancers at known
// places) and the verdict, with the position the node is routed at (effective_lat/lon).

/** RTTs measured to the node at this public URL (a node that moved is measured anew). */
export async function loadRtt(db: Queryable, nodeId: string, publicUrl: string): Promise<RttFact[]> {
  const { rows } = await db.query<{ vantage_lat: number; vantage_lon: number; min_rtt_ms: number; samples: number }>(
    'SELECT vantage_lat, vantage_lon, min_rtt_ms, samples FROM node_rtt WHERE node_id = $1 AND url = $2 ORDER BY min_rtt_ms',
    [nodeId, urlIdentity(publicUrl)],
  );
  return rows.map((r) => ({ vantage: { lat: r.vantage_lat, lon: r.vantage_lon }, minRttMs: r.min_rtt_ms, samples: r.samples }));
}

/** Folds one RTT sample into the node's minimum from this vantage point; true when the minimum changed. */
export async function recordRttSample(db: Queryable, s: { nodeId: string; publicUrl: string; vantage: GeoPoint; rttMs: number; now: Date }): Promise<boolean> {
  const { rows } = await db.query<{ changed: boolean }>(
    `WITH before AS (SELECT min_rtt_ms FROM node_rtt WHERE node_id = $1 AND url = $2 AND vantage_lat = $3 AND vantage_lon = $4)
     INSERT INTO node_rtt (node_id, url, vantage_lat, vantage_lon, min_rtt_ms, samples, measured_at) VALUES ($1, $2, $3, $4, $5, 1, $6)
     ON CONFLICT (node_id, url, vantage_lat, vantage_lon) DO UPDATE SET min_rtt_ms = LEAST(node_rtt.min_rtt_ms, EXCLUDED.min_rtt_ms),
       samples = node_rtt.samples + 1, measured_at = EXCLUDED.measured_at
     RETURNING (SELECT min_rtt_ms FROM before) IS DISTINCT FROM node_rtt.min_rtt_ms AS changed`,
    [s.nodeId, urlIdentity(s.publicUrl), s.vantage.lat, s.vantage.lon, s.rttMs, s.now],
  );
  return rows[0]?.changed ?? false;
}

export interface LocationInputs {
  declared: GeoPoint | null;
  facts: LocationFacts;
  rtt: RttFact[];
}

/** The stored claim, GeoIP facts and RTTs of a node, in one round trip. */
export async function loadLocationInputs(db: Queryable, nodeId: string): Promise<LocationInputs | null> {
  const { rows } = await db.query<{ declared_lat: number | null; declared_lon: number | null; location_facts: LocationFacts | null; public_url: string }>(
    'SELECT declared_lat, declared_lon, location_facts, public_url FROM nodes WHERE id = $1',
    [nodeId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    declared: r.declared_lat === null || r.declared_lon === null ? null : { lat: r.declared_lat, lon: r.declared_lon },
    facts: r.location_facts ?? { connect: null, url: [] },
    rtt: await loadRtt(db, nodeId, r.public_url),
  };
}

/** Stores a verdict and the routing position that follows from it (balancers reload the node on change). */
export async function saveLocationCheck(db: Queryable, nodeId: string, check: LocationCheck, now: Date): Promise<void> {
  await db.query(
    `UPDATE nodes SET effective_lat = $2, effective_lon = $3, country = $4, location_check = $5 WHERE id = $1`,
    [nodeId, check.effective?.lat ?? null, check.effective?.lon ?? null, check.country, JSON.stringify({ ...check, checkedAt: now.toISOString() })],
  );
}
