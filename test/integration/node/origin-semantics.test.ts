import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NODE_REQUEST_AUTH_HEADER, signNodeRequest } from '../../../common/protocol/node-request-auth.js';
import { startTestNodeServer, type TestNodeServer } from '../../support/node-server.js';
import { fixed, startOriginServer, type TestOrigin } from '../../support/origin-server.js';

// What reaches the origin from a node, and the RFC 9111 semantics of the node's cache over real
// sockets: the site's Host, the header allowlist, Vary learned from the origin, stale content
// (while revalidating, on error, when disconnected), 1xx interim responses, bodies longer than
// declared, CDN-Cache-Control. The node's clock is ours, so staleness is exact.

const HOST = 'site-a.test';
let origin: TestOrigin;
let node: TestNodeServer;
let dir: string;
let clock = Date.now();

beforeEach(async () => {
  origin = await startOriginServer();
  dir = mkdtempSync(join(tmpdir(), 'verity-node-sem-'));
  clock = Date.now();
});
afterEach(async () => {
  await node.close();
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startNode(originUrl = origin.url): Promise<void> {
  node = await startTestNodeServer({ sites: { [HOST]: originUrl }, cacheDir: join(dir, 'cache'), now: () => clock, originTimeoutMs: 3000 });
}
const get = (path: string, headers: Record<string, string> = {}) => node.request(path, { headers });

describe('toward the origin', () => {
  it('sends the site\'s Host and the allowlisted headers only', async () => {
    origin.route('/a', fixed('a', { 'cache-control': 'max-age=60' }));
    await startNode();
    await get('/a', {
      accept: 'text/html', 'accept-language': 'de', 'user-agent': 'UA', 'sec-fetch-mode': 'navigate', 'sec-ch-ua-mobile': '?0',
      cookie: 'sid=1', authorization: 'Basic eA==', 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9', 'x-api-key': 'k', 'x-custom': 'c',
    });
    const seen = origin.requests[0]?.headers ?? {};
    expect(seen.host).toBe(HOST);
    expect(Object.keys(seen).filter((n) => !['host', 'connection'].includes(n)).sort()).toEqual(['accept', 'accept-language', 'sec-ch-ua-mobile', 'sec-fetch-mode', 'user-agent']);
  });

  it('learns what the origin varies on: asks again once with that header, then keeps one variant per value', async () => {
    origin.route('/v', (req, res) => {
      res.writeHead(200, { vary: 'X-Device', 'cache-control': 'max-age=60' });
      res.end(`device=${req.headers['x-device'] ?? 'none'}`);
    });
    await startNode();
    const mobile = await get('/v', { 'x-device': 'mobile' });
    expect(mobile.body.toString()).toBe('device=mobile');
    expect(origin.requests.map((r) => r.headers['x-device'])).toEqual([undefined, 'mobile']);
    expect((await get('/v', { 'x-device': 'mobile' })).headers['x-verity-cache']).toBe('HIT');
    const desktop = await get('/v', { 'x-device': 'desktop' });
    expect([desktop.body.toString(), desktop.headers['x-verity-cache']]).toEqual(['device=desktop', 'MISS']);
    expect(origin.count('/v')).toBe(3);
  });
});

describe('Vary changes', () => {
  it('never keeps an answer shaped by a header the answer\'s Vary no longer names (no cache poisoning)', async () => {
    let varies = true;
    origin.route('/p', (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', ...(varies ? { vary: 'X-Device' } : {}) });
      res.end(`for ${req.headers['x-device'] ?? 'everyone'}`);
    });
    await startNode();
    await get('/p', { 'x-device': 'mobile' });
    varies = false;
    const shaped = await get('/p', { 'x-device': 'evil' });
    expect([shaped.body.toString(), shaped.headers['x-verity-cache']]).toEqual(['for evil', 'BYPASS']);
    expect(node.store.variants(`${HOST}/p`).map((e) => e.varyValues)).toEqual([{ 'x-device': 'mobile' }]);
    // The node now knows the origin varies on nothing: it sends the allowlist only, and keeps that.
    expect((await get('/p', { 'x-device': 'evil' })).body.toString()).toBe('for everyone');
    expect((await get('/p')).headers['x-verity-cache']).toBe('HIT');
  });
});

describe('invalidation', () => {
  it('a response still arriving when its URL is invalidated is not stored', async () => {
    origin.route('/slow', async (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': '10' });
      res.write('hello');
      await new Promise((r) => setTimeout(r, 300));
      res.end('world');
    });
    await startNode();
    const pending = get('/slow');
    while (origin.count('/slow') === 0) await new Promise((r) => setTimeout(r, 10));
    expect(await node.cache.invalidate(HOST, ['/slow'])).toBe(0);
    expect((await pending).body.toString()).toBe('helloworld');
    expect(node.store.stats().entries).toBe(0);
    expect((await get('/slow')).headers['x-verity-cache']).toBe('MISS');
  });
});

describe('stale responses', () => {
  it('stale-while-revalidate: answers at once from the store and brings it up to date in the background', async () => {
    let version = 1;
    origin.route('/swr', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=1, stale-while-revalidate=60', etag: `"v${version}"`, date: new Date(clock).toUTCString() });
      res.end(`v${version}`);
    });
    await startNode();
    await get('/swr');
    version = 2;
    clock += 5_000;
    const stale = await get('/swr');
    expect([stale.body.toString(), stale.headers['x-verity-cache']]).toEqual(['v1', 'STALE']);
    const deadline = Date.now() + 5000;
    while (origin.count('/swr') < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    const fresh = await get('/swr');
    expect([fresh.body.toString(), fresh.headers['x-verity-cache']]).toEqual(['v2', 'HIT']);
    // Past the window, the stored response is revalidated first.
    clock += 120_000;
    expect((await get('/swr')).headers['x-verity-cache']).not.toBe('STALE');
  });

  it('stale-if-error: the stored response answers for a failing origin within the window, not after', async () => {
    let failing = false;
    origin.route('/sie', (_req, res) => {
      res.writeHead(failing ? 503 : 200, { 'cache-control': 'max-age=1, stale-if-error=60' });
      res.end(failing ? 'down' : 'kept');
    });
    await startNode();
    await get('/sie');
    failing = true;
    clock += 30_000;
    const covered = await get('/sie');
    expect([covered.status, covered.body.toString(), covered.headers['x-verity-cache']]).toEqual([200, 'kept', 'STALE']);
    clock += 60_000;
    expect((await get('/sie')).status).toBe(503);
  });

  it('a disconnected origin: the stored response answers, unless the origin or the balancer forbids stale', async () => {
    for (const [path, cc] of [['/plain', 'max-age=1'], ['/strict', 'max-age=1, must-revalidate']] as const) origin.route(path, fixed(path, { 'cache-control': cc }));
    await startNode();
    await get('/plain');
    await get('/strict');
    await origin.close();
    clock += 10_000;
    const plain = await get('/plain');
    expect([plain.status, plain.body.toString(), plain.headers['x-verity-cache']]).toEqual([200, '/plain', 'STALE']);
    expect((await get('/strict')).status).toBe(502);
    expect((await get('/plain', { 'cache-control': 'no-cache' })).status).toBe(502);
    origin = await startOriginServer();
  });

  it('an Age list counts by its first member, and an Expires that is not an HTTP date means expired', async () => {
    origin.route('/age', fixed('age', { 'cache-control': 'max-age=3600', age: '7200, 0' }));
    origin.route('/utc', fixed('utc', { expires: new Date(Date.now() + 3_600_000).toUTCString().replace('GMT', 'UTC') }));
    origin.route('/gmt', fixed('gmt', { expires: new Date(Date.now() + 3_600_000).toUTCString() }));
    await startNode();
    for (const p of ['/age', '/utc', '/gmt']) await get(p);
    expect((await get('/age')).headers['x-verity-cache']).toBe('MISS');
    expect((await get('/utc')).headers['x-verity-cache']).toBe('MISS');
    expect((await get('/gmt')).headers['x-verity-cache']).toBe('HIT');
  });

  it('CDN-Cache-Control speaks to the node instead of Cache-Control', async () => {
    origin.route('/cdn-private', fixed('p', { 'cache-control': 'max-age=600', 'cdn-cache-control': 'private' }));
    origin.route('/cdn-fresh', fixed('f', { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=600' }));
    await startNode();
    for (const p of ['/cdn-private', '/cdn-fresh']) await get(p);
    expect((await get('/cdn-private')).headers['x-verity-cache']).toBe('MISS');
    expect((await get('/cdn-fresh')).headers['x-verity-cache']).toBe('HIT');
  });
});

/** A GET to the node that also records 1xx interim responses. */
function getWithInterim(path: string): Promise<{ interim: [number, Record<string, unknown>][]; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const interim: [number, Record<string, unknown>][] = [];
    const auth = signNodeRequest(node.key, { method: 'GET', host: HOST, target: path }, clock);
    const req = request(node.url + path, { headers: { host: HOST, [NODE_REQUEST_AUTH_HEADER]: auth }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ interim, status: res.statusCode ?? 0, body }));
    });
    req.on('information', (info) => interim.push([info.statusCode, info.headers]));
    req.on('error', reject);
    req.end();
  });
}

/** An origin speaking raw bytes, for what a well-behaved server would not send. */
async function rawOrigin(reply: string): Promise<{ url: string; server: Server }> {
  const server = createServer((s) => s.once('data', () => s.end(reply)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the origin\'s messages', () => {
  it('passes 103 Early Hints and 102 Processing on before the final response, and stores only the final one', async () => {
    origin.route('/hints', (_req, res) => {
      res.writeProcessing();
      res.writeEarlyHints({ link: '</app.css>; rel=preload; as=style', 'x-hint': 'yes' });
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end('final');
    });
    await startNode();
    const first = await getWithInterim('/hints');
    expect(first.interim.map(([s]) => s)).toEqual([102, 103]);
    expect(first.interim[1]?.[1]).toMatchObject({ link: '</app.css>; rel=preload; as=style', 'x-hint': 'yes' });
    expect([first.status, first.body]).toEqual([200, 'final']);
    const second = await getWithInterim('/hints');
    expect([second.interim, second.body]).toEqual([[], 'final']);
  });

  it('cuts a body the origin stops sending, after the origin timeout of silence: never a short success', async () => {
    origin.route('/stall', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': '10' });
      res.write('hello');
    });
    await startNode();
    const started = Date.now();
    await expect(get('/stall')).rejects.toThrow(/aborted|socket hang up/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(node.store.stats().entries).toBe(0);
  });

  it('answers 502 with the reason when the origin sends more bytes than its Content-Length', async () => {
    const raw = await rawOrigin('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: max-age=60\r\n\r\nhello, and then some more bytes');
    await startNode(raw.url);
    const res = await get('/x');
    expect(res.status).toBe(502);
    expect(res.body.toString()).toMatch(/more bytes than its Content-Length declared/);
    expect(node.store.stats().entries).toBe(0);
    raw.server.close();
  });
});
