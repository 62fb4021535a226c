import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

// The node <-> balancer wire format. docs/node-protocol.md describes the same thing for people
// writing a node in another language; keep the two in step.

export const NODE_API_PREFIX = '/api/v1/node';
export const SIGNATURE_HEADER = 'x-verity-signature';
export const MAX_CLOCK_SKEW_MS = 60_000;

export const paths = {
  challenge: `${NODE_API_PREFIX}/challenge`,
  register: `${NODE_API_PREFIX}/register`,
  heartbeat: `${NODE_API_PREFIX}/heartbeat`,
  drain: `${NODE_API_PREFIX}/drain`,
} as const;

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');
export const nodeIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters');

export const challengeResponse = z.object({ nonce: base64url, expiresAt: z.string() });
export type ChallengeResponse = z.infer<typeof challengeResponse>;

export const locationSchema = z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

export const registerRequest = z.object({
  token: z.string().min(1).max(200),
  nodeId: nodeIdSchema,
  publicKey: base64url.length(43),
  name: z.string().min(1).max(64),
  publicUrl: z.url({ protocol: /^https?$/ }),
  location: locationSchema.nullable().optional(),
  nonce: base64url,
  /** Ed25519 over registerSigningString(...), base64url. */
  signature: base64url,
});
export type RegisterRequest = z.infer<typeof registerRequest>;

export const assignedSite = z.object({ host: z.string(), origin: z.string() });
export type AssignedSite = z.infer<typeof assignedSite>;

export const penalty = z.object({ at: z.string(), kind: z.string(), reason: z.string() });
export type Penalty = z.infer<typeof penalty>;

export const nodeStanding = z.object({
  nodeId: nodeIdSchema,
  status: z.enum(['probation', 'active', 'quarantined', 'banned', 'offline']),
  integrity: z.number(),
  availability: z.number(),
  sites: z.array(assignedSite),
  /** Trust events that lowered this node's standing, newest first. */
  penalties: z.array(penalty),
  heartbeatIntervalMs: z.number().int().positive(),
});
export type NodeStanding = z.infer<typeof nodeStanding>;

export const heartbeatStats = z.object({
  inFlight: z.number().int().nonnegative(),
  requestsTotal: z.number().int().nonnegative(),
  errorsTotal: z.number().int().nonnegative(),
  cacheHits: z.number().int().nonnegative(),
  cacheMisses: z.number().int().nonnegative(),
  cacheBytes: z.number().int().nonnegative(),
  loadAvg1m: z.number().nonnegative(),
});
export type HeartbeatStats = z.infer<typeof heartbeatStats>;

/** Body of heartbeat and drain; the signature covers the exact body bytes. */
export const signedEnvelope = z.object({
  nodeId: nodeIdSchema,
  /** Strictly increasing per node; the balancer refuses anything not above the last one. */
  counter: z.number().int().positive(),
  /** Node's clock, ms since epoch; refused when more than 60 s off the balancer's. */
  timestamp: z.number().int().positive(),
  stats: heartbeatStats.optional(),
});
export type SignedEnvelope = z.infer<typeof signedEnvelope>;

export const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export type ErrorBody = z.infer<typeof errorBody>;

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

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function registerSigningString(r: { nonce: string; nodeId: string; publicUrl: string; token: string }): string {
  return `verity-register\n${r.nonce}\n${r.nodeId}\n${r.publicUrl}\n${tokenDigest(r.token)}`;
}

export function envelopeSigningBytes(kind: 'heartbeat' | 'drain', body: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`verity-${kind}\n`, 'utf8'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
}

export function signBytes(privateKey: KeyObject, data: Buffer | string): string {
  return sign(null, Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), privateKey).toString('base64url');
}

export function verifyBytes(rawKeyB64: string, data: Buffer | string, signatureB64: string): boolean {
  try {
    const key = publicKeyFromRaw(Buffer.from(rawKeyB64, 'base64url'));
    return verify(null, Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), key, Buffer.from(signatureB64, 'base64url'));
  } catch {
    return false;
  }
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}
