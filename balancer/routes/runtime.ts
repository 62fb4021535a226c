import type { NodeTrafficRecorder } from '../../common/db/node-traffic-recorder.js';
import type { Pool } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';
import type { Invalidator } from '../background/invalidate.js';
import type { StrikeQueue } from '../background/strikes.js';
import type { UrlSampler } from '../background/url-samples.js';
import type { GeoResolver } from '../geo/resolver.js';
import type { ByteBudget } from '../integrity/budget.js';
import type { BalancerMetrics } from '../metrics.js';
import type { ManifestStore } from '../publication/manifest.js';
import type { PublicationSync } from '../publication/persist.js';
import type { Revalidator } from '../publication/revalidate.js';
import type { PublicationStore } from '../publication/store.js';
import type { RoutingTable } from '../registry/table.js';
import type { OutlierDetector } from '../selection/outlier.js';
import type { ProbationMeter } from '../selection/probation-meter.js';
import type { RetryBudget } from '../selection/retry-budget.js';
import type { Upstreams } from '../upstream/pools.js';
import type { TrustedProxies } from './client-address.js';
import type { NonceCache } from './nonce-cache.js';

/** Limits of the request path, from the balancer's configuration. */
export interface PathLimits {
  attemptTimeoutMs: number;
  deadlineMs: number;
  bodyLimit: number;
  /** Bodies up to this size are buffered and verified whole; larger ones piece by piece. */
  bufferLimit: number;
  maxResponseSize: number;
  shadowShare: number;
  maxAttempts: number;
}

/** Background work the request path hands off (never awaited by a visitor). */
export interface ShadowSink {
  offer(sample: { siteId: string; nodeId: string; url: string; host: string; contentType: string | string[] | undefined; encoding: string | null; body: Buffer }): void;
}

/** Everything the request path reads: in memory, synchronous. */
export interface Runtime {
  pool: Pool;
  log: Logger;
  table: RoutingTable;
  upstreams: Upstreams;
  geo: GeoResolver;
  /** A visitor address's country (GeoIP; cached), for the traffic mix audits imitate. */
  countryOf: (ip: string) => string | null;
  trustedProxies: TrustedProxies;
  auditSecret: string;
  pinNonces: NonceCache;
  outstanding: Map<string, number>;
  outlier: OutlierDetector;
  probation: ProbationMeter;
  retryBudget: RetryBudget;
  /** Node health as the active prober last saw it (absent → healthy). */
  unhealthy: Set<string>;
  publications: PublicationStore;
  publicationSync: PublicationSync;
  revalidator: Revalidator;
  manifests: ManifestStore;
  budget: ByteBudget;
  strikes: StrikeQueue;
  samples: UrlSampler;
  shadow: ShadowSink;
  invalidator: Invalidator;
  metrics: BalancerMetrics;
  /** Per-node traffic for the dashboard (node_traffic); observe() does no I/O. */
  traffic: Pick<NodeTrafficRecorder, 'observe'>;
  /** The key this balancer signs requests to a node with (common/protocol/node-request-auth.ts). */
  nodeKey(nodeId: string): string;
  limits: PathLimits;
  now: () => number;
  random: () => number;
}
