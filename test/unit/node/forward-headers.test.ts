import { describe, expect, it } from 'vitest';
import { parseCdnCacheControl, cacheDirectives as directivesOf } from '../../../common/http/cdn-cache-control.js';

const cacheDirectives = (pairs: [string, string][]) => directivesOf((n) => pairs.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v).join(', ') || null);
import { forwardHeaders } from '../../../node/cache/forward-headers.js';
import type { HeaderPairs } from '../../../node/cache/http-headers.js';

describe('what reaches the origin', () => {
  const visitor: HeaderPairs = [
    ['Accept', 'text/html'], ['Accept-Encoding', 'gzip'], ['Accept-Language', 'de'], ['User-Agent', 'UA'], ['Sec-CH-UA-Platform', '"Linux"'],
    ['Sec-Fetch-Mode', 'navigate'], ['DNT', '1'], ['Priority', 'u=0'], ['Upgrade-Insecure-Requests', '1'],
    ['Cookie', 'sid=1'], ['Authorization', 'Bearer x'], ['X-Forwarded-For', '203.0.113.9'], ['X-Device', 'mobile'], ['Origin', 'https://a.example'],
    ['If-None-Match', '"v"'], ['Range', 'bytes=0-1'], ['Cache-Control', 'no-cache'], ['X-Verity-Request-Auth', 'v1,t=1,s=00'], ['Connection', 'close'],
  ];

  it('is the fixed allowlist only, by default', () => {
    expect(forwardHeaders(visitor, []).map(([n]) => n)).toEqual(['Accept', 'Accept-Encoding', 'Accept-Language', 'User-Agent', 'Sec-CH-UA-Platform', 'Sec-Fetch-Mode', 'DNT', 'Priority', 'Upgrade-Insecure-Requests']);
  });

  it('adds what the origin varies on, never credentials, the node\'s signature, conditionals or framing', () => {
    const names = forwardHeaders(visitor, ['x-device', 'origin', 'cookie', 'authorization', 'x-verity-request-auth', 'if-none-match', 'range', 'cache-control', 'connection']).map(([n]) => n);
    expect(names).toContain('X-Device');
    expect(names).toContain('Origin');
    for (const never of ['Cookie', 'Authorization', 'X-Verity-Request-Auth', 'If-None-Match', 'Range', 'Cache-Control', 'Connection', 'X-Forwarded-For']) expect(names).not.toContain(never);
  });
});

describe('CDN-Cache-Control (RFC 9213)', () => {
  it('is a structured dictionary; an invalid one is ignored in favour of Cache-Control', () => {
    expect(parseCdnCacheControl('max-age=3600')?.get('max-age')).toBe('3600');
    expect(parseCdnCacheControl('foobar, max-age=3600')?.get('foobar')).toBe(true);
    for (const bad of ['MaX-aGe=3600', 'max-age =100', 'max-age= 100', 'max-age="10000"', 'max-age=10000, &&&&&', '']) expect(parseCdnCacheControl(bad)).toBeNull();
    expect(cacheDirectives([['Cache-Control', 'no-store'], ['CDN-Cache-Control', 'max-age=60']]).has('no-store')).toBe(false);
    expect(cacheDirectives([['Cache-Control', 'no-store'], ['CDN-Cache-Control', 'max-age="60"']]).has('no-store')).toBe(true);
    expect(cacheDirectives([['Cache-Control', 'max-age=60'], ['CDN-Cache-Control', 'private']]).has('private')).toBe(true);
  });
});
