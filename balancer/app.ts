import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { ConfigOf } from '../common/config/options.js';
import type { ListenAddress } from '../common/config/shared.js';
import { startNodeTrafficRecorder, type NodeTrafficRecorder } from '../common/db/node-traffic-recorder.js';
import type { Pool } from '../common/db/pool.js';
import type { Logger } from '../common/log.js';
import { nodeRequestKey } from '../common/protocol/node-request-auth.js';
import { HealthProber } from './background/health.js';
import { Invalidator } from './background/invalidate.js';
import { RttRecorder } from './background/rtt.js';
import { ShadowSampler } from './background/shadow.js';
import { SiteRefresher } from './background/site-refresh.js';
import { StrikeQueue } from './background/strikes.js';
import { UrlSampler } from './background/url-samples.js';
import type { balancerProgram } from './config.js';
import { startOfflineSweeper, type OfflineSweeperOptions } from './control/offline-sweeper.js';
import { buildControlApp } from './control/server.js';
import { certificateApiPlugin } from './control/certificate-api.js';
import { acmeFromConfig } from './acme/from-config.js';
import type { AcmeManager } from './acme/manager.js';
import type { ControlPlugin } from './control/types.js';
import { createPublicServer, defaultServerLimits, type PublicServerLimits, type PublicState } from './edge/public-server.js';
import type { TlsListener } from './edge/tls-server.js';
import { httpsListener, relayWebSockets } from './edge/secure-side.js';
import { CertStore } from './tls/cert-store.js';
import { createSecretBox } from '../common/tls/secret-box.js';
import { VerityError } from '../common/errors.js';
import type { Server as NetServer } from 'node:net';
import { listenOn, urlOf } from './edge/listen.js';
import { drainConnections } from './edge/shutdown.js';
import { createCountryResolver, createGeoipResolver, type GeoResolver } from './geo/resolver.js';
import { ByteBudget } from './integrity/budget.js';
import { createMetrics, registerStateGauges } from './metrics.js';
import { ManifestStore } from './publication/manifest.js';
import { createPublicationSync } from './publication/persist.js';
import { Revalidator } from './publication/revalidate.js';
import { PublicationStore } from './publication/store.js';
import { createRegistrySync, type RegistrySync } from './registry/sync.js';
import { RoutingTable } from './registry/table.js';
import { compileTrustedProxies } from './routes/client-address.js';
import { NonceCache } from './routes/nonce-cache.js';
import type { Runtime } from './routes/runtime.js';
import { defaultOutlierOptions, OutlierDetector, type OutlierOptions } from './selection/outlier.js';
import { ProbationMeter } from './selection/probation-meter.js';
import { RetryBudget } from './selection/retry-budget.js';
import { defaultResolveHost, nodeLookup, type ResolveHost } from './upstream/node-lookup.js';
import { Upstreams } from './upstream/pools.js';
import { nodeConnector } from './upstream/node-tls.js';

export type BalancerConfig = ConfigOf<(typeof balancerProgram)['options']>;

export interface BalancerDeps {
  pool: Pool;
  log: Logger;
  adminToken: string;
  /** sha256 (hex) of the admin token, when only the hash is known (later starts). */
  adminTokenSha256?: string;
  auditSecret: string;
  /** The secret every balancer derives node request keys from (settings `node_request_secret`). */
  nodeRequestSecret: string;
  plugins?: readonly ControlPlugin[];
  now?: () => number;
  random?: () => number;
  /** Address → location; default geoip-lite. */
  geo?: GeoResolver;
  metrics?: Registry;
  serverLimits?: Partial<PublicServerLimits>;
  outlier?: Partial<OutlierOptions>;
  /** Background loops (health probes, legacy manifest refresh, offline sweep); default on. */
  background?: { health?: boolean; siteRefresh?: boolean; offlineSweep?: boolean };
  /** Marks nodes offline whose heartbeats stopped (default every 5 s, silent for 30 s). */
  offlineSweep?: Partial<OfflineSweeperOptions>;
  /** Shutdown: once in-flight requests finished, 503s go on until no visitor arrived for this long (default 500 ms, bounded by the deadline). */
  drainQuietMs?: number;
  /** How often finished minutes of per-node traffic are written (default 15 s; all is written on close). */
  trafficFlushMs?: number;
  /** Name → addresses for connections to nodes (default dns.lookup); checked again at connect time. */
  resolveHost?: ResolveHost;
  /** ACME timing (tests use short ones). */
  acme?: { intervalMs?: number; propagationMs?: number };
  /** Called after each shadow comparison (tests, logs). */
  onShadowResult?: (r: { nodeId: string; url: string; mismatched: string[] }) => void;
}

export interface Balancer {
  /** Visitors' side. */
  server: Server;
  /** Control plane: /healthz, /metrics, plugins. */
  control: FastifyInstance;
  runtime: Runtime;
  sync: RegistrySync;
  /** Background requests about published URLs (confirmations, revalidations). */
  revalidator: Revalidator;
  /** Site certificates and ACME challenges in memory (null without --tls-secret). */
  certs: CertStore | null;
  /** Automatic certificates (--acme-directory), or null. */
  acme: AcmeManager | null;
  /** The HTTPS port is listening. */
  readonly tlsListening: boolean;
  /** Listens on both addresses (and --tls-listen); returns the URLs actually bound (port 0 → a free port). */
  listen(publicAddr: ListenAddress, controlAddr: ListenAddress): Promise<{ publicUrl: string; controlUrl: string; tlsUrl: string | null }>;
  /** Graceful: new requests get 503 + Connection: close, in-flight ones finish, queues flush. */
  close(): Promise<void>;
}

interface Parts {
  rt: Runtime;
  shadow: ShadowSampler;
  sync: ReturnType<typeof createPublicationSync>;
  revalidator: Revalidator;
}

function buildRuntime(config: BalancerConfig, deps: BalancerDeps, table: RoutingTable, traffic: NodeTrafficRecorder): Parts {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const metrics = createMetrics(deps.metrics ?? new Registry());
  // Node names are resolved and checked again at every connection (DNS rebinding).
  const lookup = nodeLookup({ resolve: deps.resolveHost ?? defaultResolveHost, allowPrivate: config.allowPrivateNodeUrls, log: deps.log });
  // TLS to nodes accepts the keys registered for the node at that URL (upstream/node-tls.ts).
  const nodeConnect = nodeConnector({ lookup, pinsFor: (origin) => table.pinsFor(origin) });
  const upstreams = new Upstreams({ nodeLookup: lookup, nodeConnect, connections: 128, originHeadersTimeoutMs: config.originTimeout });
  const strikes = new StrikeQueue({ pool: deps.pool, log: deps.log, now });
  const publications = new PublicationStore();
  const manifests = new ManifestStore({ pool: deps.pool, log: deps.log, siteIds: () => [...table.allSites()].map((s) => s.id) });
  const revalidator = new Revalidator({ table, store: publications, manifests, log: deps.log, upstreams, now, maxBytes: config.maxResponseSize, timeoutMs: 30_000 });
  const sync = createPublicationSync({ pool: deps.pool, log: deps.log, store: publications, now });
  // A URL seen once (or changed) is fetched again to tell stable bytes from changing ones; a
  // manifest's files are fetched ahead, so they are published before the first visitor.
  publications.onChange({
    changed: (pub, change) => {
      if ((change === 'new' || change === 'changed') && pub.mode === 'pending') revalidator.confirm(pub);
    },
  });
  manifests.onEntry = (siteId, path) => revalidator.learn(siteId, path, {}, 'identity');
  const keys = new Map<string, string>();
  const nodeKey = (id: string): string => {
    let k = keys.get(id);
    if (!k) keys.set(id, (k = nodeRequestKey(deps.nodeRequestSecret, id)));
    return k;
  };
  const shadow = new ShadowSampler({ pool: deps.pool, log: deps.log, table, strikes, onResult: deps.onShadowResult });
  const rt: Runtime = {
    pool: deps.pool, log: deps.log, table, upstreams, geo: deps.geo ?? createGeoipResolver(), countryOf: createCountryResolver(),
    trustedProxies: compileTrustedProxies(config.trustedProxies), auditSecret: deps.auditSecret, pinNonces: new NonceCache(now),
    outstanding: new Map(), outlier: new OutlierDetector({ ...defaultOutlierOptions, ...deps.outlier }),
    probation: new ProbationMeter(config.probationShare), retryBudget: new RetryBudget(config.retryBudget), unhealthy: new Set(),
    publications, publicationSync: sync, revalidator, manifests, budget: new ByteBudget(config.bufferBudget),
    strikes, samples: new UrlSampler({ pool: deps.pool, log: deps.log, random }), shadow,
    invalidator: new Invalidator({ table, upstreams, nodeKey, log: deps.log, now }),
    metrics, traffic, nodeKey,
    limits: {
      attemptTimeoutMs: config.attemptTimeout, deadlineMs: config.deadline, bodyLimit: config.bodyLimit, bufferLimit: config.bufferLimit,
      maxResponseSize: config.maxResponseSize, shadowShare: config.shadowShare, maxAttempts: 3,
    },
    now, random,
  };
  return { rt, shadow, sync, revalidator };
}

export interface PublicSide {
  server: Server;
  /** The HTTPS port (--tls-listen), or null. */
  tls: TlsListener | null;
  certs: CertStore | null;
  /** Listens on --tls-listen, if set; returns its URL. */
  listenTls(): Promise<string | null>;
  runtime: Runtime;
  sync: RegistrySync;
  revalidator: Revalidator;
  listen(addr: ListenAddress): Promise<string>;
  close(): Promise<void>;
}

/** The visitors' side, with the routing table loaded and its background loops; nothing listens until listen(). */
export async function buildPublicSide(config: BalancerConfig, deps: BalancerDeps): Promise<PublicSide> {
  const table = new RoutingTable();
  const traffic = startNodeTrafficRecorder({ db: deps.pool, log: deps.log, now: deps.now ?? Date.now, intervalMs: deps.trafficFlushMs });
  const { rt, shadow, sync: publicationSync, revalidator } = buildRuntime(config, deps, table, traffic);
  if (config.tlsListen && !config.tlsSecret) throw new VerityError('TLS_ERR_NO_SECRET');
  const certs = config.tlsSecret ? new CertStore({ db: deps.pool, box: createSecretBox(config.tlsSecret), log: deps.log, now: rt.now }) : null;
  const sync = createRegistrySync({ pool: deps.pool, table, log: deps.log, also: [publicationSync.channel, rt.manifests.channel(), ...(certs?.channels() ?? [])] });
  await sync.start();
  await certs?.loadAll();
  await rt.manifests.loadAll([...table.allSites()].map((s) => s.id));
  await publicationSync.warm(10_000);
  registerStateGauges(rt.metrics, table, deps.pool);
  const state: PublicState = { closing: false, inFlight: 0, connections: null };
  const limits = { ...defaultServerLimits, ...deps.serverLimits };
  const server = createPublicServer(rt, limits, state, certs);
  const tls = config.tlsListen && certs ? httpsListener({ rt, table, certs, limits, state, log: deps.log }) : null;
  relayWebSockets({ rt, limits, state, servers: [server, tls?.http1], idleTimeoutMs: config.wsIdleTimeout, perClient: config.wsPerClient });
  const lookup = nodeLookup({ resolve: deps.resolveHost ?? defaultResolveHost, allowPrivate: config.allowPrivateNodeUrls, log: deps.log });
  // With --location, probe round trips check the locations nodes declare (balancer/geo).
  const rtt = config.location ? new RttRecorder({ pool: deps.pool, log: deps.log, vantage: config.location, now: rt.now }) : undefined;
  const health = new HealthProber({ pool: deps.pool, log: deps.log, table, outlier: rt.outlier, unhealthy: rt.unhealthy, intervalMs: config.healthInterval, now: rt.now, lookup, rtt });
  const refresher = new SiteRefresher({ table, manifests: rt.manifests, log: deps.log });
  if (deps.background?.health !== false) health.start();
  if (deps.background?.siteRefresh !== false) {
    refresher.start();
    table.onSiteChanged((site) => void refresher.refresh(site));
  }
  table.onSiteChanged((site) => void rt.manifests.load(site.id).catch(() => undefined));
  const drain = async (listener: NetServer, tracker: PublicState['connections']): Promise<void> => {
    if (tracker && listener.listening) await drainConnections(listener, tracker, () => state.inFlight, { deadlineMs: config.deadline, quietMs: deps.drainQuietMs ?? 500 });
  };
  return {
    server, runtime: rt, sync, revalidator, tls, certs,
    async listen(addr) {
      await listenOn(server, addr);
      return urlOf(server.address());
    },
    async listenTls() {
      if (!tls || !config.tlsListen) return null;
      await listenOn(tls.listener, config.tlsListen);
      return urlOf(tls.listener.address(), 'https');
    },
    async close() {
      // Keep listening while requests in flight finish, so new visitors get a clean 503 with
      // Connection: close rather than a refused connection; then stop (balancer/edge/shutdown.ts).
      state.closing = true;
      await Promise.all([drain(server, state.connections), tls ? drain(tls.listener, tls.tracker) : undefined]);
      await Promise.all([health.stop(), refresher.stop(), sync.close(), revalidator.close()]);
      await rtt?.flush();
      await shadow.close();
      await Promise.all([rt.strikes.close(), rt.samples.close(), traffic.stop(), publicationSync.close()]);
      await rt.upstreams.close();
    },
  };
}

export interface ControlSide {
  control: FastifyInstance;
  /** Automatic certificates (--acme-directory), or null. */
  acme: AcmeManager | null;
  listen(addr: ListenAddress): Promise<string>;
  close(): Promise<void>;
}

/** The control plane (node API, admin API, dashboard, /metrics) and the offline sweeper. */
export async function buildControlSide(config: BalancerConfig, deps: BalancerDeps, metrics: Registry): Promise<ControlSide> {
  const now = deps.now ?? Date.now;
  const acme = await acmeFromConfig(config, { pool: deps.pool, log: deps.log, metrics, now, ...deps.acme });
  const control = await buildControlApp({
    pool: deps.pool, log: deps.log, metrics, adminToken: deps.adminToken, adminTokenSha256: deps.adminTokenSha256,
    auditSecret: deps.auditSecret, allowPrivateNodeUrls: config.allowPrivateNodeUrls, now,
    // A node registering through our TLS proxy is recorded with its own address and subnet.
    trustedProxies: config.trustedProxies.length > 0 ? compileTrustedProxies(config.trustedProxies) : undefined,
  }, [...(deps.plugins ?? []), certificateApiPlugin(acme)]);
  // Advisory-locked: with several balancers on one database, one sweeps at a time.
  const stopSweeper = deps.background?.offlineSweep === false ? () => undefined
    : startOfflineSweeper({ pool: deps.pool, log: deps.log, now }, { intervalMs: 5_000, staleAfterMs: 30_000, ...deps.offlineSweep });
  return {
    control, acme,
    async listen(addr) {
      await control.listen({ host: addr.host, port: addr.port });
      // Once the public side listens too (it did first): the CA's checks reach it.
      acme?.start();
      return urlOf(control.server.address());
    },
    async close() {
      stopSweeper();
      await acme?.stop();
      await control.close();
    },
  };
}

/** Both sides in one process; nothing listens until listen(). */
export async function buildBalancer(config: BalancerConfig, deps: BalancerDeps): Promise<Balancer> {
  const pub = await buildPublicSide(config, deps);
  const ctl = await buildControlSide(config, deps, pub.runtime.metrics.registry);
  return {
    server: pub.server, control: ctl.control, runtime: pub.runtime, sync: pub.sync, revalidator: pub.revalidator, certs: pub.certs, acme: ctl.acme,
    get tlsListening() {
      return pub.tls?.listener.listening ?? false;
    },
    async listen(publicAddr, controlAddr) {
      const publicUrl = await pub.listen(publicAddr);
      const tlsUrl = await pub.listenTls();
      const controlUrl = await ctl.listen(controlAddr);
      return { publicUrl, controlUrl, tlsUrl };
    },
    async close() {
      await pub.close();
      await ctl.close();
    },
  };
}
