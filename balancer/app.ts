import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { ConfigOf } from '../common/config/options.js';
import type { ListenAddress } from '../common/config/shared.js';
import type { Pool } from '../common/db/pool.js';
import type { Logger } from '../common/log.js';
import { HealthProber } from './background/health.js';
import { createRevalidator } from './background/revalidate.js';
import { ShadowSampler } from './background/shadow.js';
import { SiteRefresher } from './background/site-refresh.js';
import { StrikeQueue } from './background/strikes.js';
import { UrlSampler } from './background/url-samples.js';
import type { balancerProgram } from './config.js';
import { buildControlApp } from './control/server.js';
import type { ControlPlugin } from './control/types.js';
import { createGeoipResolver, type GeoResolver } from './geo/resolver.js';
import { HashStore } from './integrity/hash-store.js';
import { PolicyStore } from './integrity/policy-store.js';
import { createMetrics, registerStateGauges } from './metrics.js';
import { createForwarder } from './proxy/forwarder.js';
import { createRegistrySync, type RegistrySync } from './registry/sync.js';
import { RoutingTable } from './registry/table.js';
import { compileTrustedProxies } from './routes/client-address.js';
import { NonceCache } from './routes/nonce-cache.js';
import { buildPublicApp, defaultServerLimits, type PublicServerLimits, type PublicState } from './routes/public.js';
import type { Runtime } from './routes/runtime.js';
import { defaultOutlierOptions, OutlierDetector, type OutlierOptions } from './selection/outlier.js';
import { ProbationMeter } from './selection/probation-meter.js';
import { RetryBudget } from './selection/retry-budget.js';

export type BalancerConfig = ConfigOf<(typeof balancerProgram)['options']>;

export interface BalancerDeps {
  pool: Pool;
  log: Logger;
  adminToken: string;
  /** sha256 (hex) of the admin token, when only the hash is known (later starts). */
  adminTokenSha256?: string;
  auditSecret: string;
  plugins?: readonly ControlPlugin[];
  now?: () => number;
  random?: () => number;
  /** Address → location; default geoip-lite. */
  geo?: GeoResolver;
  metrics?: Registry;
  serverLimits?: Partial<PublicServerLimits>;
  outlier?: Partial<OutlierOptions>;
  /** Background loops (health probes, origin policy/manifest refresh); default on. */
  background?: { health?: boolean; siteRefresh?: boolean };
  /** How long a learned static-file hash is trusted before revalidation (default 5 min). */
  hashTtlMs?: number;
  /** Called after each shadow comparison (tests, logs). */
  onShadowResult?: (r: { nodeId: string; url: string; mismatched: string[] }) => void;
}

export interface Balancer {
  /** Visitors' side. */
  app: FastifyInstance;
  /** Control plane: /healthz, /metrics, plugins. */
  control: FastifyInstance;
  runtime: Runtime;
  sync: RegistrySync;
  /** Listens on both addresses; returns the URLs actually bound (port 0 → a free port). */
  listen(publicAddr: ListenAddress, controlAddr: ListenAddress): Promise<{ publicUrl: string; controlUrl: string }>;
  /** Graceful: new requests get 503 + Connection: close, in-flight ones finish, queues flush. */
  close(): Promise<void>;
}

function buildRuntime(config: BalancerConfig, deps: BalancerDeps, table: RoutingTable): Runtime {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const metrics = createMetrics(deps.metrics ?? new Registry());
  const strikes = new StrikeQueue({ pool: deps.pool, log: deps.log, now });
  const revalidate = createRevalidator({ table, hashes: () => hashes, log: deps.log, now, maxBytes: config.bufferLimit });
  const hashes = new HashStore({ ttlMs: deps.hashTtlMs ?? 300_000, maxEntries: 100_000 }, revalidate);
  return {
    pool: deps.pool, log: deps.log, table, forwarder: createForwarder(), geo: deps.geo ?? createGeoipResolver(),
    trustedProxies: compileTrustedProxies(config.trustedProxies), auditSecret: deps.auditSecret, pinNonces: new NonceCache(now),
    outstanding: new Map(), outlier: new OutlierDetector({ ...defaultOutlierOptions, ...deps.outlier }),
    probation: new ProbationMeter(config.probationShare), retryBudget: new RetryBudget(config.retryBudget), unhealthy: new Set(),
    hashes, policies: new PolicyStore(), strikes,
    samples: new UrlSampler({ pool: deps.pool, log: deps.log, random }),
    shadow: new ShadowSampler({ pool: deps.pool, log: deps.log, table, strikes, onResult: deps.onShadowResult }),
    metrics,
    limits: {
      attemptTimeoutMs: config.attemptTimeout, deadlineMs: config.deadline, bodyLimit: config.bodyLimit, bufferLimit: config.bufferLimit,
      maxResponseSize: config.maxResponseSize, shadowShare: config.shadowShare, maxAttempts: 3,
    },
    now, random,
  };
}

function urlOf(address: string | null | { address: string; port: number } | undefined): string {
  if (!address || typeof address === 'string') return String(address);
  return address.address.includes(':') ? `http://[${address.address}]:${address.port}` : `http://${address.address}:${address.port}`;
}

/** Builds both apps with the routing table loaded; nothing listens until listen(). */
export async function buildBalancer(config: BalancerConfig, deps: BalancerDeps): Promise<Balancer> {
  const table = new RoutingTable();
  const rt = buildRuntime(config, deps, table);
  const sync = createRegistrySync({ pool: deps.pool, table, log: deps.log });
  await sync.start();
  registerStateGauges(rt.metrics, table, deps.pool);
  const state: PublicState = { closing: false, inFlight: 0 };
  const app = buildPublicApp(rt, { ...defaultServerLimits, ...deps.serverLimits }, state);
  const control = await buildControlApp({
    pool: deps.pool, log: deps.log, metrics: rt.metrics.registry, adminToken: deps.adminToken, adminTokenSha256: deps.adminTokenSha256,
    auditSecret: deps.auditSecret, allowPrivateNodeUrls: config.allowPrivateNodeUrls, now: rt.now,
  }, deps.plugins ?? []);
  const health = new HealthProber({ pool: deps.pool, log: deps.log, table, outlier: rt.outlier, unhealthy: rt.unhealthy, intervalMs: config.healthInterval, now: rt.now });
  const refresher = new SiteRefresher({ table, hashes: rt.hashes, policies: rt.policies, log: deps.log, now: rt.now });
  if (deps.background?.health !== false) health.start();
  if (deps.background?.siteRefresh !== false) {
    refresher.start();
    // A site added or changed while we run gets its policy and manifest at once.
    table.onSiteChanged((site) => void refresher.refresh(site));
  }
  return {
    app, control, runtime: rt, sync,
    async listen(publicAddr, controlAddr) {
      await app.listen({ host: publicAddr.host, port: publicAddr.port });
      await control.listen({ host: controlAddr.host, port: controlAddr.port });
      return { publicUrl: urlOf(app.server.address()), controlUrl: urlOf(control.server.address()) };
    },
    async close() {
      // Keep listening while requests in flight finish, so new visitors get a clean 503 with
      // Connection: close rather than a refused connection; then stop.
      state.closing = true;
      const until = Date.now() + config.deadline + 1_000;
      while (state.inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await app.close();
      await control.close();
      await Promise.all([health.stop(), refresher.stop(), sync.close()]);
      await (rt.shadow as ShadowSampler).close();
      await Promise.all([rt.strikes.close(), rt.samples.close()]);
      rt.forwarder.close();
    },
  };
}
