import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Registration nonces are stateless: expiry and a random part, MACed with a key derived from
// the balancer's secret. Any balancer sharing the secret can check them; none needs to store them.

const MAC_BYTES = 16;
const RANDOM_BYTES = 16;
const NONCE_BYTES = 8 + RANDOM_BYTES + MAC_BYTES;

export interface NonceIssuer {
  issue(nowMs: number): { nonce: string; expiresAtMs: number };
  /** Why the nonce is not acceptable at nowMs, or null when it is. */
  check(nonce: string, nowMs: number): string | null;
}

export function deriveNonceKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('verity-node-nonce-v1').digest();
}

export function createNonceIssuer(secret: string, ttlMs: number, random: (n: number) => Buffer = randomBytes): NonceIssuer {
  const key = deriveNonceKey(secret);
  const mac = (head: Buffer): Buffer => createHmac('sha256', key).update(head).digest().subarray(0, MAC_BYTES);
  return {
    issue(nowMs) {
      const expiresAtMs = nowMs + ttlMs;
      const head = Buffer.alloc(8 + RANDOM_BYTES);
      head.writeBigUInt64BE(BigInt(expiresAtMs), 0);
      random(RANDOM_BYTES).copy(head, 8);
      return { nonce: Buffer.concat([head, mac(head)]).toString('base64url'), expiresAtMs };
    },
    check(nonce, nowMs) {
      const raw = Buffer.from(nonce, 'base64url');
      if (raw.length !== NONCE_BYTES) return 'the nonce is malformed';
      const head = raw.subarray(0, 8 + RANDOM_BYTES);
      if (!timingSafeEqual(mac(head), raw.subarray(8 + RANDOM_BYTES))) return 'the nonce was not issued by this balancer';
      const expiresAtMs = Number(head.readBigUInt64BE(0));
      if (expiresAtMs <= nowMs) return 'the nonce has expired; ask for a new challenge';
      if (expiresAtMs > nowMs + ttlMs) return 'the nonce expires too far in the future';
      return null;
    },
  };
}
