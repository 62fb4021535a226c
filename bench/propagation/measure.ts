import { Agent } from 'node:http';
import type { Pool } from '../../common/db/pool.js';
import { applyNodeAction, type NodeAction } from '../../common/db/queries/admin-actions.js';
import { visit } from '../soak/visit.js';

// Watches what balancers route to: each balancer is asked for a page back to back (one
// keep-alive connection each) and the X-Verity-Node of each answer is compared with the node.

export interface Watch {
  baseUrl: string;
  agent: Agent;
}

export function watchBalancer(baseUrl: string): Watch {
  return { baseUrl, agent: new Agent({ keepAlive: true, maxSockets: 1 }) };
}

/**
 * Asks `w` until an answer satisfies `routed(servedBy)` (from then on every answer does: the
 * table changed). Resolves with the time that answer ARRIVED: an upper bound on propagation.
 */
export async function firstArrival(w: Watch, host: string, path: string, routed: (servedBy: string) => boolean, timeoutMs: number, now: () => number): Promise<number> {
  const until = now() + timeoutMs;
  while (now() < until) {
    const r = await visit({ baseUrl: w.baseUrl, host, path, agent: w.agent, timeoutMs: 5_000 });
    if (r.kind === 'response' && r.status === 200 && routed(r.servedBy)) return now();
  }
  throw new Error(`${w.baseUrl} did not route as expected within ${timeoutMs} ms`);
}

export interface PropagationSample {
  action: NodeAction;
  /** From the start of the admin action to the arrival of the first answer routed by it, per balancer. */
  perBalancerMs: number[];
  /** Until EVERY balancer routed by it: the figure that matters. */
  allMs: number;
  /** How long the admin action itself took (the trust event committed within it). */
  writeMs: number;
}

export interface MeasureOptions {
  pool: Pool;
  nodeId: string;
  watches: Watch[];
  host: string;
  path: string;
  timeoutMs: number;
  now?: () => number;
}

/** One trust change (quarantine → no balancer routes to the node; reinstate → all route to it again). */
export async function measureChange(o: MeasureOptions, action: 'quarantine' | 'reinstate'): Promise<PropagationSample> {
  const now = o.now ?? (() => performance.now());
  const routed = action === 'quarantine' ? (by: string) => by !== o.nodeId : (by: string) => by === o.nodeId;
  const t0 = now();
  const watching = o.watches.map((w) => firstArrival(w, o.host, o.path, routed, o.timeoutMs, now));
  await applyNodeAction(o.pool, o.nodeId, action, `propagation benchmark: ${action}`, 'bench');
  const writeMs = now() - t0;
  const arrivals = await Promise.all(watching);
  const perBalancerMs = arrivals.map((t) => t - t0);
  return { action, perBalancerMs, allMs: Math.max(...perBalancerMs), writeMs };
}
