import { describe, expect, it } from 'vitest';
import { nodeRequestKey, signNodeRequest, verifyNodeRequest } from '../../../common/protocol/node-request-auth.js';

describe('node request auth', () => {
  const key = nodeRequestKey('shared-secret', 'a'.repeat(32));
  const parts = { method: 'GET', host: 'Site.Test', target: '/a?b=1' };
  const now = 1_800_000_000_000;

  it('accepts its own signature, case-insensitively on the host', () => {
    const h = signNodeRequest(key, parts, now);
    expect(verifyNodeRequest(key, h, { ...parts, host: 'site.test' }, now + 30_000)).toEqual({ ok: true });
  });

  it('refuses another target, method, body, key, an old stamp and garbage', () => {
    const h = signNodeRequest(key, parts, now);
    expect(verifyNodeRequest(key, h, { ...parts, target: '/a?b=2' }, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyNodeRequest(key, h, { ...parts, method: 'HEAD' }, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyNodeRequest(key, h, { ...parts, bodySha256: 'ab' }, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyNodeRequest(nodeRequestKey('shared-secret', 'b'.repeat(32)), h, parts, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyNodeRequest(key, h, parts, now + 61_000)).toEqual({ ok: false, reason: 'skew' });
    expect(verifyNodeRequest(key, undefined, parts, now)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyNodeRequest(key, ['x', 'y'], parts, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyNodeRequest(key, 'v1,t=1,s=zz', parts, now)).toEqual({ ok: false, reason: 'malformed' });
  });
});
