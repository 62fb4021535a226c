import { describe, expect, it } from 'vitest';
import {
  currentAgeMs, etagMatches, freshnessLifetimeMs, mayServeOnError, requestMayUseCache, responseIsStorable, usability, varyMatches, varyNames, varyValues, worthStoring,
} from '../../../node/cache/freshness.js';
import { mergeNotModified, parseCacheControl, withoutHopByHop, type HeaderPairs } from '../../../node/cache/http-headers.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const date = (ms: number) => new Date(ms).toUTCString();
const timing = { requestTimeMs: T0, responseTimeMs: T0 };

describe('what a shared cache may store', () => {
  it.each<[string, number, HeaderPairs, boolean]>([
    ['plain 200', 200, [['Cache-Control', 'max-age=60']], true],
    ['no-store', 200, [['Cache-Control', 'max-age=60, no-store']], false],
    ['private', 200, [['cache-control', 'private']], false],
    ['private with a value', 200, [['cache-control', 'private="x", max-age=9']], false],
    ['Set-Cookie', 200, [['Cache-Control', 'public, max-age=60'], ['Set-Cookie', 'a=b']], false],
    ['Vary *', 200, [['Vary', 'Accept, *']], false],
    ['404', 404, [['Cache-Control', 'max-age=60']], true],
    ['206 (its Content-Range is checked apart)', 206, [['Cache-Control', 'max-age=60']], true],
    ['500 with explicit freshness', 500, [['Cache-Control', 'max-age=60']], true],
    ['500 without', 500, [['Last-Modified', 'Tue, 01 Jan 2030 00:00:00 GMT']], false],
    ['302 heuristic only', 302, [['Last-Modified', 'Tue, 01 Jan 2030 00:00:00 GMT']], false],
    ['304', 304, [['Cache-Control', 'max-age=60']], false],
    ['Vary: Cookie', 200, [['Cache-Control', 'max-age=60'], ['Vary', 'Cookie']], false],
    ['Vary: Authorization', 200, [['Cache-Control', 'max-age=60'], ['Vary', 'accept-encoding, Authorization']], false],
    ['no-store understood with must-understand', 200, [['Cache-Control', 'max-age=60, no-store, must-understand']], true],
  ])('%s', (_n, status, headers, ok) => {
    expect(responseIsStorable(status, headers).ok).toBe(ok);
  });

  it('never uses the cache for Authorization, Cookie, no-store or other methods', () => {
    expect(requestMayUseCache('GET', {}).ok).toBe(true);
    expect(requestMayUseCache('GET', { range: 'bytes=0-1' }).ok).toBe(true);
    expect(requestMayUseCache('GET', { authorization: 'Bearer x' }).ok).toBe(false);
    expect(requestMayUseCache('GET', { cookie: 'a=b' }).ok).toBe(false);
    expect(requestMayUseCache('GET', { 'cache-control': 'no-store' }).ok).toBe(false);
    expect(requestMayUseCache('POST', {}).ok).toBe(false);
  });

  it('only stores what can be fresh or revalidated', () => {
    expect(worthStoring(200, [])).toBe(false);
    expect(worthStoring(200, [['ETag', '"a"']])).toBe(true);
    expect(worthStoring(200, [['Cache-Control', 'max-age=5']])).toBe(true);
  });
});

describe('freshness lifetime', () => {
  it('prefers s-maxage, then max-age, then Expires - Date, then the Last-Modified heuristic', () => {
    expect(freshnessLifetimeMs([['Cache-Control', 'max-age=10, s-maxage=100']])).toBe(100_000);
    expect(freshnessLifetimeMs([['Cache-Control', 'max-age=10']])).toBe(10_000);
    expect(freshnessLifetimeMs([['Date', date(T0)], ['Expires', date(T0 + 30_000)]])).toBe(30_000);
    expect(freshnessLifetimeMs([['Date', date(T0)], ['Expires', '0']])).toBe(0);
    expect(freshnessLifetimeMs([['Date', date(T0)], ['Last-Modified', date(T0 - 100_000)]])).toBe(10_000);
    expect(freshnessLifetimeMs([['Cache-Control', 'no-cache, max-age=60']])).toBe(0);
    expect(freshnessLifetimeMs([])).toBe(0);
  });

  it('ages a response by Age, transit delay and residence time', () => {
    const h: HeaderPairs = [['Date', date(T0)], ['Age', '5']];
    expect(currentAgeMs(h, { requestTimeMs: T0 - 1000, responseTimeMs: T0 }, T0 + 10_000)).toBe(16_000);
  });

  it('is fresh while the age is below the lifetime, and never when the request says no-cache', () => {
    const e = { status: 200, headers: [['Date', date(T0)], ['Cache-Control', 'max-age=60']] as HeaderPairs, ...timing };
    expect(usability(e, {}, T0 + 59_000)).toBe('fresh');
    expect(usability(e, {}, T0 + 60_000)).toBe('stale');
    expect(usability(e, { 'cache-control': 'no-cache' }, T0 + 1000)).toBe('stale');
    expect(usability(e, { pragma: 'no-cache' }, T0 + 1000)).toBe('stale');
    expect(usability(e, { 'cache-control': 'max-age=10' }, T0 + 20_000)).toBe('stale');
    expect(usability(e, { 'cache-control': 'min-fresh=50' }, T0 + 20_000)).toBe('stale');
    expect(usability(e, { 'cache-control': 'max-stale=30' }, T0 + 80_000)).toBe('fresh');
  });
});

describe('stale responses', () => {
  const stored = (cc: string) => ({ status: 200, headers: [['Date', date(T0)], ['Cache-Control', cc]] as HeaderPairs, ...timing });

  it('serves stale while revalidating only inside the window, and never what must be revalidated', () => {
    expect(usability(stored('max-age=10, stale-while-revalidate=20'), {}, T0 + 25_000)).toBe('stale-while-revalidate');
    expect(usability(stored('max-age=10, stale-while-revalidate=20'), {}, T0 + 31_000)).toBe('stale');
    expect(usability(stored('max-age=10, stale-while-revalidate=20, must-revalidate'), {}, T0 + 25_000)).toBe('stale');
    expect(usability(stored('s-maxage=10, stale-while-revalidate=20'), {}, T0 + 25_000)).toBe('stale');
    expect(usability(stored('max-age=10, stale-while-revalidate=20'), { 'cache-control': 'no-cache' }, T0 + 25_000)).toBe('stale');
  });

  it('answers for a failing origin within stale-if-error, and for an unreachable one unless forbidden', () => {
    const e = stored('max-age=10, stale-if-error=20');
    expect(mayServeOnError(e, {}, T0 + 25_000, false)).toBe(true);
    expect(mayServeOnError(e, {}, T0 + 31_000, false)).toBe(false);
    expect(mayServeOnError(stored('max-age=10'), {}, T0 + 25_000, false)).toBe(false);
    expect(mayServeOnError(stored('max-age=10'), { 'cache-control': 'stale-if-error=60' }, T0 + 25_000, false)).toBe(true);
    expect(mayServeOnError(stored('max-age=10'), {}, T0 + 3_600_000, true)).toBe(true);
    expect(mayServeOnError(stored('max-age=10, proxy-revalidate'), {}, T0 + 25_000, true)).toBe(false);
    expect(mayServeOnError(e, { 'cache-control': 'no-cache' }, T0 + 25_000, true)).toBe(false);
  });

  it('takes freshness from CDN-Cache-Control over Cache-Control and Expires', () => {
    expect(freshnessLifetimeMs([['Cache-Control', 'max-age=10'], ['CDN-Cache-Control', 'max-age=600']])).toBe(600_000);
    expect(freshnessLifetimeMs([['CDN-Cache-Control', 'max-age=0'], ['Date', date(T0)], ['Expires', date(T0 + 60_000)]])).toBe(0);
    expect(freshnessLifetimeMs([['Date', date(T0)], ['Expires', 'Thu, 18 Aug 2050 02:01:18 UTC']])).toBe(0);
  });
});

describe('Vary and validators', () => {
  it('selects variants by the request values of the Vary headers', () => {
    const names = varyNames([['Vary', 'Accept-Encoding, accept-language']]);
    expect(names).toEqual(['accept-encoding', 'accept-language']);
    const stored = varyValues(names as string[], { 'accept-encoding': 'gzip, br', 'accept-language': 'en' });
    expect(varyMatches(stored, { 'accept-encoding': 'gzip,br', 'accept-language': 'en' })).toBe(true);
    expect(varyMatches(stored, { 'accept-encoding': 'gzip', 'accept-language': 'en' })).toBe(false);
    expect(varyMatches(stored, { 'accept-language': 'en' })).toBe(false);
  });

  it('compares ETags weakly', () => {
    expect(etagMatches('W/"a", "b"', '"a"')).toBe(true);
    expect(etagMatches('"c"', '"a"')).toBe(false);
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches(null, '"a"')).toBe(false);
  });
});

describe('headers', () => {
  it('parses Cache-Control directives, quoted values and case', () => {
    const cc = parseCacheControl('Max-Age=60, no-cache="set-cookie", PUBLIC');
    expect(cc.get('max-age')).toBe('60');
    expect(cc.get('no-cache')).toBe('set-cookie');
    expect(cc.get('public')).toBe(true);
  });

  it('drops hop-by-hop headers and those named in Connection', () => {
    expect(withoutHopByHop([['Connection', 'close, X-Secret'], ['X-Secret', '1'], ['Transfer-Encoding', 'chunked'], ['ETag', '"a"']])).toEqual([['ETag', '"a"']]);
  });

  it('updates stored headers from a 304 but keeps the framing of the stored body', () => {
    const stored: HeaderPairs = [['Content-Length', '5'], ['ETag', '"a"'], ['Cache-Control', 'max-age=0'], ['Content-Encoding', 'gzip']];
    const merged = mergeNotModified(stored, [['Cache-Control', 'max-age=60'], ['Content-Length', '0'], ['Date', 'x']]);
    expect(merged).toEqual([['Content-Length', '5'], ['ETag', '"a"'], ['Content-Encoding', 'gzip'], ['Cache-Control', 'max-age=60'], ['Date', 'x']]);
  });
});
