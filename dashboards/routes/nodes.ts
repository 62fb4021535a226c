import type { FastifyInstance } from 'fastify';
import type { ControlDeps } from '../../balancer/control/types.js';
import { nodeStatuses } from '../../common/domain/trust.js';
import { nodesPage } from '../views/nodes.js';
import { filterAndSort, nodeRows, sortKeys, type NodeFilter, type SortKey } from './node-rows.js';
import { csrfOf, sendHtml } from './respond.js';

type NodesQuery = { sort?: string; dir?: string; status?: string; q?: string };

export function parseNodeFilter(q: NodesQuery): NodeFilter {
  const sort = (sortKeys as readonly string[]).includes(q.sort ?? '') ? (q.sort as SortKey) : 'integrity';
  const dir = q.dir === 'desc' ? 'desc' : 'asc';
  const status = (nodeStatuses as readonly string[]).includes(q.status ?? '') ? (q.status as string) : null;
  return { sort, dir, status, q: typeof q.q === 'string' ? q.q.slice(0, 100) : '' };
}

export function nodesRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.get<{ Querystring: NodesQuery }>('/nodes', async (req, reply) => {
    const f = parseNodeFilter(req.query);
    const rows = await nodeRows(deps);
    return sendHtml(reply, nodesPage(filterAndSort(rows, f), rows.length, f, csrfOf(req)));
  });
}
