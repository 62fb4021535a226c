import type { FastifyInstance } from 'fastify';
import { runNodeAction } from '../../balancer/control/admin-ops.js';
import { authOf, csrfValid } from '../../balancer/control/auth.js';
import type { ControlDeps } from '../../balancer/control/types.js';
import { nodeActions, type NodeAction } from '../../common/db/queries/admin-actions.js';
import { listAudits, listNodeEvidence } from '../../common/db/queries/dashboard.js';
import { summarizeNodeTraffic, trafficSeries } from '../../common/db/queries/node-traffic.js';
import { linkedNodes } from '../../common/db/queries/node-links.js';
import { findNode, type NodeRecord } from '../../common/db/queries/nodes.js';
import { loadTrustPolicy } from '../../common/db/queries/trust-policy.js';
import { defaultTrustPolicy } from '../../common/domain/trust.js';
import { listTrustEvents, type TrustEventRecord } from '../../common/db/queries/trust.js';
import type { ChartSpec } from '../views/charts.js';
import { markFor, nodePage } from '../views/node.js';
import { trafficChart } from './overview.js';
import { csrfOf, notFound, sendHtml } from './respond.js';

const flashes: Record<string, string> = { quarantine: 'Node quarantined: it gets no traffic and is still audited.', reinstate: 'Node reinstated.', ban: 'Node banned.' };

/** Both scores over time, stepping at each event, with strikes and admin actions marked. */
export function trustChart(node: NodeRecord, events: TrustEventRecord[], nowMs: number): ChartSpec {
  const x = events.map((e) => e.at.getTime() / 1000);
  const integrity = events.map((e) => e.integrityAfter);
  const availability = events.map((e) => e.availabilityAfter);
  if (events.length) {
    x.push(nowMs / 1000);
    integrity.push(node.integrity);
    availability.push(node.availability);
  }
  const marks = events.flatMap((e) => {
    const severity = markFor(e.kind);
    return severity ? [{ t: e.at.getTime() / 1000, label: `${e.kind}: ${e.reason}`, severity }] : [];
  });
  // Availability first, so integrity is drawn over it where the two lines meet.
  return { kind: 'trust', x, series: [{ label: 'availability', values: availability }, { label: 'integrity', values: integrity }], marks };
}

async function latencyChart(deps: ControlDeps, nodeId: string): Promise<ChartSpec> {
  const points = await trafficSeries(deps.pool, new Date(deps.now() - 3600_000), nodeId);
  return {
    kind: 'latency',
    x: points.map((p) => p.minute.getTime() / 1000),
    series: [{ label: 'p50', values: points.map((p) => p.p50Ms), unit: 'ms' }, { label: 'p99', values: points.map((p) => p.p99Ms), unit: 'ms' }],
  };
}

export function nodeRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.get<{ Params: { id: string }; Querystring: { done?: string } }>('/nodes/:id', async (req, reply) => {
    const node = await findNode(deps.pool, req.params.id);
    if (!node) return notFound(reply, 'node');
    const [events, audits, strikes, traffic, latency, summary, links, policy] = await Promise.all([
      listTrustEvents(deps.pool, node.id),
      listAudits(deps.pool, { nodeId: node.id, limit: 50, includePending: true }),
      listNodeEvidence(deps.pool, node.id),
      trafficChart(deps, node.id),
      latencyChart(deps, node.id),
      summarizeNodeTraffic(deps.pool, new Date(deps.now() - 3600_000)),
      linkedNodes(deps.pool, node.id, new Date(deps.now())),
      loadTrustPolicy(deps.pool).catch(() => defaultTrustPolicy),
    ]);
    const mine = summary.get(node.id);
    const total = [...summary.values()].reduce((a, t) => a + t.requests, 0);
    const data = {
      node, events, audits, strikes, traffic, latency, trust: trustChart(node, events, deps.now()),
      links, policy, nowMs: deps.now(),
      hourRequests: mine?.requests ?? 0, hourAuditRequests: mine?.auditRequests ?? 0, trafficShare: total > 0 ? (mine?.requests ?? 0) / total : null, p50Ms: mine?.p50Ms ?? null, p99Ms: mine?.p99Ms ?? null,
    };
    return sendHtml(reply, nodePage(data, csrfOf(req), flashes[req.query.done ?? ''] ?? null));
  });

  app.post<{ Params: { id: string }; Body: Record<string, unknown> | undefined }>('/nodes/:id/actions', async (req, reply) => {
    const auth = authOf(req);
    const body = req.body ?? {};
    if (!auth || !csrfValid(req, auth, body._csrf)) return reply.code(403).send('bad CSRF token: reload the page and try again');
    const action = String(body.action ?? '');
    const reason = typeof body.reason === 'string' ? body.reason.trim().slice(0, 2000) : '';
    if (!(nodeActions as readonly string[]).includes(action)) return reply.code(400).send('unknown action');
    if (reason === '') return reply.code(400).send('a reason is required: go back and say why (it is shown to the volunteer and kept in the admin log)');
    const node = await findNode(deps.pool, req.params.id);
    if (!node) return notFound(reply, 'node');
    await runNodeAction(deps, auth.actor, node.id, action as NodeAction, reason);
    return reply.code(303).header('location', `/nodes/${encodeURIComponent(node.id)}?done=${action}`).send();
  });
}
