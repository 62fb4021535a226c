import type { FastifyInstance } from 'fastify';
import type { ControlDeps } from '../../balancer/control/types.js';
import { mapPage } from '../views/map.js';
import { nodeRows } from './node-rows.js';
import { csrfOf, sendHtml } from './respond.js';

export function mapRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.get('/map', async (req, reply) => sendHtml(reply, mapPage(await nodeRows(deps), csrfOf(req))));
}
