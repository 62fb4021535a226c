import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Pool } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';

/** What every part of the control plane (node API, admin API, dashboard) is handed. */
export interface ControlDeps {
  pool: Pool;
  log: Logger;
  /** Prometheus registry shared with the public proxy; /metrics serves it. */
  metrics: Registry;
  /** Bearer token for the admin API and the dashboard's first login. */
  adminToken: string;
  /** sha256 (hex) of the admin token as stored in settings 'admin_token_sha256'; set when the balancer generated the token on an earlier start and so no longer knows it (adminToken is then ''). */
  adminTokenSha256?: string;
  /** HMAC secret for audit pins, shared with auditors. */
  auditSecret: string;
  /** VERITY_ALLOW_PRIVATE_NODE_URLS: nodes may register loopback/private URLs. */
  allowPrivateNodeUrls: boolean;
  /** VERITY_ALLOW_PRIVATE_OWNER_URLS: site owners may give loopback/private origins and webhook URLs. */
  allowPrivateOwnerUrls?: boolean;
  /** Name resolution for owners' URLs (default dns.lookup). */
  resolveHost?: (host: string) => Promise<string[]>;
  /** Injected clock (ms since epoch) so tests are exact. */
  now: () => number;
  /**
   * VERITY_TRUSTED_PROXIES compiled: peers (e.g. a TLS proxy in front of the control plane) whose
   * X-Forwarded-For is believed for a registering node's address. Unset: the socket peer only.
   */
  trustedProxies?: (ip: string) => boolean;
}

/** A part of the control plane: registers its routes on the control-plane fastify instance. */
export type ControlPlugin = (app: FastifyInstance, deps: ControlDeps) => Promise<void> | void;
