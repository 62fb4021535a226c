import { isRoutable } from '../../common/domain/trust.js';
import type { RouteNode } from '../registry/types.js';
import { visitorSampleOf } from '../background/url-samples.js';
import { pickNode } from '../selection/pick.js';
import { probationGroup } from '../selection/probation-meter.js';
import type { Visit } from './visit.js';

// Which node serves a request, and the bookkeeping around one attempt at a node: requests in
// flight (for the power-of-two choice), the probation cap, and passive health.

/** Per request: no I/O. The pinned node for an audit, else the best eligible node not tried yet. */
export function chooseNode(v: Visit): RouteNode | null {
  if (v.pinned) return v.tried === null ? v.pinned : null;
  const { rt, site } = v;
  const now = rt.now();
  const node = pickNode({
    index: rt.table.indexFor(site.id),
    client: v.client,
    random: rt.random,
    outstanding: (n) => rt.outstanding.get(n.id) ?? 0,
    eligible: (n) => isRoutable(n.status) && !n.draining && !v.hasTried(n.id) && !rt.unhealthy.has(n.id) && !rt.outlier.isEjected(n.id, now)
      && (n.status !== 'probation' || rt.probation.allowed(site.id, probationGroup(n))),
  });
  if (node && v.tried === null) rt.probation.record(site.id, node.status === 'probation' ? probationGroup(node) : null);
  return node;
}

export function attemptStarted(v: Visit, node: RouteNode): void {
  v.markTried(node.id);
  v.rt.outstanding.set(node.id, (v.rt.outstanding.get(node.id) ?? 0) + 1);
}

export function attemptEnded(v: Visit, node: RouteNode, startedAt: number, failed: boolean): void {
  const { rt } = v;
  const left = (rt.outstanding.get(node.id) ?? 1) - 1;
  if (left <= 0) rt.outstanding.delete(node.id);
  else rt.outstanding.set(node.id, left);
  // Audits (pinned) are counted apart from visitors: never part of a node's traffic share.
  rt.traffic.observe(node.id, rt.now() - startedAt, failed, v.pinned !== null);
  rt.metrics.observeUpstream('node', (rt.now() - startedAt) / 1000);
  if (!failed) rt.outlier.onSuccess(node.id);
}

/** A node's failure counts against it (passive health) only once we know it was the node's. */
export function countFailure(v: Visit, node: RouteNode, failure: string): void {
  const { rt } = v;
  if (rt.outlier.onFailure(node.id, rt.now(), rt.table.nodeCount)) {
    rt.metrics.ejections.inc();
    rt.log.warn({ nodeId: node.id, failure }, 'node ejected after consecutive failures');
  }
}

/** Another try elsewhere is allowed: not pinned, nothing sent yet, within the retry budget. */
export function mayRetry(v: Visit): boolean {
  const { rt } = v;
  return v.pinned === null && !v.done && !v.res.headersSent && (v.tried?.length ?? 0) < rt.limits.maxAttempts && rt.retryBudget.tryRetry(rt.now());
}

/** What visitors of a site ask for, and who they look like: the traffic audits imitate (not audits themselves). */
export function recordVisit(v: Visit, nodeId: string | null): void {
  if (v.pinned !== null) return;
  v.rt.samples.record(v.site.id, v.url, visitorSampleOf(v.req.headers, nodeId, v.rt.countryOf(v.clientIp), v.proto === 'https'));
}
