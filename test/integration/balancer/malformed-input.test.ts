import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertTestNode, insertTestSite, rawExchange, startBalancer, visit, waitPublished, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type HostileNode } from '../../support/hostile-node.js';

// Hostile visitor input, over raw sockets: framing, header limits, Host, absolute-form and
// CONNECT, forged forwarding headers, slow senders.

const db = useTestDatabase({ truncate: false });
const HOST = 'site.test';
let origin: TestOrigin;
let node: HostileNode;
let bal: StartedBalancer;
let siteId: string;
const geoAsked: string[] = [];

beforeAll(async () => {
  origin = await startOrigin();
  node = await startHostileNode({ origin: origin.url });
  siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url });
  await insertTestNode(db.pool, { url: node.url, siteIds: [siteId] });
  bal = await startBalancer({
    pool: db.pool,
    config: { trustedProxies: [] },
    deps: { serverLimits: { headersTimeoutMs: 1_500, requestTimeoutMs: 3_000 }, geo: (ip) => (geoAsked.push(ip), null) },
  });
});
afterAll(async () => {
  await bal.close();
  await node.close();
  await origin.close();
});
beforeEach(() => {
  node.requests.length = 0;
  origin.requests.length = 0;
  geoAsked.length = 0;
});

const proxied = () => node.requests.length + origin.requests.filter((q) => q.headers['x-forwarded-for'] !== undefined).length;
const status = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

describe('balancer input', () => {
  it.each([
    ['Content-Length with Transfer-Encoding', `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ['two lengths', `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`],
    ['TE: xchunked', `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
    ['obs-fold', `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Folded: a\r\n  b\r\n\r\n`],
    ['bare LF', `GET / HTTP/1.1\nHost: ${HOST}\nX-A: b\n\n`],
    ['bare CR', `GET / HTTP/1.1\rHost: ${HOST}\r\n\r\n`],
  ])('1: %s → 400, nothing proxied', async (_name, bytes) => {
    const raw = await rawExchange(bal.publicUrl, bytes);
    expect(status(raw)).toBe(400);
    expect(proxied()).toBe(0);
  });

  it('2: 20 KB of headers → 431; 500 headers → 431; the process lives', async () => {
    const big = await rawExchange(bal.publicUrl, `GET / HTTP/1.1\r\nConnection: close\r\nHost: ${HOST}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(status(big)).toBe(431);
    const many = Array.from({ length: 500 }, (_, i) => `X-H${i}: v`).join('\r\n');
    const r = await rawExchange(bal.publicUrl, `GET / HTTP/1.1\r\nConnection: close\r\nHost: ${HOST}\r\n${many}\r\n\r\n`);
    expect([400, 431]).toContain(status(r));
    expect(proxied()).toBe(0);
    expect((await visit(bal.publicUrl, '/', { host: HOST })).status).toBe(200);
  });

  it('a request body over the limit → 413, the origin gets nothing usable', async () => {
    const big = 'x'.repeat(11 * 1024 * 1024);
    const r = await visit(bal.publicUrl, '/echo', { host: HOST, method: 'POST', body: big, headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(413);
    expect(origin.requests.some((q) => q.body.length > 10 * 1024 * 1024)).toBe(false);
  });

  it('3: duplicate Host → 400; unknown Host → 421; nothing proxied', async () => {
    expect(status(await rawExchange(bal.publicUrl, `GET / HTTP/1.1\r\nConnection: close\r\nHost: ${HOST}\r\nHost: evil.test\r\n\r\n`))).toBe(400);
    expect(status(await rawExchange(bal.publicUrl, `GET / HTTP/1.1\r\nConnection: close\r\nHost: evil.test\r\n\r\n`))).toBe(421);
    expect(proxied()).toBe(0);
  });

  it('4: absolute-form and CONNECT open no connection to their target', async () => {
    const abs = await rawExchange(bal.publicUrl, `GET http://169.254.169.254/latest/meta-data HTTP/1.1\r\nConnection: close\r\nHost: ${HOST}\r\n\r\n`);
    expect(status(abs)).toBe(400);
    const absSelf = await rawExchange(bal.publicUrl, `GET http://127.0.0.1:5432/ HTTP/1.1\r\nConnection: close\r\nHost: 127.0.0.1:5432\r\n\r\n`);
    expect([400, 421]).toContain(status(absSelf));
    const conn = await rawExchange(bal.publicUrl, `CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n`, 2_000);
    expect(conn).not.toMatch(/^HTTP\/1\.1 200/);
    expect(proxied()).toBe(0);
  });

  it('5: forged X-Forwarded-For/Forwarded/X-Real-IP from an untrusted peer → geo from the socket; the node gets none', async () => {
    await waitPublished(bal, siteId, '/page', HOST);
    geoAsked.length = 0;
    await visit(bal.publicUrl, '/page', { host: HOST, headers: { 'x-forwarded-for': '81.2.69.142', forwarded: 'for=81.2.69.142', 'x-real-ip': '81.2.69.142' } });
    expect(geoAsked).toEqual(['127.0.0.1']);
    const seen = node.requests[0]?.headers ?? {};
    expect(seen['x-forwarded-for'] ?? seen.forwarded ?? seen['x-real-ip']).toBeUndefined();
  });

  it('a body at 1 byte/s is cut at the request timeout (fastify 5 defaults it to none)', async () => {
    const u = new URL(bal.publicUrl);
    const socket = connect(Number(u.port), u.hostname);
    socket.on('error', () => undefined);
    const t0 = Date.now();
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - t0)));
    socket.write(`POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n`);
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write('a');
    }, 1_000);
    const after = await closed;
    clearInterval(drip);
    expect(after).toBeLessThan(8_000);
    expect(received).not.toMatch(/^HTTP\/1\.1 200/);
  });

  it('6: headers at 1 byte/s are cut at the headers timeout; other visitors are served meanwhile', async () => {
    const u = new URL(bal.publicUrl);
    const socket = connect(Number(u.port), u.hostname);
    const text = `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Slow: ${'a'.repeat(50)}\r\n\r\n`;
    let i = 0;
    const t0 = Date.now();
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(text[i++ % text.length] ?? 'a');
    }, 1_000);
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - t0)));
    socket.on('error', () => undefined);
    const other = await visit(bal.publicUrl, '/page', { host: HOST });
    expect(other.status).toBe(200);
    const after = await closed;
    clearInterval(drip);
    expect(after).toBeLessThan(6_000);
  });
});
