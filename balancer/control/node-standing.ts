import type { Queryable } from '../../common/db/pool.js';
import { loadStanding } from '../../common/db/queries/node-registry.js';
import type { NodeStanding } from '../../common/protocol/node-api.js';

/** What a node is told after every register, heartbeat and drain: where it stands and why. */
export async function loadNodeStanding(db: Queryable, nodeId: string, nowMs: number, heartbeatIntervalMs: number): Promise<NodeStanding> {
  const row = await loadStanding(db, nodeId);
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
    })),
    heartbeatIntervalMs,
    heartbeatCounter: row.heartbeatCounter,
    serverTime: nowMs,
  };
}
