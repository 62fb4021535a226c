import type { LocationCheck } from '../../domain/location-check.js';
import type { Confirmation, NodeStatus } from '../../domain/trust.js';
import type { Queryable } from '../pool.js';

// What a node is told about itself (register, heartbeat and drain answers): its trust history up
// to the audit-secrecy cutoff (common/domain/disclosure.ts), never later, and every penalty in
// it with its evidence. The admin views read trust_events directly, without the delay.

export interface PenaltyEvidence {
  id: string;
  kind: string;
  contentType: string;
}

export interface PenaltyRecord {
  at: Date;
  kind: string;
  reason: string;
  statusAfter: NodeStatus;
  integrityAfter: number;
  availabilityAfter: number;
  auditId: string | null;
  url: string | null;
  confirmation: Confirmation | null;
  findings: { kind: string; severity: string; summary: string }[];
  evidence: PenaltyEvidence[];
}

export interface NodeStandingRow {
  nodeId: string;
  /** Status and scores as of the cutoff. */
  status: NodeStatus;
  integrity: number;
  availability: number;
  draining: boolean;
  heartbeatCounter: number;
  sites: { host: string; origin: string }[];
  penalties: PenaltyRecord[];
  location: { declared: { lat: number; lon: number } | null; check: (LocationCheck & { checkedAt?: string }) | null };
}

// Events that are good news even when decay toward the prior nudges a high score down.
const positiveKinds = ['registered', 'audit_pass', 'recheck_pass', 'health_ok', 'heartbeat_resumed', 'admin_reinstate'];

/**
 * Trust events of node $1 before the cutoff $4 that lowered a score, worsened the status or
 * sent the node back to probation; newest first, at most $2; each with its audit's findings and evidence.
 */
const penaltiesSql = `
  SELECT e.id, e.at, e.kind, e.reason, e.status_after, e.integrity_after, e.availability_after, e.audit_id, e.confirmation,
         a.url,
         COALESCE((SELECT json_agg(json_build_object('kind', f.kind, 'severity', f.severity, 'summary', f.summary) ORDER BY f.id)
                     FROM findings f WHERE e.audit_id IS NOT NULL AND f.audit_id = e.audit_id), '[]'::json) AS findings,
         COALESCE((SELECT json_agg(json_build_object('id', v.id, 'kind', v.kind, 'contentType', v.content_type) ORDER BY v.created_at, v.id)
                     FROM evidence v WHERE (e.audit_id IS NOT NULL AND v.audit_id = e.audit_id) OR v.id = e.evidence_id), '[]'::json) AS evidence
    FROM (
      SELECT id, at, kind, reason, status_after, integrity_after, availability_after, audit_id, evidence_id, confirmation,
             LAG(integrity_after, 1, 0.5::double precision) OVER w AS prev_i,
             LAG(availability_after, 1, 0.5::double precision) OVER w AS prev_a,
             LAG(status_after, 1, 'probation') OVER w AS prev_s
        FROM trust_events WHERE node_id = $1 AND at < $4 WINDOW w AS (ORDER BY at, id)) e
    LEFT JOIN audits a ON a.id = e.audit_id
   WHERE NOT (e.kind = ANY($3::text[]))
     AND (e.integrity_after < e.prev_i - 1e-9 OR e.availability_after < e.prev_a - 1e-9 OR e.kind = 'identity_changed'
          OR (e.status_after <> e.prev_s AND e.status_after IN ('quarantined', 'banned', 'offline')))
   ORDER BY e.at DESC, e.id DESC LIMIT $2`;

interface PenaltyRow {
  at: Date | string;
  kind: string;
  reason: string;
  status_after: NodeStatus;
  integrity_after: number;
  availability_after: number;
  audit_id: string | null;
  url: string | null;
  confirmation: Confirmation | null;
  findings: PenaltyRecord['findings'];
  evidence: PenaltyEvidence[];
}

function toPenalty(r: PenaltyRow): PenaltyRecord {
  return {
    at: new Date(r.at), kind: r.kind, reason: r.reason, statusAfter: r.status_after, integrityAfter: r.integrity_after, availabilityAfter: r.availability_after,
    auditId: r.audit_id, url: r.url, confirmation: r.confirmation, findings: r.findings, evidence: r.evidence,
  };
}

interface StandingRow {
  id: string;
  status_after: NodeStatus | null;
  integrity_after: number | null;
  availability_after: number | null;
  draining: boolean;
  heartbeat_counter: number;
  declared_lat: number | null;
  declared_lon: number | null;
  location_check: NodeStandingRow['location']['check'];
  sites: { host: string; origin: string }[];
  penalties: PenaltyRow[];
}

/** Everything a node is told about itself as of `disclosedBefore`, in one round trip (it runs on every heartbeat). */
export async function loadStanding(db: Queryable, nodeId: string, disclosedBefore: Date, penaltyLimit = 50): Promise<NodeStandingRow | null> {
  const { rows } = await db.query<StandingRow>(
    `SELECT n.id, d.status_after, d.integrity_after, d.availability_after, n.draining, n.heartbeat_counter, n.declared_lat, n.declared_lon, n.location_check,
            COALESCE((SELECT json_agg(json_build_object('host', s.host, 'origin', s.origin) ORDER BY s.host)
                        FROM node_sites ns JOIN sites s ON s.id = ns.site_id WHERE ns.node_id = n.id), '[]'::json) AS sites,
            COALESCE((SELECT json_agg(p ORDER BY p.at DESC, p.id DESC) FROM (${penaltiesSql}) p), '[]'::json) AS penalties
       FROM nodes n
       LEFT JOIN LATERAL (SELECT status_after, integrity_after, availability_after FROM trust_events
                           WHERE node_id = n.id AND at < $4 ORDER BY at DESC, id DESC LIMIT 1) d ON true
      WHERE n.id = $1`,
    [nodeId, penaltyLimit, positiveKinds, disclosedBefore],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    nodeId: r.id, status: r.status_after ?? 'probation', integrity: r.integrity_after ?? 0.5, availability: r.availability_after ?? 0.5,
    draining: r.draining, heartbeatCounter: r.heartbeat_counter, sites: r.sites, penalties: r.penalties.map(toPenalty),
    location: { declared: r.declared_lat === null || r.declared_lon === null ? null : { lat: r.declared_lat, lon: r.declared_lon }, check: r.location_check },
  };
}

/** One piece of evidence behind a penalty of this node, if that penalty is disclosed by `disclosedBefore`. */
export async function findDisclosedEvidence(db: Queryable, nodeId: string, evidenceId: string, disclosedBefore: Date): Promise<{ contentType: string; body: Buffer } | null> {
  const { rows } = await db.query<{ content_type: string; body: Buffer }>(
    `SELECT v.content_type, v.body FROM evidence v
      WHERE v.id = $2 AND EXISTS (
        SELECT 1 FROM trust_events e
         WHERE e.node_id = $1 AND e.at < $3 AND ((e.audit_id IS NOT NULL AND e.audit_id = v.audit_id) OR e.evidence_id = v.id))`,
    [nodeId, evidenceId, disclosedBefore],
  );
  const r = rows[0];
  return r ? { contentType: r.content_type, body: r.body } : null;
}
