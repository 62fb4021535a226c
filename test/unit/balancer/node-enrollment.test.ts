import { describe, expect, it } from 'vitest';
import { createNonceIssuer } from '../../../balancer/control/node-nonce.js';
import { canonicalAddress, subnetOf } from '../../../balancer/control/subnet.js';
import { generateKeyPairSync } from 'node:crypto';
import { nodeIdFor, rawPublicKey, signRequest, signingBytes, verifyBytes } from '../../../common/protocol/node-api.js';

describe('subnet of a registration', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['::ffff:203.0.113.77', '203.0.113.0/24'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['127.0.0.1', '127.0.0.0/24'],
    ['nonsense', null],
  ])('%s → %s', (ip, net) => {
    expect(subnetOf(ip)).toBe(net);
  });

  it('unwraps IPv4-mapped addresses', () => {
    expect(canonicalAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('stateless nonces', () => {
  const fixedRandom = (n: number) => Buffer.alloc(n, 7);

  it('accepts its own nonce until it expires', () => {
    const issuer = createNonceIssuer('secret-0123456789abcdef', 120_000, fixedRandom);
    const { nonce, expiresAtMs } = issuer.issue(1_000_000);
    expect(expiresAtMs).toBe(1_120_000);
    expect(issuer.check(nonce, 1_000_001)).toBeNull();
    expect(issuer.check(nonce, 1_120_000)).toMatch(/expired/);
  });

  it('refuses nonces of another secret, tampered ones and garbage', () => {
    const mine = createNonceIssuer('secret-0123456789abcdef', 120_000);
    const theirs = createNonceIssuer('another-secret-0123456789', 120_000);
    const { nonce } = theirs.issue(1000);
    expect(mine.check(nonce, 1001)).toMatch(/not issued/);
    const own = mine.issue(1000).nonce;
    const raw = Buffer.from(own, 'base64url');
    raw.writeBigUInt64BE(BigInt(10 ** 12), 0);
    expect(mine.check(raw.toString('base64url'), 1001)).toMatch(/not issued/);
    expect(mine.check('abc', 1001)).toMatch(/malformed/);
  });
});

describe('signatures', () => {
  it('cover the kind prefix and every body byte', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = rawPublicKey(publicKey);
    expect(nodeIdFor(raw)).toMatch(/^[0-9a-f]{32}$/);
    const { bytes, signature } = signRequest(privateKey, 'heartbeat', { a: 1 });
    const key = raw.toString('base64url');
    expect(verifyBytes(key, signingBytes('heartbeat', bytes), signature)).toBe(true);
    expect(verifyBytes(key, signingBytes('drain', bytes), signature)).toBe(false);
    expect(verifyBytes(key, signingBytes('heartbeat', Buffer.from('{"a":2}')), signature)).toBe(false);
    expect(verifyBytes('short', signingBytes('heartbeat', bytes), signature)).toBe(false);
  });
});
