import { describe, expect, it } from 'vitest';
import { classifyRequest, compilePrivateRoutes, hasTokenLikeQuery } from '../../../balancer/routes/classify.js';
import { clientAddress, compileTrustedProxies } from '../../../balancer/routes/client-address.js';

const priv = compilePrivateRoutes(['/account/**', '/login', '/api/*']);

describe('classifyRequest', () => {
  it.each([
    ['GET', '/page', {}, 'node'],
    ['HEAD', '/app.js', {}, 'node'],
    ['GET', '/page?page=2&q=shoes', {}, 'node'],
    ['POST', '/page', {}, 'method'],
    ['OPTIONS', '/page', {}, 'method'],
    ['GET', '/page', { cookie: 'a=b' }, 'credentials'],
    ['GET', '/page', { authorization: 'Bearer x' }, 'credentials'],
    ['GET', '/page', { 'service-worker': 'script' }, 'service-worker'],
    ['GET', '/account', {}, 'private-route'],
    ['GET', '/account/settings', {}, 'private-route'],
    ['GET', '/ACCOUNT/settings', {}, 'private-route'],
    ['GET', '/%61ccount/settings', {}, 'private-route'],
    ['GET', '//account/settings', {}, 'private-route'],
    ['GET', '/login?next=/', {}, 'private-route'],
    ['GET', '/api/me', {}, 'private-route'],
    ['GET', '/bad%E0', {}, 'private-route'],
    ['GET', '/reset?token=abc', {}, 'token-query'],
    ['GET', '/x?access_token=abc', {}, 'token-query'],
    ['GET', '/x?id=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9eyJzdWIiOiIx', {}, 'token-query'],
  ])('%s %s %j → %s', (method, url, headers, expected) => {
    const c = classifyRequest(method, url, headers, priv);
    expect(c.route === 'node' ? 'node' : c.reason).toBe(expected);
  });

  it('keyword-like parameter names are not tokens', () => {
    expect(hasTokenLikeQuery('?keyword=shoes&monkey=1')).toBe(false);
    expect(hasTokenLikeQuery('?session_id=1')).toBe(true);
  });
});

describe('clientAddress', () => {
  const trusted = compileTrustedProxies(['10.0.0.0/8', '192.168.1.1']);
  it('an untrusted peer is the client, whatever it claims', () => {
    expect(clientAddress('203.0.113.9', '1.2.3.4', trusted)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:127.0.0.1', '1.2.3.4', compileTrustedProxies([]))).toBe('127.0.0.1');
  });
  it('behind trusted proxies: the right-most hop that is not a trusted proxy', () => {
    expect(clientAddress('10.1.1.1', '6.6.6.6, 81.2.69.142, 192.168.1.1', trusted)).toBe('81.2.69.142');
    expect(clientAddress('10.1.1.1', 'garbage', trusted)).toBe('10.1.1.1');
    expect(clientAddress('10.1.1.1', undefined, trusted)).toBe('10.1.1.1');
  });
});
