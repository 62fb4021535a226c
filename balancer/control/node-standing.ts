import type { Queryable } from '../../common/db/pool.js';
import { loadStanding, type NodeStandingRow } from '../../common/db/queries/node-standing.js';
import { defaultSecrecyPolicy, disclosedUntil, type SecrecyPolicy } from '../../common/domain/disclosure.js';
import type { LocationStanding, NodeStanding } from '../../common/protocol/node-api.js';

/** How standings are computed: the heartbeat interval nodes are told, and the audit-secrecy delay. */
export interface StandingOptions {
  heartbeatIntervalMs: number;
  secret: string;
  secrecy?: SecrecyPolicy;
}

function locationOf(row: NodeStandingRow): LocationStanding {
  const c = row.location.check;
  if (!c) return { declared: row.location.declared, status: 'unchecked', effective: row.location.declared, country: null, reason: 'not checked yet: the next registration checks it' };
  return { declared: row.location.declared, status: c.status, effective: c.effective, country: c.country, reason: c.reason };
}

/**
 * What a node is told after every register, heartbeat and drain: where it stands and why, as of
 * the audit-secrecy cutoff (common/domain/disclosure.ts). Its location check is its own doing
 * and is told at once.
 */
export async function loadNodeStanding(db: Queryable, nodeId: string, nowMs: number, o: StandingOptions): Promise<NodeStanding> {
  const cutoff = disclosedUntil(nodeId, nowMs, o.secret, o.secrecy ?? defaultSecrecyPolicy);
  const row = await loadStanding(db, nodeId, new Date(cutoff));
  if (!row) throw new Error(`node ${nodeId} vanished while answering it`);
  return {
    nodeId: row.nodeId,
    status: row.status,
    draining: row.draining,
    integrity: row.integrity,
    availability: row.availability,
    sites: row.sites,
    penalties: row.penalties.map((p) => ({
      at: p.at.toISOString(), kind: p.kind, reason: p.reason, statusAfter: p.statusAfter, integrityAfter: p.integrityAfter, availabilityAfter: p.availabilityAfter,
      auditId: p.auditId, url: p.url, confirmation: p.confirmation, findings: p.findings, evidence: p.evidence,
    })),
    disclosedUntil: new Date(Math.min(cutoff, nowMs)).toISOString(),
    location: locationOf(row),
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    heartbeatCounter: row.heartbeatCounter,
    serverTime: nowMs,
  };
}
