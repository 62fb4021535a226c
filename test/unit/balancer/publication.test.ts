import { describe, expect, it } from 'vitest';
import { diffExcerpt } from '../../../balancer/integrity/diff-excerpt.js';
import { htmlSignature, signatureMismatch } from '../../../balancer/integrity/html-signature.js';
import { PieceHasher } from '../../../balancer/integrity/pieces.js';
import { PieceSink } from '../../../balancer/integrity/piece-sink.js';
import { evolve } from '../../../balancer/publication/evolve.js';
import { learn } from '../../../balancer/publication/learn.js';
import { PublicationStore } from '../../../balancer/publication/store.js';
import { PIECE_SIZE, ageSeconds, isFresh, type Observation } from '../../../balancer/publication/types.js';
import { encodingClass, variantKey } from '../../../balancer/publication/variant.js';
import { headerViolations } from '../../../balancer/routes/node-headers.js';
import { parseManifest } from '../../../balancer/background/site-refresh.js';
import { nodeRequestHeaders, originRequestHeaders } from '../../../balancer/upstream/request-headers.js';

const T0 = Date.UTC(2026, 11, 1, 12);
const date = new Date(T0).toUTCString();

function answer(headers: Record<string, string>, sha256 = 'a'.repeat(64), status = 200) {
  return learn({ status, headers: { date, ...headers }, sha256, size: 10, pieces: null, requestTimeMs: T0, responseTimeMs: T0 });
}

function obs(sha256: string, headers: Record<string, string> = {}): Observation {
  const l = answer({ 'cache-control': 'public, max-age=60', ...headers }, sha256);
  if (!l.ok) throw new Error(l.reason);
  return l.obs;
}

const at = { siteId: 's', url: '/x', variant: '', source: 'origin' as const };

describe('learn: what the origin lets nodes serve', () => {
  it.each([
    [{ 'cache-control': 'public, max-age=60' }, true],
    [{ 'cache-control': 's-maxage=60, max-age=0' }, true],
    [{ expires: new Date(T0 + 60_000).toUTCString() }, true],
    [{ 'last-modified': new Date(T0 - 86_400_000).toUTCString() }, true],
    [{ 'cache-control': 'private, max-age=60' }, false],
    [{ 'cache-control': 'no-store' }, false],
    [{ 'cache-control': 'no-cache' }, false],
    [{ 'cache-control': 'max-age=0' }, false],
    [{ 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }, false],
    [{ 'cache-control': 'max-age=60', vary: 'Cookie' }, false],
    [{ 'cache-control': 'max-age=60', vary: '*' }, false],
    [{ expires: '0' }, false],
    [{}, false],
  ])('%j → %s', (headers, ok) => {
    expect(answer(headers).ok).toBe(ok);
  });

  it('keeps the origin\'s own headers, drops hop-by-hop ones and what we compute', () => {
    const l = answer({ 'cache-control': 'max-age=60', 'x-custom': 'kept', connection: 'x-hop', 'x-hop': 'gone', 'keep-alive': '5', 'content-length': '10', age: '3' });
    expect(l.ok && l.obs.headers).toEqual({ 'cache-control': 'max-age=60', 'x-custom': 'kept' });
    expect(l.ok && l.obs.initialAgeMs).toBe(3000);
  });

  it('fresh for its lifetime, minus the age it arrived with', () => {
    const o = obs('a'.repeat(64), { age: '50, 0' });
    expect(isFresh(o, T0 + 9_000)).toBe(true);
    expect(isFresh(o, T0 + 11_000)).toBe(false);
    expect(ageSeconds(o, T0 + 5_000)).toBe(55);
  });
});

describe('evolve: stable only once the origin repeated itself', () => {
  it('pending → stable → pending on a change → dynamic when it keeps changing', () => {
    let { pub, change } = evolve(undefined, at, obs('1'.repeat(64)));
    expect([pub.mode, change]).toEqual(['pending', 'new']);
    ({ pub, change } = evolve(pub, at, obs('1'.repeat(64))));
    expect([pub.mode, change]).toEqual(['stable', 'confirmed']);
    ({ pub, change } = evolve(pub, at, obs('2'.repeat(64))));
    expect([pub.mode, change, pub.history]).toEqual(['pending', 'changed', ['1'.repeat(64)]]);
    ({ pub } = evolve(pub, at, obs('3'.repeat(64))));
    expect(pub.mode).toBe('dynamic');
    ({ pub } = evolve(pub, at, obs('3'.repeat(64))));
    expect(pub.mode).toBe('stable');
  });

  it('a manifest vouches: stable at once', () => {
    expect(evolve(undefined, { ...at, source: 'manifest' }, obs('1'.repeat(64))).pub.mode).toBe('stable');
  });

  it('learns which headers the origin varies while the bytes stay the same', () => {
    let { pub } = evolve(undefined, at, obs('1'.repeat(64), { 'content-security-policy': "default-src 'self'; report-uri /r?id=1" }));
    ({ pub } = evolve(pub, at, obs('1'.repeat(64), { 'content-security-policy': "default-src 'self'; report-uri /r?id=2" })));
    expect(pub.unstableHeaders).toEqual(['content-security-policy']);
  });
});

describe('header violations: only provable ones', () => {
  const stable = (headers: Record<string, string>) => {
    const o = obs('1'.repeat(64), { etag: '"v1"', 'content-security-policy': "default-src 'self'", ...headers });
    return { ...evolve(evolve(undefined, at, o).pub, at, o).pub };
  };
  it('same version (validator): cookies, weakened policies and cross-site redirects', () => {
    const v = headerViolations({ etag: '"v1"', 'set-cookie': ['x=1'], 'content-security-policy': 'default-src *', location: 'https://evil.example/' }, stable({}), 'site.test');
    expect(v).toEqual(['set-cookie', 'location: https://evil.example/', 'content-security-policy: default-src *']);
  });
  it('another version, or a header the origin itself varies: nothing provable', () => {
    expect(headerViolations({ etag: '"v0"', 'set-cookie': ['x=1'] }, stable({}), 'site.test')).toEqual([]);
    const pub = stable({});
    pub.unstableHeaders = ['content-security-policy'];
    expect(headerViolations({ etag: '"v1"', 'content-security-policy': 'other' }, pub, 'site.test')).toEqual([]);
  });
  it('an honest relay is clean', () => {
    expect(headerViolations({ etag: '"v1"', 'content-security-policy': "default-src 'self'", 'cache-control': 'public, max-age=60' }, stable({}), 'site.test')).toEqual([]);
  });
});

describe('variants', () => {
  it.each([
    [undefined, 'identity'], ['gzip, deflate, br', 'br, gzip'], ['gzip', 'gzip'], ['br', 'identity'], ['gzip;q=0, br', 'identity'], ['*', 'br, gzip'], ['GZIP', 'gzip'],
  ])('Accept-Encoding %s → %s', (ae, cls) => {
    expect(encodingClass(ae)).toBe(cls);
  });
  it('keys on the values of the Vary headers only', () => {
    expect(variantKey([], { 'accept-language': 'de' }, 'gzip')).toBe('');
    expect(variantKey(['accept-encoding', 'accept-language'], { 'accept-language': 'de, en' }, 'gzip')).toBe('gzip\nde,en\n');
  });
  it('the store finds a request\'s variant and bounds what it keeps', () => {
    const store = new PublicationStore(2);
    store.observe({ siteId: 's', url: '/a', varyNames: ['accept-language'], variant: 'de\n', source: 'origin' }, obs('1'.repeat(64)), T0);
    expect(store.lookup('s', '/a', { 'accept-language': 'de' }, 'identity', T0)?.url).toBe('/a');
    expect(store.lookup('s', '/a', { 'accept-language': 'fr' }, 'identity', T0)).toBeUndefined();
    store.observe({ ...at, url: '/b', varyNames: [] }, obs('2'.repeat(64)), T0 + 1);
    store.observe({ ...at, url: '/c', varyNames: [] }, obs('3'.repeat(64)), T0 + 2);
    expect(store.size).toBeLessThanOrEqual(2);
  });
});

describe('pieces', () => {
  const body = Buffer.alloc(PIECE_SIZE * 2 + 1234);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
  const hashed = (() => {
    const h = new PieceHasher();
    for (let i = 0; i < body.length; i += 70_000) h.update(body.subarray(i, i + 70_000));
    return h.finish();
  })();

  it('hashes whole and per piece, whatever the chunking', () => {
    expect(hashed.pieces?.length).toBe(3 * 32);
  });

  it('releases only verified pieces, and only the requested bytes of them', () => {
    const out: Buffer[] = [];
    const sink = new PieceSink(hashed.pieces as Buffer, body.length, 100, PIECE_SIZE + 50, 0, { write: (b) => (out.push(b), true) });
    for (let i = 0; i < sink.fetchEnd + 1; i += 65_536) expect(sink.feed(body.subarray(i, Math.min(i + 65_536, sink.fetchEnd + 1)))).toBe('ok');
    expect(sink.complete).toBe(true);
    expect(Buffer.concat(out).equals(body.subarray(100, PIECE_SIZE + 51))).toBe(true);
  });

  it('a doctored piece is never released', () => {
    const bad = Buffer.from(body);
    bad[PIECE_SIZE + 10] = (bad[PIECE_SIZE + 10] ?? 0) ^ 1;
    const out: Buffer[] = [];
    const sink = new PieceSink(hashed.pieces as Buffer, body.length, 0, body.length - 1, 0, { write: (b) => (out.push(b), true) });
    expect(sink.feed(bad.subarray(0, PIECE_SIZE))).toBe('ok');
    expect(sink.feed(bad.subarray(PIECE_SIZE, 2 * PIECE_SIZE))).toBe('mismatch');
    expect(Buffer.concat(out).length).toBe(PIECE_SIZE);
  });
});

describe('request headers', () => {
  const visitor = {
    host: 'site.test', cookie: 'a=b', authorization: 'Bearer x', 'x-forwarded-for': '6.6.6.6', 'user-agent': 'UA', accept: 'text/html',
    'accept-encoding': 'gzip, br', 'if-none-match': '"x"', range: 'bytes=0-1', 'x-session-token': 'secret', 'accept-language': 'de', 'x-device': 'phone',
  };
  it('toward a node: an allowlist, the Vary headers, our encoding class and signature', () => {
    const h = nodeRequestHeaders(visitor, { host: 'site.test', target: '/p', method: 'GET', encoding: 'br, gzip', varyNames: ['x-device', 'cookie'], range: null, nodeKey: 'k', now: T0 });
    const names = h.filter((_, i) => i % 2 === 0);
    expect(names).toEqual(['host', 'accept-encoding', 'accept', 'accept-language', 'user-agent', 'x-device', 'x-verity-request-auth']);
  });
  it('toward the origin: credentials kept, hop-by-hop and forged forwarding replaced', () => {
    const h = originRequestHeaders({ ...visitor, connection: 'x-hop', 'x-hop': '1', 'content-length': '3' }, { host: 'site.test', clientIp: '203.0.113.9', proto: 'http', encoding: null });
    const m = new Map<string, string>();
    for (let i = 0; i < h.length; i += 2) m.set(h[i] ?? '', h[i + 1] ?? '');
    expect(m.get('cookie')).toBe('a=b');
    expect(m.get('x-forwarded-for')).toBe('203.0.113.9');
    expect(m.has('x-hop') || m.has('connection') || m.has('content-length')).toBe(false);
    expect(m.get('forwarded')).toBe('for=203.0.113.9;host=site.test;proto=http');
  });
});

describe('html signature (shadow sampling)', () => {
  const page = (extra = '', t = '12:00'): string => `<html><head><script src="/app.js"></script></head><body><p>at ${t}</p>${extra}</body></html>`;
  it('volatile parts do not count; an injected script or outside host does', () => {
    expect(signatureMismatch(htmlSignature(page('', '13:00')), htmlSignature(page()), null)).toEqual([]);
    expect(signatureMismatch(htmlSignature(page('<script src="https://evil.example/x.js"></script>')), htmlSignature(page()), null)).toEqual(['scripts', 'hosts']);
  });
});

describe('misc', () => {
  it('manifest URLs: flat or {files}, hex or SRI', () => {
    const hex = 'ab'.repeat(32);
    expect(parseManifest({ '/a.js': hex }).get('/a.js')).toBe(hex);
    expect(parseManifest({ files: { '/b.css': `sha256-${Buffer.from(hex, 'hex').toString('base64')}` } }).get('/b.css')).toBe(hex);
  });
  it('diff excerpt points at the first difference', () => {
    expect(diffExcerpt(Buffer.from('hello world'), Buffer.from('hello there')).offset).toBe(6);
  });
});
