import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixed, startOriginServer, type TestOrigin } from '../../support/origin-server.js';
import { rawRequest } from '../../support/node-http.js';
import { startTestNodeServer, type TestNodeServer } from '../../support/node-server.js';

// The node's cache, case by case, over real sockets: a real origin, the real node listener,
// the real disk store.

const HOST = 'site-a.test';
let origin: TestOrigin;
let node: TestNodeServer;
let dir: string;

beforeEach(async () => {
  origin = await startOriginServer();
  dir = mkdtempSync(join(tmpdir(), 'verity-node-cache-'));
});
afterEach(async () => {
  await node.close();
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startNode(o: Partial<Parameters<typeof startTestNodeServer>[0]> = {}) {
  node = await startTestNodeServer({ sites: { [HOST]: origin.url }, cacheDir: join(dir, 'cache'), ...o });
}

const get = (path: string, headers: Record<string, string> = {}) => node.request(path, { headers });

describe('freshness', () => {
  it('serves a fresh response from the cache: one origin request, Age, identical bytes', async () => {
    origin.route('/a', fixed('hello', { 'cache-control': 'max-age=60', etag: '"v1"' }));
    await startNode();
    const first = await get('/a');
    const second = await get('/a');
    expect([first.headers['x-verity-cache'], second.headers['x-verity-cache']]).toEqual(['MISS', 'HIT']);
    expect(second.body.toString()).toBe('hello');
    // Date has one-second resolution, so a just-stored response may already be 1 s old.
    expect(Number(second.headers.age)).toBeLessThanOrEqual(2);
    expect(origin.count('/a')).toBe(1);
  });

  it('uses s-maxage over max-age and honours Expires', async () => {
    origin.route('/s', fixed('s', { 'cache-control': 'max-age=0, s-maxage=60' }));
    origin.route('/e', (_q, res) => {
      res.writeHead(200, { date: new Date().toUTCString(), expires: new Date(Date.now() + 60_000).toUTCString() });
      res.end('e');
    });
    await startNode();
    for (const p of ['/s', '/e']) {
      await get(p);
      expect((await get(p)).headers['x-verity-cache']).toBe('HIT');
      expect(origin.count(p)).toBe(1);
    }
  });

  it('revalidates a stale response with If-None-Match and serves the stored body on 304', async () => {
    origin.route('/r', (req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=0' });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=0' });
      res.end('body-v1');
    });
    await startNode();
    expect((await get('/r')).headers['x-verity-cache']).toBe('MISS');
    const again = await get('/r');
    expect(again.headers['x-verity-cache']).toBe('REVALIDATED');
    expect(again.body.toString()).toBe('body-v1');
    expect(origin.requests.map((r) => r.headers['if-none-match'])).toEqual([undefined, '"v1"']);
  });

  it('revalidates with If-Modified-Since and replaces the entry when the origin sends 200', async () => {
    let version = 1;
    origin.route('/lm', (_req, res) => {
      res.writeHead(200, { 'last-modified': 'Tue, 01 Jan 2030 00:00:00 GMT', 'cache-control': 'no-cache' });
      res.end(`v${version}`);
    });
    await startNode();
    await get('/lm');
    version = 2;
    const second = await get('/lm');
    expect(second.body.toString()).toBe('v2');
    expect(origin.requests[1]?.headers['if-modified-since']).toBe('Tue, 01 Jan 2030 00:00:00 GMT');
  });

  it('answers a visitor\'s matching If-None-Match with 304', async () => {
    origin.route('/c', fixed('cond', { 'cache-control': 'max-age=60', etag: '"c1"' }));
    await startNode();
    await get('/c');
    const r = await get('/c', { 'if-none-match': '"c1"' });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
  });
});

describe('what is never stored or served from the cache', () => {
  it.each([
    ['no-store', { 'cache-control': 'no-store' }],
    ['private', { 'cache-control': 'private, max-age=60' }],
    ['Set-Cookie', { 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' }],
    ['Vary: *', { 'cache-control': 'max-age=60', vary: '*' }],
  ])('%s', async (_name, headers) => {
    origin.route('/x', fixed('secret', headers));
    await startNode();
    await get('/x');
    const second = await get('/x');
    expect(second.headers['x-verity-cache']).toBe('MISS');
    expect(origin.count('/x')).toBe(2);
    expect(node.store.stats().entries).toBe(0);
  });

  it('never answers a request with credentials from the cache, and never forwards them', async () => {
    origin.route('/p', fixed('public', { 'cache-control': 'public, max-age=60' }));
    await startNode();
    await get('/p');
    const authed = await get('/p', { authorization: 'Bearer abc', cookie: 'sid=1' });
    expect(authed.headers['x-verity-cache']).toBe('BYPASS');
    expect(origin.count('/p')).toBe(2);
    expect(origin.requests[1]?.headers.authorization).toBeUndefined();
    expect(origin.requests[1]?.headers.cookie).toBeUndefined();
  });
});

describe('Vary', () => {
  it('keeps one variant per Accept-Language', async () => {
    origin.route('/v', (req, res) => {
      res.writeHead(200, { vary: 'Accept-Language', 'cache-control': 'max-age=60' });
      res.end(`lang=${req.headers['accept-language'] ?? ''}`);
    });
    await startNode();
    const en1 = await get('/v', { 'accept-language': 'en' });
    const fr1 = await get('/v', { 'accept-language': 'fr' });
    const en2 = await get('/v', { 'accept-language': 'en' });
    const fr2 = await get('/v', { 'accept-language': 'fr' });
    expect([en1, fr1, en2, fr2].map((r) => r.body.toString())).toEqual(['lang=en', 'lang=fr', 'lang=en', 'lang=fr']);
    expect([en2, fr2].map((r) => r.headers['x-verity-cache'])).toEqual(['HIT', 'HIT']);
    expect(origin.count('/v')).toBe(2);
  });
});

describe('bytes', () => {
  it('passes compressed bodies through byte for byte, never decoding them', async () => {
    const gz = gzipSync(Buffer.from('<p>'.repeat(500)));
    origin.route('/z', fixed(gz, { 'content-encoding': 'gzip', 'content-type': 'text/html', vary: 'Accept-Encoding', 'cache-control': 'max-age=60' }));
    await startNode();
    for (const cacheStatus of ['MISS', 'HIT']) {
      const r = await get('/z', { 'accept-encoding': 'gzip' });
      expect(r.headers['x-verity-cache']).toBe(cacheStatus);
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.body.equals(gz)).toBe(true);
    }
    expect(origin.requests[0]?.headers['accept-encoding']).toBe('gzip');
  });
});

describe('limits and the store', () => {
  it('keeps the store under its byte cap, evicting the least recently used', async () => {
    const body = Buffer.alloc(10_000, 'x');
    for (let i = 0; i < 12; i++) origin.route(`/big${i}`, fixed(body, { 'cache-control': 'max-age=600' }));
    await startNode({ capBytes: 50_000 });
    await get('/big0');
    for (let i = 1; i < 12; i++) {
      await get(`/big${i}`);
      await get('/big0'); // keep /big0 recently used
    }
    const files = readdirSync(join(dir, 'cache'));
    const onDisk = files.reduce((sum, f) => sum + statSync(join(dir, 'cache', f)).size, 0);
    expect(node.store.stats().bytes).toBeLessThanOrEqual(50_000);
    expect(onDisk).toBeLessThanOrEqual(50_000);
    expect((await get('/big0')).headers['x-verity-cache']).toBe('HIT');
    expect((await get('/big1')).headers['x-verity-cache']).toBe('MISS');
  });

  it('survives a restart: entries and their bytes come back from disk', async () => {
    origin.route('/keep', fixed('kept', { 'cache-control': 'max-age=600' }));
    await startNode();
    await get('/keep');
    await node.close();
    await startNode();
    const r = await get('/keep');
    expect(r.headers['x-verity-cache']).toBe('HIT');
    expect(r.body.toString()).toBe('kept');
    expect(origin.count('/keep')).toBe(1);
  });

  it('makes one origin request for 20 concurrent misses of the same URL', async () => {
    origin.route('/slow', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1000));
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end('slow');
    });
    await startNode();
    const all = await Promise.all(Array.from({ length: 20 }, () => get('/slow')));
    expect(all.every((r) => r.status === 200 && r.body.toString() === 'slow')).toBe(true);
    expect(origin.count('/slow')).toBe(1);
  });

  it('does not share an unstorable response between concurrent visitors', async () => {
    origin.route('/own', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 200));
      res.writeHead(200, { 'cache-control': 'private' });
      res.end('yours');
    });
    await startNode();
    await Promise.all(Array.from({ length: 3 }, () => get('/own')));
    expect(origin.count('/own')).toBe(3);
  });

  it('answers 504 at the origin deadline, 502 over the body cap, 503 over the concurrency limit', async () => {
    origin.route('/hang', () => undefined);
    origin.route('/huge', (_req, res) => {
      res.writeHead(200, { 'content-length': '200000' });
      res.end(Buffer.alloc(200_000, 'y'));
    });
    // No length declared: the body streams until it passes the cap, then the response is cut.
    origin.route('/endless', fixed(Buffer.alloc(200_000, 'z')));
    origin.route('/wait', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1000));
      res.end('ok');
    });
    await startNode({ originTimeoutMs: 4000, maxBodyBytes: 100_000, maxConcurrent: 2 });
    expect((await get('/hang')).status).toBe(504);
    expect((await get('/huge')).status).toBe(502);
    await expect(get('/endless')).rejects.toThrow(/aborted|socket hang up/);
    const three = await Promise.all([get('/wait?1'), get('/wait?2'), get('/wait?3')]);
    expect(three.map((r) => r.status).sort()).toEqual([200, 200, 503]);
  });

  it('bounds the bytes held for all responses passing through at once: reads wait, nothing fails', async () => {
    // Each response sends half its body, waits, then the rest: both are being read at once.
    const half = Buffer.alloc(60_000, 'h');
    origin.route('/drip', async (_req, res) => {
      res.writeHead(200, { 'cache-control': 'no-store', 'content-length': String(2 * half.length) });
      res.write(half);
      await new Promise((r) => setTimeout(r, 400));
      res.end(half);
    });
    // A budget below one chunk: only one chunk may be in hand at a time, node-wide.
    await startNode({ maxBufferedBytes: 1000 });
    const both = await Promise.all([get('/drip?a'), get('/drip?b')]);
    expect(both.map((r) => [r.status, r.body.length])).toEqual([[200, 120_000], [200, 120_000]]);
    expect(node.budget.peak()).toBeLessThanOrEqual(64 * 1024);
    expect(node.budget.held()).toBe(0);
  });

  it('answers HEAD from a stored GET, headers only', async () => {
    origin.route('/h', fixed('0123456789', { 'cache-control': 'max-age=60' }));
    await startNode();
    await get('/h');
    const head = await node.request('/h', { method: 'HEAD' });
    expect(head.headers['x-verity-cache']).toBe('HIT');
    expect(head.headers['content-length']).toBe('10');
    expect(head.body.length).toBe(0);
    expect(origin.count('/h')).toBe(1);
  });

  it('survives oversized request headers (431) and keeps serving', async () => {
    origin.route('/ok', fixed('ok', { 'cache-control': 'max-age=60' }));
    await startNode();
    const big = await rawRequest(node.url + '/ok', { host: HOST, headers: { 'x-big': 'a'.repeat(20_000) } }).catch(() => ({ status: 0 }));
    expect([0, 431]).toContain(big.status);
    expect((await get('/ok')).status).toBe(200);
  });

  it('refuses sites it was not assigned with 421, and answers the health probe to anyone', async () => {
    await startNode();
    expect((await node.request('/', { host: 'other.test' })).status).toBe(421);
    expect(origin.requests).toHaveLength(0);
    const health = await rawRequest(`${node.url}/.well-known/verity/health`, { host: 'whatever' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body.toString())).toMatchObject({ ok: true });
    expect((await node.request('/', { method: 'POST' })).status).toBe(405);
    // A protocol-relative target stays a path on the origin; the node is never steered elsewhere.
    await get('//evil.test/x');
    expect(origin.requests.map((r) => [r.path, r.headers.host])).toEqual([['//evil.test/x', HOST]]);
  });
});
