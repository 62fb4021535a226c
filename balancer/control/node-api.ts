import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptHeartbeat, findNodeAuth, markDraining, registerNode, type NodeAuth } from '../../common/db/queries/node-registry.js';
import { recordTrustEvent } from '../../common/db/queries/trust.js';
import {
  DEFAULT_HEARTBEAT_INTERVAL_MS, MAX_CLOCK_SKEW_MS, NONCE_TTL_MS, SIGNATURE_HEADER, nodeApiErrors, nodeIdFor, paths, registerRequest,
  signedEnvelope, signingBytes, verifyBytes, type NodeApiErrorCode, type RegisterRequest, type SignedEnvelope, type SignedKind,
} from '../../common/protocol/node-api.js';
import { createNonceIssuer, type NonceIssuer } from './node-nonce.js';
import { loadNodeStanding } from './node-standing.js';
import { checkNodeUrl } from './ssrf.js';
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
}

interface RawJson {
  raw: Buffer;
  json: unknown;
}

const BODY_LIMIT_BYTES = 64 * 1024;

class ApiError extends Error {
  constructor(readonly code: NodeApiErrorCode, message: string) {
    super(message);
  }
}

function send(reply: FastifyReply, err: ApiError): FastifyReply {
  return reply.code(nodeApiErrors[err.code]).send({ error: { code: err.code, message: err.message } });
}

function bodyOf(request: FastifyRequest): RawJson {
  const b = request.body as RawJson | undefined;
  if (!b || !Buffer.isBuffer(b.raw)) throw new ApiError('NODE_ERR_BAD_REQUEST', 'the body must be JSON (Content-Type: application/json)');
  return b;
}

function signatureOf(request: FastifyRequest): string {
  const sig = request.headers[SIGNATURE_HEADER];
  if (typeof sig !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(sig)) throw new ApiError('NODE_ERR_BAD_SIGNATURE', `the ${SIGNATURE_HEADER} header is missing or malformed`);
  return sig;
}

function parseWith<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');
  throw new ApiError('NODE_ERR_BAD_REQUEST', issues);
}

function checkSkew(timestamp: number, nowMs: number): void {
  const skew = Math.abs(timestamp - nowMs);
  if (skew > MAX_CLOCK_SKEW_MS) {
    throw new ApiError('NODE_ERR_CLOCK_SKEW', `the node's clock is ${Math.round(skew / 1000)} s off the balancer's (limit ${MAX_CLOCK_SKEW_MS / 1000} s); fix the system clock (NTP)`);
  }
}

function verifySigned(kind: SignedKind, publicKey: string, raw: Buffer, signature: string): void {
  if (!verifyBytes(publicKey, signingBytes(kind, raw), signature)) throw new ApiError('NODE_ERR_BAD_SIGNATURE', `the ${kind} signature does not verify with this node's key`);
}

/** Parses and authenticates a heartbeat or drain: known node, valid signature, sane clock, not banned. */
async function authenticateEnvelope(deps: ControlDeps, kind: SignedKind, request: FastifyRequest): Promise<{ env: SignedEnvelope; node: NodeAuth }> {
  const body = bodyOf(request);
  const signature = signatureOf(request);
  const env = parseWith(signedEnvelope, body.json);
  const node = await findNodeAuth(deps.pool, env.nodeId);
  if (!node) throw new ApiError('NODE_ERR_UNKNOWN', `no node has id ${env.nodeId}; register first`);
  verifySigned(kind, node.publicKey, body.raw, signature);
  checkSkew(env.timestamp, deps.now());
  if (node.status === 'banned') throw new ApiError('NODE_ERR_REVOKED', 'this node has been banned by the balancer admins');
  return { env, node };
}

function routes(scope: FastifyInstance, deps: ControlDeps, opts: Required<Pick<NodeApiOptions, 'heartbeatIntervalMs'>> & NodeApiOptions, nonces: NonceIssuer): void {
  const standing = (nodeId: string) => loadNodeStanding(deps.pool, nodeId, deps.now(), opts.heartbeatIntervalMs);
  const guard = (fn: (request: FastifyRequest) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      return await fn(request);
    } catch (err) {
      if (err instanceof ApiError) {
        deps.log.info({ node: { path: request.url, ip: request.ip, code: err.code } }, 'node API request refused');
        return send(reply, err);
      }
      throw err;
    }
  };

  scope.post(paths.challenge, guard(async () => {
    const { nonce, expiresAtMs } = nonces.issue(deps.now());
    return { nonce, expiresAt: new Date(expiresAtMs).toISOString() };
  }));

  scope.post(paths.register, guard(async (request) => {
    const reg = await verifyRegistration(request, deps, opts, nonces);
    const ip = canonicalAddress(request.socket.remoteAddress ?? '');
    const outcome = await registerNode(deps.pool, {
      nodeId: reg.nodeId, publicKey: reg.publicKey, name: reg.name, publicUrl: reg.publicUrl, location: reg.location ?? null,
      token: reg.token, registeredIp: ip, subnet: ip ? subnetOf(ip) : null, now: new Date(deps.now()),
    });
    if (outcome.kind === 'banned') throw new ApiError('NODE_ERR_REVOKED', 'this node has been banned by the balancer admins');
    if (outcome.kind === 'token_required') throw new ApiError('NODE_ERR_TOKEN_REJECTED', 'this node is not enrolled here yet: a join token is needed');
    if (outcome.kind === 'token_rejected') throw new ApiError('NODE_ERR_TOKEN_REJECTED', 'the join token is unknown, already used, revoked or expired');
    if (outcome.kind === 'created') {
      await recordTrustEvent(deps.pool, reg.nodeId, { kind: 'registered', reason: `enrolled with a join token from ${ip ?? 'an unknown address'}` }, new Date(deps.now()));
    }
    deps.log.info({ node: { id: reg.nodeId, name: reg.name, publicUrl: reg.publicUrl, outcome: outcome.kind } }, 'node registered');
    return standing(reg.nodeId);
  }));

  scope.post(paths.heartbeat, guard(async (request) => {
    const { env, node } = await authenticateEnvelope(deps, 'heartbeat', request);
    const now = new Date(deps.now());
    const figures = { ...env.stats, nodeTime: env.timestamp, receivedAt: now.toISOString() };
    const accepted = await acceptHeartbeat(deps.pool, { nodeId: node.id, counter: env.counter, figures, now });
    if (!accepted) throw new ApiError('NODE_ERR_REPLAY', `heartbeat counter ${env.counter} is not above the last one accepted`);
    if (accepted.status === 'offline') {
      await recordTrustEvent(deps.pool, node.id, { kind: 'heartbeat_resumed', reason: 'heartbeats resumed' }, now);
    }
    return standing(node.id);
  }));

  scope.post(paths.drain, guard(async (request) => {
    const { env, node } = await authenticateEnvelope(deps, 'drain', request);
    const ok = await markDraining(deps.pool, { nodeId: node.id, counter: env.counter, now: new Date(deps.now()) });
    if (!ok) throw new ApiError('NODE_ERR_REPLAY', `drain counter ${env.counter} is not above the last one accepted`);
    deps.log.info({ node: { id: node.id } }, 'node draining');
    return standing(node.id);
  }));
}

async function verifyRegistration(request: FastifyRequest, deps: ControlDeps, opts: NodeApiOptions, nonces: NonceIssuer): Promise<RegisterRequest> {
  const body = bodyOf(request);
  const signature = signatureOf(request);
  const reg = parseWith(registerRequest, body.json);
  const rawKey = Buffer.from(reg.publicKey, 'base64url');
  if (rawKey.length !== 32 || nodeIdFor(rawKey) !== reg.nodeId) throw new ApiError('NODE_ERR_BAD_REQUEST', 'nodeId is not derived from publicKey');
  const nonceProblem = nonces.check(reg.nonce, deps.now());
  if (nonceProblem) throw new ApiError('NODE_ERR_BAD_NONCE', nonceProblem);
  verifySigned('register', reg.publicKey, body.raw, signature);
  checkSkew(reg.timestamp, deps.now());
  const url = await checkNodeUrl(reg.publicUrl, { allowPrivate: deps.allowPrivateNodeUrls, ...(opts.resolve ? { resolve: opts.resolve } : {}) });
  if (!url.ok) throw new ApiError('NODE_ERR_URL_REFUSED', `public URL refused: ${url.reason}`);
  return reg;
}

/** The node API with tunable intervals (tests use short ones). */
export function createNodeApiPlugin(options: NodeApiOptions = {}): ControlPlugin {
  return async (app, deps) => {
    const opts = { ...options, heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS };
    const nonces = createNonceIssuer(deps.auditSecret, options.nonceTtlMs ?? NONCE_TTL_MS, options.random);
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
      routes(scope, deps, opts, nonces);
    });
  };
}

/** The node API as mounted by the balancer's control plane. */
export const nodeApiPlugin: ControlPlugin = createNodeApiPlugin();
