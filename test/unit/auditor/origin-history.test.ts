import { describe, expect, it } from 'vitest';
import { compareHttp } from '../../../auditor/compare/http.js';
import { freshnessMs, OriginHistory } from '../../../auditor/compare/origin-history.js';

// Issue 14.3: strikes measure the node, not the origin's own variance. Headers are judged only
// where the origin never varies them for that URL; a once-genuine copy within its freshness is
// not a mismatch; through the balancer, headers the balancer sets are never the node's doing.

type H = Array<[string, string]>;
const res = (headers: H, status = 200) => ({ status, headers });

describe('headers learned per URL', () => {
  it('a Link header that varies per request on this URL is not held against a node; one that never varies is', () => {
    const h = new OriginHistory();
    const names = ['link', 'content-security-policy'];
    for (const id of ['101', '102']) h.rememberResponse('shop.example/post', [['Link', `<https://shop.example/?p=${id}>; rel=shortlink`], ['Content-Security-Policy', "default-src 'self'"]], names);
    const history = { headerVaries: (n: string) => h.headerVaries('shop.example/post', n), headerComesAndGoes: (n: string) => h.headerComesAndGoes('shop.example/post', n), cookieNames: h.cookieNames('shop.example/post') };
    const origin = [res([['Link', '<https://shop.example/?p=103>; rel=shortlink'], ['Content-Security-Policy', "default-src 'self'"]])];
    const node = res([['Link', '<https://shop.example/?p=999>; rel=shortlink'], ['Content-Security-Policy', "default-src 'self'"]]);
    expect(compareHttp([...origin, ...origin], node, ['shop.example'], { history }).findings).toEqual([]);
    const weakened = res([['Link', '<https://shop.example/?p=999>; rel=shortlink'], ['Content-Security-Policy', 'default-src *']]);
    expect(compareHttp([...origin, ...origin], weakened, ['shop.example'], { history }).findings.map((f) => f.kind)).toEqual(['security_header_changed']);
    // Removing a header the origin always sends is caught even where its value varies.
    const stripped = res([['Content-Security-Policy', "default-src 'self'"]]);
    expect(compareHttp([...origin, ...origin], stripped, ['shop.example'], { history }).findings.map((f) => f.summary)).toEqual(['link: removed']);
  });

  it('a cookie the origin set for this URL in an earlier audit is not new', () => {
    const h = new OriginHistory();
    h.rememberResponse('shop.example/', [['Set-Cookie', 'wp-settings-42=x; Path=/']], []);
    const history = { headerVaries: () => false, headerComesAndGoes: () => false, cookieNames: h.cookieNames('shop.example/') };
    const node = res([['Set-Cookie', 'wp-settings-42=y; Path=/']]);
    expect(compareHttp([res([]), res([])], node, ['shop.example'], { history }).findings).toEqual([]);
    expect(compareHttp([res([]), res([])], res([['Set-Cookie', 'trk=1']]), ['shop.example'], { history }).findings.map((f) => f.kind)).toEqual(['set_cookie_added']);
  });

  it('through the balancer, policy headers and cookies are the balancer\'s: a low note, never an accusation', () => {
    const origin = [res([['Content-Type', 'text/css']]), res([['Content-Type', 'text/css']])];
    const viaBalancer = res([['Content-Type', 'text/css'], ['Strict-Transport-Security', 'max-age=31536000'], ['Content-Security-Policy', "script-src 'nonce-stale'"]]);
    const f = compareHttp(origin, viaBalancer, ['shop.example'], { viaBalancer: true }).findings;
    expect(f.map((x) => `${x.kind}:${x.severity}`)).toEqual(['balancer_header_differs:low', 'balancer_header_differs:low']);
    // The content type is still the node's.
    expect(compareHttp(origin, res([['Content-Type', 'text/html']]), ['shop.example'], { viaBalancer: true }).findings.map((x) => x.kind)).toEqual(['content_type_changed']);
  });
});

describe('once-genuine copies', () => {
  it('an earlier digest is accepted while a cache may still hold it, and not after', () => {
    const h = new OriginHistory();
    h.rememberDigest('shop.example/app.js', 'old', 3_600_000, 0);
    expect(h.onceGenuine('shop.example/app.js', 'old', 10)).toBe(false); // still the current copy: compared as such
    h.rememberDigest('shop.example/app.js', 'new', 3_600_000, 60_000);
    expect(h.onceGenuine('shop.example/app.js', 'old', 60_000 + 3_599_000)).toBe(true);
    expect(h.onceGenuine('shop.example/app.js', 'old', 60_000 + 3_601_000)).toBe(false);
    expect(h.onceGenuine('shop.example/app.js', 'evil', 61_000)).toBe(false);
  });

  it('freshness follows the origin\'s Cache-Control for shared caches', () => {
    expect(freshnessMs('public, max-age=600')).toBe(600_000);
    expect(freshnessMs('max-age=600, s-maxage=60')).toBe(60_000);
    expect(freshnessMs('private, max-age=600')).toBe(0);
    expect(freshnessMs(null)).toBe(0);
  });
});
