import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Pool } from '../../common/db/pool.js';
import { silentLogger } from '../../common/log.js';
import { createNodeApiPlugin, type NodeApiOptions } from '../../balancer/control/node-api.js';
import type { ControlDeps } from '../../balancer/control/types.js';

export interface TestControlPlane {
  url: string;
  app: FastifyInstance;
  deps: ControlDeps;
  close(): Promise<void>;
}

export interface ControlPlaneOptions extends NodeApiOptions {
  pool: Pool;
  allowPrivateNodeUrls?: boolean;
  /** Clock of the control plane (default Date.now). */
  now?: () => number;
  port?: number;
  trustedProxies?: (ip: string) => boolean;
}

/** A real control-plane fastify app on 127.0.0.1 with only the node API mounted, on a real database. */
export async function startNodeControlPlane(opts: ControlPlaneOptions): Promise<TestControlPlane> {
  const deps: ControlDeps = {
    pool: opts.pool,
    log: silentLogger(),
    metrics: new Registry(),
    adminToken: 'test-admin-token-0123456789',
    auditSecret: 'test-audit-secret-0123456789',
    allowPrivateNodeUrls: opts.allowPrivateNodeUrls ?? true,
    now: opts.now ?? Date.now,
    ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
  };
  const app = Fastify({ logger: false });
  await createNodeApiPlugin(opts)(app, deps);
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, app, deps, close: () => app.close() };
}
