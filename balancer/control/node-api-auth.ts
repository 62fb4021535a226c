import type { FastifyReply, FastifyRequest } from 'fastify';
import { findNodeAuth, registrationCredential } from '../../common/db/queries/node-registry.js';
import {
  MAX_CLOCK_SKEW_MS, SIGNATURE_HEADER, nodeApiErrors, nodeIdFor, registerRequest, signedEnvelope, signingBytes, verifyBytes,
  type NodeApiErrorCode, type RegisterRequest, type SignedEnvelope, type SignedKind,
} from '../../common/protocol/node-api.js';
import type { NonceIssuer } from './node-nonce.js';
import { checkNodeUrl } from './ssrf.js';
import type { ControlDeps } from './types.js';

// Who is asking, and may they: parsing, signatures, clocks, nonces and the public-URL check of
// the node API. Every refusal is an ApiError carrying the code the node is answered with.

/** The body as the node API's JSON parser hands it over: the exact bytes and their parse. */
export interface RawJson {
  raw: Buffer;
  json: unknown;
}

export class ApiError extends Error {
  constructor(readonly code: NodeApiErrorCode, message: string) {
    super(message);
  }
}

export function send(reply: FastifyReply, err: ApiError): FastifyReply {
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

/**
 * Public keys by node id. A node's key never changes (its id is derived from it), so the cache
 * is always right; a deleted node is caught by the UPDATE that follows, which finds no row.
 */
export interface KeyCache {
  get(nodeId: string): Promise<string | null>;
}

export function createKeyCache(deps: Pick<ControlDeps, 'pool'>, maxEntries = 100_000): KeyCache {
  const keys = new Map<string, string>();
  return {
    async get(nodeId) {
      const cached = keys.get(nodeId);
      if (cached) return cached;
      const node = await findNodeAuth(deps.pool, nodeId);
      if (!node) return null;
      if (keys.size >= maxEntries) keys.clear();
      keys.set(nodeId, node.publicKey);
      return node.publicKey;
    },
  };
}

type Schema<T> = Parameters<typeof parseWith<T>>[0];

/** Parses and authenticates a heartbeat or drain: known node, valid signature, sane clock. */
export function authenticateEnvelope(deps: ControlDeps, keys: KeyCache, kind: SignedKind, request: FastifyRequest): Promise<SignedEnvelope> {
  return authenticateSigned(deps, keys, kind, request, signedEnvelope);
}

/** The same for any envelope-shaped body (recheck, evidence). */
export async function authenticateSigned<T extends { nodeId: string; timestamp: number }>(deps: ControlDeps, keys: KeyCache, kind: SignedKind, request: FastifyRequest, schema: Schema<T>): Promise<T> {
  const body = bodyOf(request);
  const signature = signatureOf(request);
  const env = parseWith(schema, body.json);
  const publicKey = await keys.get(env.nodeId);
  if (!publicKey) throw new ApiError('NODE_ERR_UNKNOWN', `no node has id ${env.nodeId}; register first`);
  verifySigned(kind, publicKey, body.raw, signature);
  checkSkew(env.timestamp, deps.now());
  return env;
}

/** Why an authenticated heartbeat or drain was not applied: banned, gone, or an old counter. */
export async function refusal(deps: Pick<ControlDeps, 'pool'>, kind: SignedKind, env: Pick<SignedEnvelope, 'nodeId' | 'counter'>): Promise<ApiError> {
  const node = await findNodeAuth(deps.pool, env.nodeId);
  if (!node) return new ApiError('NODE_ERR_UNKNOWN', `no node has id ${env.nodeId}; register first`);
  if (node.status === 'banned') return new ApiError('NODE_ERR_REVOKED', 'this node has been banned by the balancer admins');
  return new ApiError('NODE_ERR_REPLAY', `${kind} counter ${env.counter} is not above the last one accepted (${node.heartbeatCounter})`);
}

export async function verifyRegistration(request: FastifyRequest, deps: ControlDeps, nonces: NonceIssuer, resolve?: (host: string) => Promise<string[]>): Promise<RegisterRequest> {
  const body = bodyOf(request);
  const signature = signatureOf(request);
  const reg = parseWith(registerRequest, body.json);
  const rawKey = Buffer.from(reg.publicKey, 'base64url');
  if (rawKey.length !== 32 || nodeIdFor(rawKey) !== reg.nodeId) throw new ApiError('NODE_ERR_BAD_REQUEST', 'nodeId is not derived from publicKey');
  const nonceProblem = nonces.check(reg.nonce, deps.now());
  if (nonceProblem) throw new ApiError('NODE_ERR_BAD_NONCE', nonceProblem);
  verifySigned('register', reg.publicKey, body.raw, signature);
  checkSkew(reg.timestamp, deps.now());
  // Name resolution only for someone holding a credential: no free DNS lookups for strangers.
  const credential = await registrationCredential(deps.pool, reg.nodeId, reg.token, new Date(deps.now()));
  if (credential === 'banned') throw new ApiError('NODE_ERR_REVOKED', 'this node has been banned by the balancer admins');
  if (credential === 'none') {
    throw new ApiError('NODE_ERR_TOKEN_REJECTED', reg.token === undefined ? 'this node is not enrolled here yet: a join token is needed' : 'the join token is unknown, already used, revoked or expired');
  }
  const url = await checkNodeUrl(reg.publicUrl, { allowPrivate: deps.allowPrivateNodeUrls, ...(resolve ? { resolve } : {}) });
  if (!url.ok) throw new ApiError('NODE_ERR_URL_REFUSED', `public URL refused: ${url.reason}`);
  if (reg.publicUrl.startsWith('https:') && reg.tlsSpki === undefined) throw new ApiError('NODE_ERR_BAD_REQUEST', 'an https:// public URL needs tlsSpki, the key of the node\'s TLS certificate, which the balancer pins');
  return reg;
}
