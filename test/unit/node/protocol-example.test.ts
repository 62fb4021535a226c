import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createNonceIssuer } from '../../../balancer/control/node-nonce.js';
import { nodeIdFor, rawPublicKey, signRequest, signingBytes, verifyBytes } from '../../../common/protocol/node-api.js';

// The worked example of docs/node-protocol.md: if this fails, the document or the code changed.

const seed = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
const publicKey = rawPublicKey(createPublicKey(privateKey)).toString('base64url');
const nodeId = '56475aa75463474c0285df5dbf2bcab7';
const nonce = 'AAABuNrHiMCrq6urq6urq6urq6urq6ur6z717vgJqpx6yi-_7dBiRQ';
const T = 1893456000000;

describe('docs/node-protocol.md worked example', () => {
  it('derives the key and id', () => {
    expect(publicKey).toBe('A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg');
    expect(nodeIdFor(Buffer.from(publicKey, 'base64url'))).toBe(nodeId);
  });

  it('issues the nonce from the example secret and clock', () => {
    const issuer = createNonceIssuer('example-secret-0123456789', 120_000, (n) => Buffer.alloc(n, 0xab));
    expect(issuer.issue(T).nonce).toBe(nonce);
  });

  it('signs register, heartbeat and drain bodies to the documented signatures', () => {
    const reg = signRequest(privateKey, 'register', {
      nodeId, publicKey, nonce, token: 'vjt_EXAMPLEexampleEXAMPLEexample12', name: 'alice-attic', publicUrl: 'http://203.0.113.7:8090', location: { lat: 50.11, lon: 8.68 }, timestamp: T + 1000,
    });
    expect(reg.signature).toBe('jbh-yAngPwmJiq8XgpU7huFAfuSe5lGKaXPWrHQzpToX1yB_yufpfJXMWfB4sozl14i85nFmjsED_wFfiB9CCg');
    expect(signingBytes('register', reg.bytes).subarray(0, 20).toString('hex')).toBe('7665726974792d72656769737465720a7b226e6f');
    const hbBody = `{"nodeId":"${nodeId}","counter":1,"timestamp":1893456005000,"stats":{"inFlight":0,"requestsTotal":12,"errorsTotal":0,"cacheHits":9,"cacheMisses":3,"cacheBytes":48213,"cacheEntries":3,"loadAvg1m":0.25}}`;
    expect(verifyBytes(publicKey, signingBytes('heartbeat', hbBody), 'YFvwfP9j7HnvEHZbWkUBMLXfZn10f27hJTC1ruFYElj4ngszJmB4mIaQX4A3asv0Uvp9_TNavw6YaG5nbvOzDA')).toBe(true);
    const drBody = `{"nodeId":"${nodeId}","counter":2,"timestamp":1893456009000}`;
    expect(verifyBytes(publicKey, signingBytes('drain', drBody), 'Zw-FxZiyDmi4_htJ0Wvr55EpDWE1RVUBxQ7T0cpclEj5Ay1byCL2V7F13_QLtq2wxi9l-bWrR85AIYMWZrMaCg')).toBe(true);
  });
});
