import { describe, expect, it } from 'vitest';
import { headersToNode, headersToOrigin } from '../../../balancer/proxy/request-headers.js';
import { extractPolicy, isSameSiteLocation, mergePolicy, nodeResponseHeaders } from '../../../balancer/proxy/response-headers.js';

describe('request headers', () => {
  const incoming = {
    host: 'site.test', cookie: 'a=b', authorization: 'Bearer t', 'proxy-authorization': 'Basic x', te: 'trailers', 'keep-alive': '5',
    connection: 'keep-alive, x-private', 'x-private': 'secret', forwarded: 'for=1.1.1.1', 'x-forwarded-for': '1.1.1.1', 'x-real-ip': '1.1.1.1',
    accept: 'text/html', 'accept-language': 'fr', 'user-agent': 'UA', range: 'bytes=0-1', referer: 'http://site.test/account?token=x',
  };
  it('toward a node: an allowlist; nothing identifying or secret', () => {
    expect(headersToNode(incoming, { host: 'site.test', forVerification: false })).toEqual({
      host: 'site.test', accept: 'text/html', 'accept-language': 'fr', 'user-agent': 'UA', range: 'bytes=0-1',
    });
  });
  it('for a verified asset: whole, unencoded', () => {
    const h = headersToNode({ ...incoming, 'accept-encoding': 'gzip' }, { host: 'site.test', forVerification: true });
    expect(h.range).toBeUndefined();
    expect(h['accept-encoding']).toBe('identity');
  });
  it('toward the origin: credentials kept, hop-by-hop and forged forwarding replaced', () => {
    const h = headersToOrigin(incoming, { host: 'site.test', clientIp: '203.0.113.9' });
    expect(h.cookie).toBe('a=b');
    expect(h['x-private']).toBeUndefined();
    expect(h.te).toBeUndefined();
    expect(h['x-forwarded-for']).toBe('203.0.113.9');
    expect(h.forwarded).toBe('for=203.0.113.9;host=site.test;proto=http');
    expect(h['x-real-ip']).toBeUndefined();
  });
});

describe('node response headers', () => {
  const policy = extractPolicy({ 'content-security-policy': "default-src 'self'", 'strict-transport-security': 'max-age=31536000' });
  it('drops what is not the node’s to say, applies the origin’s, lists the violations', () => {
    const v = nodeResponseHeaders({
      'content-type': 'text/html', 'set-cookie': ['a=b'], 'strict-transport-security': 'max-age=0', 'access-control-allow-origin': '*',
      'x-powered-by': 'evil', location: 'https://evil.example/', 'clear-site-data': '"*"',
    }, 'site.test', policy);
    expect(v.headers).toEqual({ 'content-type': 'text/html', 'content-security-policy': "default-src 'self'", 'strict-transport-security': 'max-age=31536000' });
    expect(v.violations).toEqual(['set-cookie: a', 'strict-transport-security: max-age=0', 'access-control-allow-origin: *', 'location: cross-site https://evil.example/', 'clear-site-data: "*"']);
  });
  it('relaying the origin’s own security headers or cookies is no violation', () => {
    const learned = mergePolicy(policy, extractPolicy({ 'content-security-policy': "default-src 'none'", 'set-cookie': ['session=1; HttpOnly'] }), false);
    const v = nodeResponseHeaders({ 'content-security-policy': "default-src 'none'", 'set-cookie': ['session=2'] }, 'site.test', learned);
    expect(v.violations).toEqual([]);
    expect(v.headers['content-security-policy']).toBe("default-src 'none'");
    expect(v.headers['set-cookie']).toBeUndefined();
    expect(v.headers['strict-transport-security']).toBe('max-age=31536000');
  });
  it('a CSP with another nonce is the same policy', () => {
    const learned = extractPolicy({ 'content-security-policy': "script-src 'nonce-abc' 'self'" });
    const v = nodeResponseHeaders({ 'content-security-policy': "script-src 'nonce-xyz' 'self'" }, 'site.test', learned);
    expect(v.violations).toEqual([]);
    expect(v.headers['content-security-policy']).toBe("script-src 'nonce-xyz' 'self'");
    expect(nodeResponseHeaders({ 'content-security-policy': "script-src * 'unsafe-inline'" }, 'site.test', learned).violations).toHaveLength(1);
  });

  it('same-site redirects', () => {
    expect(isSameSiteLocation('/next', 'site.test')).toBe(true);
    expect(isSameSiteLocation('https://site.test/x', 'site.test')).toBe(true);
    expect(isSameSiteLocation('//evil.example/x', 'site.test')).toBe(false);
    expect(isSameSiteLocation('javascript:alert(1)', 'site.test')).toBe(false);
  });
});
