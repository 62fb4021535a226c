import type { Server } from 'node:http';
import { hostname, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { ConfigOf } from '../common/config/options.js';
import { describeError, isVerityError, type VerityError } from '../common/errors.js';
import { createLogger, type Logger } from '../common/log.js';
import type { ProgramIO } from '../common/program.js';
import type { HeartbeatStats, NodeStanding } from '../common/protocol/node-api.js';
import { createBalancerClient, type BalancerClient } from './balancer-client.js';
import { openDiskStore, type DiskStore } from './cache/disk-store.js';
import { createHttpCache, type HttpCache } from './cache/http-cache.js';
import type { nodeProgram } from './config.js';
import { enroll } from './enroll.js';
import { createCounter, startHeartbeats, type Counter } from './heartbeat.js';
import { loadOrCreateIdentity, type NodeIdentity } from './identity.js';
import { closeGracefully, defaultPublicUrl, listen, urlOf } from './listen.js';
import { checkCacheDir, createChecklist, type Checklist } from './preflight.js';
import { createNodeServer } from './server.js';
import { createStatusServer, type StatusView } from './status-page.js';
import { createOriginFetcher, type OriginFetcher } from './origin-fetch.js';
import { createTrafficStats, type TrafficStats } from './traffic.js';

export type NodeConfig = ConfigOf<typeof nodeProgram.options>;

interface NodeState {
  standing: NodeStanding | null;
  lastHeartbeatAt: string | null;
  lastError: string | null;
  draining: boolean;
}

interface Running {
  config: NodeConfig;
  log: Logger;
  checklist: Checklist;
  identity: NodeIdentity;
  store: DiskStore;
  fetcher: OriginFetcher;
  cache: HttpCache;
  traffic: TrafficStats;
  state: NodeState;
  publicServer: Server;
  statusServer: Server;
  publicUrl: string;
  client: BalancerClient;
  counter: Counter;
  now: () => number;
}

async function prepareLocal(config: NodeConfig, checklist: Checklist) {
  let identity: NodeIdentity;
  try {
    identity = await loadOrCreateIdentity(config.dataDir);
  } catch (err) {
    checklist.fail('identity', describeError(err));
    throw err;
  }
  checklist.pass('identity', `node ${identity.nodeId} (${identity.created ? 'new key' : 'key'} ${identity.keyPath})`);
  if (identity.warning) checklist.info(`warning: ${identity.warning}`);
  const cacheDir = config.cacheDir ?? join(config.dataDir, 'cache');
  try {
    await checkCacheDir(cacheDir);
  } catch (err) {
    checklist.fail('cache dir writable', describeError(err));
    throw err;
  }
  const store = await openDiskStore(cacheDir, config.cacheSize);
  const s = store.stats();
  checklist.pass('cache dir writable', `${cacheDir} (${s.entries} entries, ${s.bytes} of ${config.cacheSize} bytes)`);
  return { identity, store };
}

function heartbeatStats(r: Pick<Running, 'traffic' | 'cache' | 'store'>): HeartbeatStats {
  const t = r.traffic.snapshot();
  const c = r.cache.counters();
  const s = r.store.stats();
  return {
    inFlight: t.inFlight, requestsTotal: t.requestsTotal, errorsTotal: t.errorsTotal, cacheHits: c.hits + c.revalidated,
    cacheMisses: c.misses, cacheBytes: s.bytes, cacheEntries: s.entries, loadAvg1m: Math.max(0, loadavg()[0] ?? 0),
  };
}

function statusView(r: Running): StatusView {
  const c = r.cache.counters();
  const s = r.store.stats();
  const lookups = c.hits + c.revalidated + c.misses;
  return {
    nodeId: r.identity.nodeId, name: r.config.name ?? hostname(), publicUrl: r.publicUrl, balancer: r.config.balancer,
    startedAt: startedAt, standing: r.state.standing, lastHeartbeatAt: r.state.lastHeartbeatAt, lastError: r.state.lastError,
    traffic: r.traffic.snapshot(),
    cache: { ...c, hitRate: lookups === 0 ? null : (c.hits + c.revalidated) / lookups, bytes: s.bytes, entries: s.entries, capBytes: s.capBytes },
  };
}

const startedAt = new Date().toISOString();

function reportStanding(checklist: Checklist, s: NodeStanding): void {
  checklist.pass('registered', `status ${s.status}, integrity ${s.integrity.toFixed(2)}, availability ${s.availability.toFixed(2)}, ${s.penalties.length} penalties`);
  if (s.sites.length === 0) checklist.fail('sites assigned', 'none yet: ask the site admins for a join token');
  else checklist.pass('sites assigned', s.sites.map((x) => x.host).join(', '));
}

async function connect(r: Running, signal: AbortSignal): Promise<NodeStanding> {
  const params = { name: r.config.name ?? hostname().slice(0, 64), publicUrl: r.publicUrl, location: r.config.location ?? null };
  const t0 = r.now();
  try {
    const standing = await enroll({
      client: r.client, balancer: r.config.balancer, dataDir: r.config.dataDir, nodeId: r.identity.nodeId, params, token: r.config.token,
      checklist: r.checklist, now: r.now, signal, sleep: (ms, sig) => sleepFor(ms, undefined, { signal: sig }).catch(() => undefined),
    });
    r.checklist.pass('balancer reachable', `${r.config.balancer} (${r.now() - t0} ms)`);
    return standing;
  } catch (err) {
    if (signal.aborted) throw err;
    if (isVerityError(err, 'NODE_ERR_BALANCER_UNREACHABLE')) r.checklist.fail('balancer reachable', err.message);
    else r.checklist.fail('registered', describeError(err));
    throw err;
  }
}

function adopt(r: Running, s: NodeStanding): void {
  r.state.standing = s;
  r.counter.resetAbove(s.heartbeatCounter);
}

async function startListeners(config: NodeConfig, r: Omit<Running, 'publicServer' | 'statusServer' | 'publicUrl' | 'client'>) {
  const publicServer = createNodeServer({
    cache: r.cache, traffic: r.traffic, maxConcurrent: config.maxConcurrency, isDraining: () => r.state.draining,
    originFor: (host) => r.state.standing?.sites.find((s) => s.host === host)?.origin ?? null,
    health: () => ({ nodeId: r.identity.nodeId, status: r.state.standing?.status ?? 'unregistered', inFlight: r.traffic.inFlight() }),
  });
  const bound = await listen(publicServer, config.listen);
  let statusServer: Server | null = null;
  const holder = { view: (): StatusView | null => null };
  statusServer = createStatusServer(() => holder.view() as StatusView);
  const statusBound = await listen(statusServer, config.statusListen);
  return { publicServer, statusServer, bound, statusBound, holder };
}

export interface RunNodeDeps {
  io: ProgramIO;
  signal: AbortSignal;
  now?: () => number;
}

/** `verity node`: preflight, listen, enroll, heartbeat, serve; drain and exit 0 on SIGTERM. */
export async function runNode(config: NodeConfig, deps: RunNodeDeps): Promise<number> {
  const now = deps.now ?? Date.now;
  const log = createLogger({ level: config.logLevel, name: 'verity-node' });
  const checklist = createChecklist(deps.io.stdout);
  checklist.info('verity node preflight');
  const { identity, store } = await prepareLocal(config, checklist);
  const fetcher = createOriginFetcher({ maxSockets: config.maxConcurrency, now });
  const cache = createHttpCache({ store, fetchOrigin: fetcher.fetch, now, originTimeoutMs: config.originTimeout, maxBodyBytes: config.maxBodyBytes });
  const base = { config, log, checklist, identity, store, fetcher, cache, traffic: createTrafficStats(), counter: createCounter(), now, state: { standing: null, lastHeartbeatAt: null, lastError: null, draining: false } as NodeState };
  let listeners;
  try {
    listeners = await startListeners(config, base);
  } catch (err) {
    checklist.fail('listen', describeError(err));
    fetcher.close();
    await store.close();
    throw err;
  }
  const publicUrl = config.publicUrl ?? defaultPublicUrl(listeners.bound);
  const client = createBalancerClient({ baseUrl: config.balancer, identity, now });
  const r: Running = { ...base, publicServer: listeners.publicServer, statusServer: listeners.statusServer, publicUrl, client };
  listeners.holder.view = () => statusView(r);
  checklist.pass('listening', `${urlOf(listeners.bound.address, listeners.bound.port)} (public URL ${publicUrl})`);
  try {
    adopt(r, await connect(r, deps.signal));
  } catch (err) {
    await shutdown(r, false);
    if (deps.signal.aborted) return 0;
    throw err;
  }
  reportStanding(checklist, r.state.standing as NodeStanding);
  checklist.info(`verity node ready: node ${identity.nodeId} serving ${urlOf(listeners.bound.address, listeners.bound.port)}, status page ${urlOf(listeners.statusBound.address, listeners.statusBound.port)}/`);
  return serveUntilStopped(r, deps.signal);
}

/** The balancer lost track of us mid-run (unknown id or counter out of step): register again. */
async function registerAgain(r: Running): Promise<NodeStanding> {
  const params = { name: r.config.name ?? hostname().slice(0, 64), publicUrl: r.publicUrl, location: r.config.location ?? null };
  try {
    return await r.client.register({ ...params, token: undefined });
  } catch (err) {
    if (!isVerityError(err, 'NODE_ERR_TOKEN_REJECTED') || !r.config.token) throw err;
    return r.client.register({ ...params, token: r.config.token });
  }
}

async function serveUntilStopped(r: Running, signal: AbortSignal): Promise<number> {
  let fatal: ((e: VerityError) => void) | null = null;
  const fatalP = new Promise<VerityError>((resolve) => (fatal = resolve));
  const reRegister = async () => adopt(r, await registerAgain(r));
  const heartbeats = startHeartbeats({
    client: r.client, counter: r.counter, stats: () => heartbeatStats(r), intervalMs: () => r.state.standing?.heartbeatIntervalMs ?? 5000,
    onStanding: (s) => {
      r.state.standing = s;
      r.state.lastHeartbeatAt = new Date(r.now()).toISOString();
      r.state.lastError = null;
    },
    onError: (err) => {
      r.state.lastError = `${new Date(r.now()).toISOString()} ${describeError(err)}`;
      r.log.warn({ err: describeError(err) }, 'heartbeat failed');
    },
    onFatal: (err) => fatal?.(err),
    reRegister,
  });
  const stopped = new Promise<null>((resolve) => (signal.aborted ? resolve(null) : signal.addEventListener('abort', () => resolve(null), { once: true })));
  const outcome = await Promise.race([fatalP, stopped]);
  await heartbeats.stop();
  await shutdown(r, outcome === null);
  if (outcome) throw outcome;
  return 0;
}

async function shutdown(r: Running, tellBalancer: boolean): Promise<void> {
  r.state.draining = true;
  if (tellBalancer) {
    try {
      await r.client.drain(r.counter.next());
      r.checklist.info('draining: the balancer sends no new visitors; finishing requests in flight');
    } catch (err) {
      r.log.warn({ err: describeError(err) }, 'could not tell the balancer we are draining');
    }
  }
  await closeGracefully(r.publicServer, r.config.drainTimeout);
  await closeGracefully(r.statusServer, 1000);
  r.fetcher.close();
  await r.store.close();
  if (tellBalancer) r.checklist.info('verity node stopped');
}
