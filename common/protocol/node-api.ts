import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

// The node <-> balancer wire format. docs/node-protocol.md describes the same thing for people
// writing a node in another language; keep the two in step.

export const NODE_API_PREFIX = '/api/v1/node';
/** Ed25519 signature (base64url, no padding) over `verity-<kind>\n` + the exact body bytes. */
export const SIGNATURE_HEADER = 'x-verity-signature';
export const MAX_CLOCK_SKEW_MS = 60_000;
export const NONCE_TTL_MS = 120_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;
/** What the node answers on its public listener for the balancer's active health probes. */
export const NODE_HEALTH_PATH = '/.well-known/verity/health';
export const CACHE_STATUS_HEADER = 'x-verity-cache';
/** Where a balancer tells a node to drop stored responses (POST, signed; see node-invalidate.ts). */
export const NODE_INVALIDATE_PATH = '/.well-known/verity/invalidate';

export const paths = {
  challenge: `${NODE_API_PREFIX}/challenge`,
  register: `${NODE_API_PREFIX}/register`,
  heartbeat: `${NODE_API_PREFIX}/heartbeat`,
  drain: `${NODE_API_PREFIX}/drain`,
  recheck: `${NODE_API_PREFIX}/recheck`,
  evidence: `${NODE_API_PREFIX}/evidence`,
} as const;

export type SignedKind = 'register' | 'heartbeat' | 'drain' | 'recheck' | 'evidence';

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
export const nodeIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters');

export const challengeResponse = z.object({ nonce: base64url, expiresAt: z.string() });
export type ChallengeResponse = z.infer<typeof challengeResponse>;

export const locationSchema = z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

/**
 * Body of POST /register; signed like every other node request (header x-verity-signature).
 * `token` is needed when the key is new to the balancer (and to join another site later);
 * a known node re-registers on every start without it, to update its URL, name and location.
 */
/** SHA-256 of the DER SubjectPublicKeyInfo of the node's TLS certificate, base64url (43 characters). */
export const tlsSpkiSchema = base64url.length(43);

export const registerRequest = z.object({
  nodeId: nodeIdSchema,
  publicKey: base64url.length(43),
  nonce: base64url.max(200),
  token: z.string().min(1).max(200).optional(),
  name: z.string().min(1).max(64),
  publicUrl: z.url({ protocol: /^https?$/ }).max(2048),
  location: locationSchema.nullable().optional(),
  /**
   * The key of the node's own TLS certificate, pinned by the balancer (required for an https
   * public URL: the balancer accepts that key only). Signed, like the rest of the body.
   */
  tlsSpki: tlsSpkiSchema.optional(),
  /** Node's clock, ms since epoch (informational on register). */
  timestamp: z.number().int().positive(),
});
export type RegisterRequest = z.infer<typeof registerRequest>;

export const assignedSite = z.object({ host: z.string(), origin: z.string() });
export type AssignedSite = z.infer<typeof assignedSite>;

export const penaltyEvidence = z.object({ id: z.string(), kind: z.string(), contentType: z.string() });

export const penalty = z.object({
  at: z.string(),
  kind: z.string(),
  reason: z.string(),
  statusAfter: z.string(),
  integrityAfter: z.number(),
  availabilityAfter: z.number(),
  /** The audit behind it, the page it fetched, and how sure its verdict was. */
  auditId: z.string().nullable().optional(),
  url: z.string().nullable().optional(),
  confirmation: z.enum(['unconfirmed', 'confirmed', 'unambiguous']).nullable().optional(),
  findings: z.array(z.object({ kind: z.string(), severity: z.string(), summary: z.string() })).optional(),
  /** Evidence the node may fetch (POST evidence): screenshots, fragments, hashes. */
  evidence: z.array(penaltyEvidence).optional(),
});
export type Penalty = z.infer<typeof penalty>;

export const nodeStatusSchema = z.enum(['probation', 'active', 'quarantined', 'banned', 'offline']);

const point = z.object({ lat: z.number(), lon: z.number() });

/** The balancer's verdict on the declared location (common/domain/location-check.ts). */
export const locationStanding = z.object({
  declared: point.nullable(),
  status: z.enum(['passed', 'failed', 'skipped', 'undeclared', 'unchecked']),
  effective: point.nullable(),
  country: z.string().nullable(),
  reason: z.string(),
});
export type LocationStanding = z.infer<typeof locationStanding>;

export const nodeStanding = z.object({
  nodeId: nodeIdSchema,
  status: nodeStatusSchema,
  draining: z.boolean(),
  integrity: z.number(),
  availability: z.number(),
  sites: z.array(assignedSite),
  /** Trust events that lowered this node's scores or status, newest first, up to `disclosedUntil`. */
  penalties: z.array(penalty),
  /**
   * Status, scores and penalties are as of this time, which lags the present by a randomised
   * delay (the audit-secrecy delay), so a node cannot tell which request was an audit.
   */
  disclosedUntil: z.string().optional(),
  location: locationStanding.optional(),
  heartbeatIntervalMs: z.number().int().positive(),
  /** The last counter the balancer accepted from this node; the next must be higher. */
  heartbeatCounter: z.number().int().nonnegative(),
  /** Balancer's clock, ms since epoch, so a node can warn its volunteer about skew. */
  serverTime: z.number().int().positive(),
});
export type NodeStanding = z.infer<typeof nodeStanding>;

/**
 * What register, heartbeat and drain answer: the standing plus the node's request key (hex),
 * with which the balancers sign every request they send the node (node-request-auth.ts). A
 * node answers nothing but the health probe until it has one.
 */
export const nodeAnswer = nodeStanding.extend({ requestKey: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters') });
export type NodeAnswer = z.infer<typeof nodeAnswer>;

export const heartbeatStats = z.object({
  inFlight: z.number().int().nonnegative(),
  requestsTotal: z.number().int().nonnegative(),
  errorsTotal: z.number().int().nonnegative(),
  cacheHits: z.number().int().nonnegative(),
  cacheMisses: z.number().int().nonnegative(),
  cacheBytes: z.number().int().nonnegative(),
  cacheEntries: z.number().int().nonnegative(),
  loadAvg1m: z.number().nonnegative(),
});
export type HeartbeatStats = z.infer<typeof heartbeatStats>;

/** Body of heartbeat and drain; the signature covers the exact body bytes. */
export const signedEnvelope = z.object({
  nodeId: nodeIdSchema,
  /** Strictly increasing per node; the balancer refuses anything not above the last one. */
  counter: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** Node's clock, ms since epoch; refused when more than 60 s off the balancer's. */
  timestamp: z.number().int().positive(),
  stats: heartbeatStats.optional(),
  /** Heartbeats only: a new TLS key (rotation); from now on the balancer accepts this one only. */
  tlsSpki: tlsSpkiSchema.optional(),
});
export type SignedEnvelope = z.infer<typeof signedEnvelope>;

/** Body of recheck: ask for an audit of the page behind one of this node's penalties (or of a site's home page). */
export const recheckRequest = signedEnvelope.omit({ stats: true }).extend({ auditId: z.uuid().optional() });
export type RecheckRequest = z.infer<typeof recheckRequest>;
export const recheckResponse = z.object({ queued: z.boolean(), url: z.string(), site: z.string(), nextAllowedAt: z.string() });
export type RecheckResponse = z.infer<typeof recheckResponse>;

/** Body of evidence: one piece of evidence behind a disclosed penalty; the answer is its bytes. */
export const evidenceRequest = signedEnvelope.omit({ stats: true }).extend({ evidenceId: z.uuid() });
export type EvidenceRequest = z.infer<typeof evidenceRequest>;

export const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof errorBody>;

/** Error codes the node API answers with (HTTP status in the comment). */
export const nodeApiErrors = {
  NODE_ERR_BAD_REQUEST: 400,
  NODE_ERR_BAD_NONCE: 401,
  NODE_ERR_BAD_SIGNATURE: 401,
  NODE_ERR_TOKEN_REJECTED: 401,
  NODE_ERR_UNKNOWN: 401,
  NODE_ERR_REPLAY: 401,
  NODE_ERR_CLOCK_SKEW: 401,
  NODE_ERR_REVOKED: 403,
  NODE_ERR_URL_REFUSED: 422,
  NODE_ERR_NOT_FOUND: 404,
  NODE_ERR_RATE_LIMITED: 429,
} as const;
export type NodeApiErrorCode = keyof typeof nodeApiErrors;

export function rawPublicKey(key: KeyObject): Buffer {
  // An Ed25519 SPKI DER is a fixed 12-byte prefix followed by the 32-byte key.
  return key.export({ format: 'der', type: 'spki' }).subarray(12);
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The node id is the first 16 bytes of SHA-256 of the raw public key, in hex. */
export function nodeIdFor(rawKey: Buffer): string {
  return createHash('sha256').update(rawKey).digest('hex').slice(0, 32);
}

/** What is signed: the ASCII prefix `verity-<kind>\n` followed by the exact request body bytes. */
export function signingBytes(kind: SignedKind, body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`verity-${kind}\n`, 'utf8'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
}

export function signBytes(privateKey: KeyObject, data: Buffer | string): string {
  return sign(null, Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), privateKey).toString('base64url');
}

export function verifyBytes(rawKeyB64: string, data: Buffer | string, signatureB64: string): boolean {
  try {
    const raw = Buffer.from(rawKeyB64, 'base64url');
    if (raw.length !== 32) return false;
    const key = publicKeyFromRaw(raw);
    return verify(null, Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), key, Buffer.from(signatureB64, 'base64url'));
  } catch {
    return false;
  }
}

/** Signs a request body for the node API: returns the body bytes and the header value. */
export function signRequest(privateKey: KeyObject, kind: SignedKind, body: unknown): { bytes: Buffer; signature: string } {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  return { bytes, signature: signBytes(privateKey, signingBytes(kind, bytes)) };
}
