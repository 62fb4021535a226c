import type { Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { ConfigOf } from '../common/config/options.js';
import { describeError, isVerityError, type VerityError } from '../common/errors.js';
import { createLogger, type Logger } from '../common/log.js';
import type { ProgramIO } from '../common/program.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, type NodeAnswer, type NodeStanding } from '../common/protocol/node-api.js';
import { createBalancerClient, type BalancerClient } from './balancer-client.js';
import { openDiskStore } from './cache/disk-store.js';
import { createHttpCache } from './cache/http-cache.js';
import { createBufferBudget } from './cache/pump.js';
import type { nodeProgram } from './config.js';
import { enroll } from './enroll.js';
import { createCounter, startHeartbeats, type Counter } from './heartbeat.js';
import { loadOrCreateIdentity, type NodeIdentity } from './identity.js';
import { lockDataDir } from './instance-lock.js';
import { listenOn } from '../common/listen.js';
import { closeGracefully, defaultPublicUrl, urlOf } from './listen.js';
import { checkCacheDir, createChecklist, type Checklist } from './preflight.js';
import { heartbeatStats, nodeName, standingChanges, statusView, type NodeParts, type NodeState } from './node-view.js';
import { createNodeServer } from './server.js';
import { createStatusServer, type StatusActions } from './status-server.js';
import { resolveProfile } from './profile.js';
import { createOriginFetcher, type OriginFetcher } from './origin-fetch.js';
import { createTrafficStats } from './traffic.js';
import { loadOrCreateTlsIdentity, type TlsIdentity } from './tls-identity.js';

export type NodeConfig = ConfigOf<typeof nodeProgram.options>;

interface Running extends NodeParts {
  config: NodeConfig;
  log: Logger;
  checklist: Checklist;
  fetcher: OriginFetcher;
  publicServer: Server;
  statusServer: Server;
  client: BalancerClient;
  counter: Counter;
  now: () => number;
  /** Releases the data dir's one-node lock. */
  unlock: () => Promise<void>;
}

async function prepareLocal(config: NodeConfig, checklist: Checklist) {
  let identity: NodeIdentity;
  try {
    identity = await loadOrCreateIdentity(config.dataDir);
  } catch (err) {
    checklist.fail('identity', describeError(err));
    throw err;
  }
  let unlock: () => Promise<void>;
  try {
    unlock = await lockDataDir(config.dataDir);
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
    await unlock();
    throw err;
  }
  const store = await openDiskStore(cacheDir, config.cacheSize).catch(async (err: unknown) => {
    await unlock();
    throw err;
  });
  const s = store.stats();
  checklist.pass('cache dir writable', `${cacheDir} (${s.entries} entries, ${s.bytes} of ${config.cacheSize} bytes)`);
  return { identity, store, unlock };
}

function reportStanding(checklist: Checklist, s: NodeStanding): void {
  checklist.pass('registered', `status ${s.status}, integrity ${s.integrity.toFixed(2)}, availability ${s.availability.toFixed(2)}, ${s.penalties.length} penalties`);
  if (s.sites.length === 0) checklist.fail('sites assigned', 'none yet: ask the site admins for a join token');
  else checklist.pass('sites assigned', s.sites.map((x) => x.host).join(', '));
}

function registerParams(r: Running) {
  return { name: nodeName(r.config), publicUrl: r.state.publicUrl, location: r.config.location ?? null };
}

async function connect(r: Running, signal: AbortSignal): Promise<NodeAnswer> {
  const params = registerParams(r);
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

/** A balancer answer: the standing to show, the request key to check requests with. */
function take(r: Running, answer: NodeAnswer): void {
  const { requestKey, ...standing } = answer;
  r.state.standing = standing;
  r.state.requestKey = requestKey;
}

function adopt(r: Running, answer: NodeAnswer): void {
  take(r, answer);
  r.counter.resetAbove(answer.heartbeatCounter);
}

async function startListeners(config: NodeConfig, p: NodeParts, actions: StatusActions, tls: TlsIdentity | null) {
  const publicServer = createNodeServer({
    ...(tls ? { tls } : {}),
    cache: p.cache, traffic: p.traffic, maxConcurrent: config.maxConcurrency, isDraining: () => p.state.draining, requestKey: () => p.state.requestKey,
    originFor: (host) => p.state.standing?.sites.find((s) => s.host === host)?.origin ?? null,
    health: () => ({ nodeId: p.identity.nodeId, status: p.state.standing?.status ?? 'unregistered', inFlight: p.traffic.inFlight() }),
  });
  const bound = await listenOn(publicServer, config.listen, { what: 'the node\'s listener for the balancer', flag: '--listen' });
  const statusServer = createStatusServer(() => statusView(p), actions);
  try {
    const statusBound = await listenOn(statusServer, config.statusListen, { what: 'the node\'s status page', flag: '--status-listen' });
    return { publicServer, statusServer, bound, statusBound };
  } catch (err) {
    await closeGracefully(publicServer, 0);
    throw err;
  }
}

export interface RunNodeDeps {
  io: ProgramIO;
  signal: AbortSignal;
  now?: () => number;
}

/** `verity node`: preflight, listen, enroll, heartbeat, serve; drain and exit 0 on SIGTERM. */
export async function runNode(given: NodeConfig, deps: RunNodeDeps): Promise<number> {
  const now = deps.now ?? Date.now;
  const log = createLogger({ level: given.logLevel, name: 'verity-node' });
  const checklist = createChecklist(deps.io.stdout);
  checklist.info('verity node preflight');
  const { identity, store, unlock } = await prepareLocal(given, checklist);
  const config: NodeConfig = { ...given, ...(await resolveProfile(given.dataDir, { name: given.name, location: given.location })) };
  const fetcher = createOriginFetcher({ maxSockets: config.maxConcurrency, now });
  const budget = createBufferBudget(config.maxBufferBytes);
  const cache = createHttpCache({ store, fetchOrigin: fetcher.fetch, now, originTimeoutMs: config.originTimeout, maxBodyBytes: config.maxBodyBytes, budget });
  const state: NodeState = { standing: null, requestKey: null, lastHeartbeatAt: null, lastError: null, draining: false, publicUrl: '', startedAt: new Date(now()).toISOString() };
  const parts: NodeParts = { identity, store, cache, traffic: createTrafficStats(), state, config };
  // TLS unless told otherwise (an http:// public URL says so too): the balancer pins our key.
  const tls = config.plainHttp || config.publicUrl?.startsWith('http:') ? null : await loadOrCreateTlsIdentity(config.dataDir, nodeName(config), new Date(now()));
  if (tls) checklist.pass('tls', `${tls.created ? 'new' : 'kept'} key, fingerprint ${tls.spki}`);
  const client = createBalancerClient({ baseUrl: config.balancer, identity, now, ...(tls ? { tlsSpki: tls.spki } : {}) });
  const counter = createCounter();
  // The status page's re-check button and evidence links speak to the balancer as this node.
  const actions: StatusActions = { recheck: (auditId) => client.recheck(counter.next(), auditId), evidence: (id) => client.evidence(counter.next(), id) };
  let listeners;
  try {
    listeners = await startListeners(config, parts, actions, tls);
  } catch (err) {
    checklist.fail('listen', describeError(err));
    fetcher.close();
    await store.close();
    await unlock();
    throw err;
  }
  const scheme = tls ? 'https' : 'http';
  state.publicUrl = config.publicUrl ?? defaultPublicUrl(listeners.bound, scheme);
  const r: Running = { ...parts, config, log, checklist, fetcher, client, counter, now, unlock, publicServer: listeners.publicServer, statusServer: listeners.statusServer };
  checklist.pass('listening', `${urlOf(listeners.bound.address, listeners.bound.port, scheme)} (public URL ${state.publicUrl})`);
  try {
    adopt(r, await connect(r, deps.signal));
  } catch (err) {
    await shutdown(r, false);
    if (deps.signal.aborted) return 0;
    throw err;
  }
  reportStanding(checklist, r.state.standing as NodeStanding);
  checklist.info(`verity node ready: node ${identity.nodeId} serving ${urlOf(listeners.bound.address, listeners.bound.port, scheme)}, status page ${urlOf(listeners.statusBound.address, listeners.statusBound.port)}/`);
  return serveUntilStopped(r, deps.signal);
}

/** The balancer lost track of us mid-run (unknown id or counter out of step): register again. */
async function registerAgain(r: Running): Promise<NodeAnswer> {
  const params = registerParams(r);
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
    client: r.client, counter: r.counter, stats: () => heartbeatStats(r), intervalMs: () => r.state.standing?.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
    onStanding: (s) => {
      for (const line of standingChanges(r.state.standing, s)) r.checklist.info(line);
      take(r, s);
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
  await r.unlock();
  if (tellBalancer) r.checklist.info('verity node stopped');
}
