import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// An audit pin makes the balancer route ONE request to a named node through the same code path
// as visitors. Only holders of the audit secret (balancers and auditors) can make one; it is
// bound to host and path, expires quickly, and each nonce works once per balancer.
// The header is stripped before anything is forwarded.

export const AUDIT_PIN_HEADER = 'x-verity-audit-pin';
export const AUDIT_PIN_TTL_MS = 60_000;

export interface AuditPin {
  nodeId: string;
  host: string;
  path: string;
  expiresAtMs: number;
  nonce: string;
  /** The visitor address the audit pretends to come from (used for geo and logging only). */
  clientIp: string;
}

function mac(secret: string, p: AuditPin): Buffer {
  return createHmac('sha256', secret)
    .update(['v1', p.nodeId, String(p.expiresAtMs), p.nonce, p.clientIp, p.host.toLowerCase(), p.path].join('\n'))
    .digest();
}

export function signAuditPin(secret: string, pin: Omit<AuditPin, 'nonce' | 'expiresAtMs'> & { nonce?: string; expiresAtMs?: number }, now = Date.now()): string {
  const full: AuditPin = { ...pin, nonce: pin.nonce ?? randomBytes(12).toString('base64url'), expiresAtMs: pin.expiresAtMs ?? now + AUDIT_PIN_TTL_MS };
  const ip = Buffer.from(full.clientIp, 'utf8').toString('base64url');
  return ['v1', full.nodeId, full.expiresAtMs, full.nonce, ip, mac(secret, full).toString('base64url')].join('.');
}

export type PinCheck = { ok: true; pin: AuditPin } | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'replayed' };

/**
 * Verifies a pin header against the request's host and path. `seen` is the caller's record of
 * used nonces (it must forget them only after they expire). Pure apart from `seen`.
 */
export function verifyAuditPin(secret: string, header: string, host: string, path: string, now: number, seen: { has(n: string): boolean; add(n: string, expiresAtMs: number): void }): PinCheck {
  const parts = header.split('.');
  if (parts.length !== 6 || parts[0] !== 'v1') return { ok: false, reason: 'malformed' };
  const [, nodeId, exp, nonce, ipB64, sig] = parts as [string, string, string, string, string, string];
  const expiresAtMs = Number(exp);
  if (!/^[0-9a-f]{32}$/.test(nodeId) || !Number.isSafeInteger(expiresAtMs) || !/^[A-Za-z0-9_-]{8,64}$/.test(nonce)) return { ok: false, reason: 'malformed' };
  const pin: AuditPin = { nodeId, expiresAtMs, nonce, clientIp: Buffer.from(ipB64, 'base64url').toString('utf8'), host, path };
  const expected = mac(secret, pin);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  if (expiresAtMs < now || expiresAtMs > now + 5 * AUDIT_PIN_TTL_MS) return { ok: false, reason: 'expired' };
  if (seen.has(nonce)) return { ok: false, reason: 'replayed' };
  seen.add(nonce, expiresAtMs);
  return { ok: true, pin };
}
