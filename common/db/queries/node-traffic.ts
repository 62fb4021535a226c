import type { Queryable } from '../pool.js';

import type { TrafficSample } from '../../domain/traffic-window.js';

/** One node's balancer-side traffic in one minute (what the balancer adds up and writes). */
export type NodeTrafficSample = TrafficSample;

/** Visitor traffic (what the traffic share and latency are made of), and audits apart. */
export interface NodeTrafficSummary {
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Requests the auditor pinned to this node: not visitors, so never part of its share. */
  auditRequests: number;
}

function truncateToMinute(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 60_000) * 60_000);
}

/**
 * Adds one balancer's figures for a minute. Several balancers write the same row, so counts
 * add up and the percentiles become request-weighted averages (close enough for a dashboard).
 */
export async function recordNodeTraffic(db: Queryable, s: NodeTrafficSample): Promise<void> {
  await db.query(
    `INSERT INTO node_traffic AS t (node_id, minute, requests, errors, p50_ms, p99_ms, audit) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (node_id, minute, audit) DO UPDATE SET
       requests = t.requests + EXCLUDED.requests,
       errors = t.errors + EXCLUDED.errors,
       p50_ms = CASE WHEN t.p50_ms IS NULL THEN EXCLUDED.p50_ms WHEN EXCLUDED.p50_ms IS NULL THEN t.p50_ms
                ELSE (t.p50_ms * t.requests + EXCLUDED.p50_ms * EXCLUDED.requests) / GREATEST(t.requests + EXCLUDED.requests, 1) END,
       p99_ms = CASE WHEN t.p99_ms IS NULL THEN EXCLUDED.p99_ms WHEN EXCLUDED.p99_ms IS NULL THEN t.p99_ms
                ELSE GREATEST(t.p99_ms, EXCLUDED.p99_ms) END`,
    [s.nodeId, truncateToMinute(s.minute), s.requests, s.errors, s.p50Ms, s.p99Ms, s.audit],
  );
}

/** Visitor requests, errors and request-weighted latency of a group of minutes; audit requests apart. */
const TRAFFIC_TOTALS = `COALESCE(SUM(requests) FILTER (WHERE NOT audit), 0)::bigint AS requests,
  COALESCE(SUM(errors) FILTER (WHERE NOT audit), 0)::bigint AS errors,
  SUM(p50_ms * requests) FILTER (WHERE NOT audit) / NULLIF(SUM(requests) FILTER (WHERE p50_ms IS NOT NULL AND NOT audit), 0) AS p50,
  MAX(p99_ms) FILTER (WHERE NOT audit) AS p99,
  COALESCE(SUM(requests) FILTER (WHERE audit), 0)::bigint AS audits`;

/** Per node since `since`: visitor requests, errors and request-weighted latency; audit requests apart. */
export async function summarizeNodeTraffic(db: Queryable, since: Date): Promise<Map<string, NodeTrafficSummary>> {
  const { rows } = await db.query<{ node_id: string; requests: number; errors: number; p50: number | null; p99: number | null; audits: number }>(
    `SELECT node_id, ${TRAFFIC_TOTALS}
       FROM node_traffic WHERE minute >= $1 GROUP BY node_id`,
    [since],
  );
  return new Map(rows.map((r) => [r.node_id, { requests: r.requests, errors: r.errors, p50Ms: r.p50, p99Ms: r.p99, auditRequests: r.audits }]));
}

export interface TrafficPoint {
  minute: Date;
  /** Visitor requests (audits are in auditRequests). */
  requests: number;
  errors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  auditRequests: number;
}

/** Minute by minute since `since`, for one node or (nodeId null) all nodes together. */
export async function trafficSeries(db: Queryable, since: Date, nodeId: string | null = null): Promise<TrafficPoint[]> {
  const { rows } = await db.query<{ minute: Date; requests: number; errors: number; p50: number | null; p99: number | null; audits: number }>(
    `SELECT minute, ${TRAFFIC_TOTALS}
       FROM node_traffic WHERE minute >= $1 AND ($2::text IS NULL OR node_id = $2)
      GROUP BY minute ORDER BY minute`,
    [since, nodeId],
  );
  return rows.map((r) => ({ minute: r.minute, requests: r.requests, errors: r.errors, p50Ms: r.p50, p99Ms: r.p99, auditRequests: r.audits }));
}
