import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { acceptHeartbeat, markDraining, registerNode, rotateTlsKey } from '../../common/db/queries/node-registry.js';
import { loadRtt } from '../../common/db/queries/node-location.js';
import { recordTrustEvent } from '../../common/db/queries/trust.js';
import { getOrCreateSetting, getSetting } from '../../common/db/queries/settings.js';
import { defaultSecrecyPolicy, validateSecrecyPolicy, type SecrecyPolicy } from '../../common/domain/disclosure.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, NONCE_TTL_MS, paths, type NodeAnswer } from '../../common/protocol/node-api.js';
import { NODE_REQUEST_SECRET_SETTING, nodeRequestKey } from '../../common/protocol/node-request-auth.js';
import { gatherLocationFacts, judgeLocation } from '../geo/node-location.js';
import type { GeoLocator } from '../geo/resolver.js';
import { ApiError, authenticateEnvelope, createKeyCache, refusal, send, verifyRegistration, type KeyCache, type RawJson } from './node-api-auth.js';
import { evidence, recheck, type RecheckOptions } from './node-api-recheck.js';
import { createNonceIssuer, type NonceIssuer } from './node-nonce.js';
import { loadNodeStanding } from './node-standing.js';
import { defaultResolve } from './ssrf.js';
import { clientAddress } from '../routes/client-address.js';
import { canonicalAddress, subnetOf } from './subnet.js';
import type { ControlDeps, ControlPlugin } from './types.js';

// The node-facing API: challenge, register, heartbeat, drain (docs/node-protocol.md). Every
// request but the challenge is signed by the node's Ed25519 key over the exact body bytes, so
// the JSON parser below keeps the raw buffer next to the parsed value.

export interface NodeApiOptions {
  /** How often nodes are told to heartbeat. */
  heartbeatIntervalMs?: number;
  nonceTtlMs?: number;
  /** Name resolution for the SSRF check of public URLs (default dns.lookup). */
  resolve?: (host: string) => Promise<string[]>;
  random?: (n: number) => Buffer;
  /** The audit-secrecy delay of what nodes are told about their trust (default 10–60 min, batched). */
  secrecy?: SecrecyPolicy;
  /** GeoIP lookups for the location check (default geoip-lite). */
  geo?: GeoLocator;
  /** Re-checks a volunteer may ask for. */
  recheck?: Partial<RecheckOptions>;
}

const BODY_LIMIT_BYTES = 64 * 1024;

const METRIC = 'verity_node_api_requests_total';

/** One counter per registry, even if the plugin is mounted on several apps sharing it. */
function requestCounter(registry: Registry): Counter<'endpoint' | 'outcome'> {
  const existing = registry.getSingleMetric(METRIC);
  if (existing) return existing as Counter<'endpoint' | 'outcome'>;
  return new Counter({ name: METRIC, help: 'node API requests by endpoint and outcome (ok or error code)', labelNames: ['endpoint', 'outcome'], registers: [registry] });
}

export interface Ctx {
  deps: ControlDeps;
  keys: KeyCache;
  nonces: NonceIssuer;
  resolve: ((host: string) => Promise<string[]>) | undefined;
  geo: GeoLocator | undefined;
  secrecy: SecrecyPolicy;
  recheck: RecheckOptions;
  standing: (nodeId: string) => Promise<NodeAnswer>;
}

async function register(ctx: Ctx, request: FastifyRequest): Promise<NodeAnswer> {
  const { deps } = ctx;
  const reg = await verifyRegistration(request, deps, ctx.nonces, ctx.resolve);
  const peer = request.socket.remoteAddress ?? '';
  const ip = canonicalAddress(deps.trustedProxies ? clientAddress(peer, request.headers['x-forwarded-for'], deps.trustedProxies) : peer);
  // The claim is judged now, against GeoIP and any RTT already measured; later RTTs judge it again.
  const facts = await gatherLocationFacts(ip, reg.publicUrl, ctx.resolve ?? defaultResolve, ctx.geo);
  const check = judgeLocation(reg.location ?? null, facts, await loadRtt(deps.pool, reg.nodeId, reg.publicUrl));
  const outcome = await registerNode(deps.pool, {
    nodeId: reg.nodeId, publicKey: reg.publicKey, name: reg.name, publicUrl: reg.publicUrl, location: reg.location ?? null,
    token: reg.token, registeredIp: ip, subnet: ip ? subnetOf(ip) : null, locationFacts: facts, locationCheck: check, tlsSpki: reg.tlsSpki ?? null, now: new Date(deps.now()),
  });
  if (outcome.kind === 'banned') throw new ApiError('NODE_ERR_REVOKED', 'this node has been banned by the balancer admins');
  if (outcome.kind === 'token_required') throw new ApiError('NODE_ERR_TOKEN_REJECTED', 'this node is not enrolled here yet: a join token is needed');
  if (outcome.kind === 'token_rejected') throw new ApiError('NODE_ERR_TOKEN_REJECTED', 'the join token is unknown, already used, revoked or expired');
  deps.log.info({ node: { id: reg.nodeId, name: reg.name, publicUrl: reg.publicUrl, outcome: outcome.kind, identityChanges: outcome.identityChanges, location: check.status } }, 'node registered');
  return ctx.standing(reg.nodeId);
}

async function heartbeat(ctx: Ctx, request: FastifyRequest): Promise<NodeAnswer> {
  const env = await authenticateEnvelope(ctx.deps, ctx.keys, 'heartbeat', request);
  const now = new Date(ctx.deps.now());
  const figures = { ...env.stats, nodeTime: env.timestamp, receivedAt: now.toISOString() };
  const accepted = await acceptHeartbeat(ctx.deps.pool, { nodeId: env.nodeId, counter: env.counter, figures, now });
  if (!accepted) throw await refusal(ctx.deps, 'heartbeat', env);
  if (env.tlsSpki !== undefined) await rotateTlsKey(ctx.deps.pool, env.nodeId, env.tlsSpki);
  if (accepted.status === 'offline') {
    await recordTrustEvent(ctx.deps.pool, env.nodeId, { kind: 'heartbeat_resumed', reason: 'heartbeats resumed' }, now);
  }
  return ctx.standing(env.nodeId);
}

async function drain(ctx: Ctx, request: FastifyRequest): Promise<NodeAnswer> {
  const env = await authenticateEnvelope(ctx.deps, ctx.keys, 'drain', request);
  const ok = await markDraining(ctx.deps.pool, { nodeId: env.nodeId, counter: env.counter, now: new Date(ctx.deps.now()) });
  if (!ok) throw await refusal(ctx.deps, 'drain', env);
  ctx.deps.log.info({ node: { id: env.nodeId } }, 'node draining');
  return ctx.standing(env.nodeId);
}

/** Counts outcomes and turns refusals into their coded answers. */
function guarded(deps: ControlDeps, fn: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) {
  const counter = requestCounter(deps.metrics);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    // The route pattern, not the URL: a query string must not mint new label values.
    const route = request.routeOptions.url ?? '';
    const endpoint = route.slice(route.lastIndexOf('/') + 1);
    try {
      const result = await fn(request, reply);
      counter.inc({ endpoint, outcome: 'ok' });
      return result;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      counter.inc({ endpoint, outcome: err.code });
      deps.log.info({ node: { path: request.url, ip: request.ip, code: err.code } }, 'node API request refused');
      return send(reply, err);
    }
  };
}

function routes(scope: FastifyInstance, ctx: Ctx): void {
  scope.post(paths.challenge, guarded(ctx.deps, async () => {
    const { nonce, expiresAtMs } = ctx.nonces.issue(ctx.deps.now());
    return { nonce, expiresAt: new Date(expiresAtMs).toISOString() };
  }));
  scope.post(paths.register, guarded(ctx.deps, (request) => register(ctx, request)));
  scope.post(paths.heartbeat, guarded(ctx.deps, (request) => heartbeat(ctx, request)));
  scope.post(paths.drain, guarded(ctx.deps, (request) => drain(ctx, request)));
  scope.post(paths.recheck, guarded(ctx.deps, (request) => recheck(ctx, request)));
  scope.post(paths.evidence, guarded(ctx.deps, (request, reply) => evidence(ctx, request, reply)));
}

/** The node API with tunable intervals (tests use short ones). */
export function createNodeApiPlugin(options: NodeApiOptions = {}): ControlPlugin {
  return async (app, deps) => {
    const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    const secrecy = options.secrecy ?? defaultSecrecyPolicy;
    const problem = validateSecrecyPolicy(secrecy);
    if (problem) throw new Error(problem);
    const ctx: Ctx = {
      deps, resolve: options.resolve, geo: options.geo, secrecy, keys: createKeyCache(deps),
      recheck: { intervalMs: 15 * 60_000, maxDelayMs: 5 * 60_000, random: Math.random, ...options.recheck },
      nonces: createNonceIssuer(deps.auditSecret, options.nonceTtlMs ?? NONCE_TTL_MS, options.random),
      // One secret for all balancers (the settings table), read for every answer: each node gets
      // the key derived from it for its id, and would learn a new one at its next heartbeat.
      standing: async (nodeId) => {
        const standing = await loadNodeStanding(deps.pool, nodeId, deps.now(), { heartbeatIntervalMs, secret: deps.auditSecret, secrecy });
        const secret = (await getSetting(deps.pool, NODE_REQUEST_SECRET_SETTING)) ?? (await getOrCreateSetting(deps.pool, NODE_REQUEST_SECRET_SETTING)).value;
        return { ...standing, requestKey: nodeRequestKey(secret, nodeId) };
      },
    };
    // Encapsulated: the raw-body JSON parser applies to the node API routes only.
    await app.register(async (scope) => {
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => {
        const raw = body as Buffer;
        try {
          done(null, { raw, json: raw.length === 0 ? null : (JSON.parse(raw.toString('utf8')) as unknown) } satisfies RawJson);
        } catch {
          done(null, { raw, json: undefined } satisfies RawJson);
        }
      });
      routes(scope, ctx);
    });
  };
}

/** The node API as mounted by the balancer's control plane. */
export const nodeApiPlugin: ControlPlugin = createNodeApiPlugin();
