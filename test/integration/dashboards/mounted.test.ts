import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlugins } from '../../../balancer/control/plugins.js';
import { buildControlApp } from '../../../balancer/control/server.js';
import type { ControlDeps } from '../../../balancer/control/types.js';
import { silentLogger } from '../../../common/log.js';
import type { FastifyInstance } from 'fastify';
import { dashboardClient } from '../../support/dashboard-client.js';
import { useTestDatabase } from '../../support/db.js';

// The real control plane (as `verity balancer` builds it): the admin API and dashboard live
// beside the node API, /healthz and /metrics without stepping on each other.

const ADMIN_TOKEN = 'mounted-admin-token-0123456789abcdef';
const db = useTestDatabase();
let app: FastifyInstance;
let url = '';

beforeAll(async () => {
  const deps: ControlDeps = {
    pool: db.pool, log: silentLogger(), metrics: new Registry(), adminToken: ADMIN_TOKEN, auditSecret: 'mounted-audit-secret-0123456789',
    allowPrivateNodeUrls: true, now: Date.now,
  };
  app = await buildControlApp(deps, controlPlugins);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  url = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await app.close();
});

describe('control plane with every plugin mounted', () => {
  it('answers health, admin API, dashboard and login side by side', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/nodes`)).status).toBe(401);
    expect((await fetch(`${url}/api/v1/nodes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${url}/`)).status).toBe(401);
    const c = dashboardClient(url);
    expect((await c.login(ADMIN_TOKEN)).status).toBe(303);
    for (const path of ['/', '/nodes', '/audits', '/map', '/sites', '/admin-log']) expect((await c.get(path)).status, path).toBe(200);
  });
});
