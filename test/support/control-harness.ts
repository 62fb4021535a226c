import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Pool } from '../../common/db/pool.js';
import { silentLogger } from '../../common/log.js';
import type { ControlDeps, ControlPlugin } from '../../balancer/control/types.js';

export interface ControlPlane {
  url: string;
  app: FastifyInstance;
  deps: ControlDeps;
  close: () => Promise<void>;
}

export interface ControlPlaneOptions {
  pool: Pool;
  plugins: ControlPlugin[];
  adminToken: string;
  now?: () => number;
  auditSecret?: string;
  /** Owners may give loopback origins and webhooks (VERITY_ALLOW_PRIVATE_OWNER_URLS). */
  allowPrivateOwnerUrls?: boolean;
}

/** A real control-plane fastify app with the given plugins mounted, listening on 127.0.0.1:0. */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = silentLogger();
  const deps: ControlDeps = {
    pool: opts.pool,
    log,
    metrics: new Registry(),
    adminToken: opts.adminToken,
    auditSecret: opts.auditSecret ?? 'test-audit-secret-0123456789',
    allowPrivateNodeUrls: true,
    allowPrivateOwnerUrls: opts.allowPrivateOwnerUrls ?? false,
    now: opts.now ?? Date.now,
  };
  const app: FastifyInstance = Fastify({ loggerInstance: log as FastifyBaseLogger, requestTimeout: 30_000, connectionTimeout: 30_000 });
  for (const plugin of opts.plugins) await plugin(app, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('control plane did not get a TCP port');
  return { url: `http://127.0.0.1:${address.port}`, app, deps, close: () => app.close() };
}
