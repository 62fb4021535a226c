import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertTestNode, insertTestSite, rawExchange, startBalancer, visit, waitPublished, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type HostileNode } from '../../support/hostile-node.js';

// Request smuggling against the real balancer, with a raw-socket client: every framing trick
// either is refused (400, connection closed) or reaches the origin as exactly one request with
// exactly its own body; nodes never get a body; and no visitor ever gets another's response.

const db = useTestDatabase({ truncate: false });
const HOST = 'site.test';
let origin: TestOrigin;
let node: HostileNode;
let bal: StartedBalancer;

beforeAll(async () => {
  origin = await startOrigin();
  node = await startHostileNode({ origin: origin.url });
  const siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url });
  await insertTestNode(db.pool, { url: node.url, siteIds: [siteId] });
  bal = await startBalancer({ pool: db.pool });
  await waitPublished(bal, siteId, '/page', HOST);
});
afterAll(async () => {
  await bal.close();
  await node.close();
  await origin.close();
});
beforeEach(() => {
  node.requests.length = 0;
  origin.requests.length = 0;
});

/** Requests the origin got on the visitors' behalf (our background fetches carry no X-Forwarded-For). */
const atOrigin = () => origin.requests.filter((q) => q.headers['x-forwarded-for'] !== undefined);
const statuses = (raw: string): number[] => [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
const smuggled = 'GET /admin HTTP/1.1\r\nHost: site.test\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';

describe('request smuggling', () => {
  it.each([
    ['CL.TE', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`],
    ['TE.CL', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`],
    ['TE.TE: two TE headers', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`],
    ['TE.TE: chunked, chunked', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`],
    ['TE.TE: gzip, chunked', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`],
    ['TE.TE: xchunked', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
    ['TE.TE: space before colon', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n`],
    ['TE.TE: obs-fold', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`],
    ['TE.TE: vertical tab', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`],
    ['two Content-Length', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc`],
    ['Content-Length with a sign', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: +3\r\n\r\nabc`],
    ['bare LF in chunk size', `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n`],
  ])('%s → 400, connection closed, nothing proxied', async (_name, bytes) => {
    const raw = await rawExchange(bal.publicUrl, `${bytes}${smuggled}`);
    expect(statuses(raw)).toEqual([400]);
    expect(raw.toLowerCase()).toContain('x-verity-node: origin');
    expect(atOrigin()).toHaveLength(0);
    expect(node.requests).toHaveLength(0);
  });

  it('a chunked GET headed for a node is refused: nodes never receive a body, nothing smuggled', async () => {
    const body = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
    const raw = await rawExchange(bal.publicUrl, `GET /page HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    expect(statuses(raw)).toEqual([400]);
    expect(atOrigin()).toHaveLength(0);
    expect(node.requests).toHaveLength(0);
  });

  it.each(['GET', 'DELETE', 'OPTIONS', 'HEAD'])('a chunked %s headed for the origin arrives there as exactly one request, its body framed', async (method) => {
    const body = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
    const raw = await rawExchange(bal.publicUrl, `${method} /echo HTTP/1.1\r\nHost: ${HOST}\r\nCookie: sid=1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`);
    expect(statuses(raw)).toHaveLength(1);
    expect(atOrigin().map((q) => [q.method, q.url])).toEqual([[method, '/echo']]);
    expect(atOrigin()[0]?.body).toBe(smuggled);
    expect(origin.requests.some((q) => q.url === '/admin')).toBe(false);
  });

  it('a Content-Length body on GET with a cookie is forwarded with exactly that length', async () => {
    const raw = await rawExchange(bal.publicUrl, `GET /echo HTTP/1.1\r\nHost: ${HOST}\r\nCookie: sid=1\r\nContent-Length: ${smuggled.length}\r\nConnection: close\r\n\r\n${smuggled}`);
    expect(statuses(raw)).toHaveLength(1);
    expect(atOrigin()).toHaveLength(1);
    expect(atOrigin()[0]?.body).toBe(smuggled);
  });

  it('pipelined requests are answered in order, each once', async () => {
    const one = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nCookie: sid=1\r\n\r\n`;
    const raw = await rawExchange(bal.publicUrl, `${one('/echo?n=1')}${one('/echo?n=2')}GET /echo?n=3 HTTP/1.1\r\nHost: ${HOST}\r\nCookie: sid=1\r\nConnection: close\r\n\r\n`);
    expect(statuses(raw)).toEqual([200, 200, 200]);
    expect([...raw.matchAll(/"url":"\/echo\?n=(\d)"/g)].map((m) => m[1])).toEqual(['1', '2', '3']);
    expect(atOrigin().map((q) => q.url)).toEqual(['/echo?n=1', '/echo?n=2', '/echo?n=3']);
  });

  it('a request split across many packets is one request', async () => {
    const bytes = `POST /echo HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`;
    const u = new URL(bal.publicUrl);
    const socket: Socket = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.setNoDelay(true);
    for (const ch of bytes) {
      socket.write(ch);
      await new Promise((r) => setTimeout(r, 2));
    }
    await closed;
    expect(statuses(Buffer.concat(chunks).toString('latin1'))).toEqual([200]);
    expect(atOrigin().map((q) => [q.method, q.body])).toEqual([['POST', 'hello']]);
  });

  it('two interleaved visitors, one trying to smuggle with a cookie: nobody gets another\'s response', async () => {
    const u = new URL(bal.publicUrl);
    const attacker = async (i: number): Promise<string> => {
      const body = `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
      return rawExchange(bal.publicUrl, `DELETE /echo?who=attacker&i=${i} HTTP/1.1\r\nHost: ${HOST}\r\nCookie: sid=evil\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`);
    };
    const victim = async (i: number): Promise<{ url: string; status: number }> => {
      const r = await visit(bal.publicUrl, `/echo?who=victim&i=${i}`, { host: HOST, headers: { cookie: `sid=victim-${i}` } });
      return { url: (JSON.parse(r.text) as { url: string }).url, status: r.status };
    };
    const runs = await Promise.all(Array.from({ length: 30 }, (_, i) => Promise.all([attacker(i), victim(i)])));
    for (const [i, [a, b]] of runs.entries()) {
      expect(b).toEqual({ url: `/echo?who=victim&i=${i}`, status: 200 });
      expect(a).toContain(`who=attacker&i=${i}`);
      expect(a).not.toContain('victim');
    }
    expect(origin.requests.filter((q) => q.url === '/admin')).toHaveLength(0);
    expect(atOrigin()).toHaveLength(60);
    void u;
  });
});
