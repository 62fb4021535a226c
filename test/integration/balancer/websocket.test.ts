import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as h2connect } from 'node:http2';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { insertTestNode, startBalancer, type StartedBalancer } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type HostileNode } from '../../support/hostile-node.js';
import { insertSiteWithCertificate, makeTestCa, testTlsSecret, type TestCa } from '../../support/tls.js';

// WebSocket and long streams reach the origin only: an echo through the balancer on both ports
// (the origin hears who really asked, over which scheme; a node never sees an upgrade), the same
// Host rules, a per-client cap and an idle timeout; server-sent events stream for 60 s unbroken,
// with no deadline cutting them (the balancer's --deadline here is 5 s).

const db = useTestDatabase({ truncate: false });
const HOST = 'live.test';
let origin: Server;
let originUrl: string;
const upgrades: IncomingHttpHeaders[] = [];
let node: HostileNode;
let ca: TestCa;
let bal: StartedBalancer;

function startLiveOrigin(): Promise<void> {
  origin = createServer((req, res) => {
    if (req.url?.startsWith('/events')) {
      const count = Number(new URL(req.url, 'http://x').searchParams.get('n') ?? '60');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      let i = 0;
      const timer = setInterval(() => {
        res.write(`id: ${i}\ndata: tick ${i}\n\n`);
        if (++i === count) {
          clearInterval(timer);
          res.end();
        }
      }, 1_000);
      req.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=60' });
    res.end('plain page');
  });
  const wss = new WebSocketServer({ server: origin });
  wss.on('connection', (ws, req) => {
    upgrades.push(req.headers);
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  return new Promise((resolve) => origin.listen(0, '127.0.0.1', () => {
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    resolve();
  }));
}

beforeAll(async () => {
  await startLiveOrigin();
  node = await startHostileNode({ origin: originUrl });
  ca = await makeTestCa();
  const siteId = await insertSiteWithCertificate(db.pool, ca, { host: HOST, origin: originUrl });
  await insertTestNode(db.pool, { url: node.url, siteIds: [siteId] });
  bal = await startBalancer({ pool: db.pool, config: { tlsListen: { host: '127.0.0.1', port: 0 }, tlsSecret: testTlsSecret, wsPerClient: 3, wsIdleTimeout: 1_500, deadline: 5_000 } });
});
afterAll(async () => {
  ca.close();
  await bal.close();
  await node.close();
  origin.closeAllConnections();
  await new Promise((r) => origin.close(r));
});

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const options = { headers: { host: HOST, ...headers }, ca: ca.certPem, servername: HOST };
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
}

/** Closes and waits until the balancer's side is gone too. */
async function closeAll(sockets: WebSocket[]): Promise<void> {
  await Promise.all(sockets.map((ws) => new Promise((r) => {
    ws.once('close', r);
    ws.close();
  })));
  await new Promise((r) => setTimeout(r, 100));
}

function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(String(data)));
    ws.send(text);
  });
}

const wsUrl = (base: string | null, scheme: 'ws' | 'wss') => `${String(base).replace(/^https?/, scheme)}/socket`;

describe('WebSocket, to the origin only', () => {
  it('echoes over plain HTTP and over TLS; the origin hears the real client and scheme; the node sees nothing', async () => {
    upgrades.length = 0;
    node.requests.length = 0;
    const plain = await open(wsUrl(bal.publicUrl, 'ws'), { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6' });
    expect(await echo(plain, 'hello')).toBe('hello');
    const secure = await open(wsUrl(bal.tlsUrl, 'wss'));
    expect(await echo(secure, 'over tls')).toBe('over tls');
    await closeAll([plain, secure]);
    expect(upgrades).toHaveLength(2);
    expect(upgrades[0]?.host).toBe(HOST);
    expect(upgrades[0]?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(upgrades[0]?.['x-forwarded-proto']).toBe('http');
    expect(String(upgrades[0]?.forwarded)).not.toContain('6.6.6.6');
    expect(upgrades[1]?.['x-forwarded-proto']).toBe('https');
    expect(node.requests).toHaveLength(0);
  });

  it('an unknown Host is refused (421) and nothing is relayed', async () => {
    upgrades.length = 0;
    await expect(open(wsUrl(bal.publicUrl, 'ws'), { host: 'other.test' })).rejects.toThrow('status 421');
    expect(upgrades).toHaveLength(0);
  });

  it('a client may hold at most --ws-per-client WebSockets at once', async () => {
    const held = await Promise.all([1, 2, 3].map(() => open(wsUrl(bal.publicUrl, 'ws'))));
    await expect(open(wsUrl(bal.publicUrl, 'ws'))).rejects.toThrow('status 429');
    await closeAll(held.slice(0, 1));
    const again = await open(wsUrl(bal.publicUrl, 'ws'));
    await closeAll([...held.slice(1), again]);
  });

  it('an idle WebSocket is closed after --ws-idle-timeout; a busy one stays', async () => {
    const idle = await open(wsUrl(bal.publicUrl, 'ws'));
    const busy = await open(wsUrl(bal.publicUrl, 'ws'));
    const idleClosed = new Promise<number>((r) => idle.once('close', () => r(Date.now())));
    const t0 = Date.now();
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 400));
      expect(await echo(busy, `keep ${i}`)).toBe(`keep ${i}`);
    }
    const closedAt = await idleClosed;
    expect(closedAt - t0).toBeGreaterThanOrEqual(1_400);
    expect(busy.readyState).toBe(WebSocket.OPEN);
    await closeAll([busy]);
  });
});

describe('server-sent events', () => {
  /** The events' data lines, each with when it arrived (Date.now()). */
  type Arrived = Array<{ line: string; at: number }>;
  const collect = (events: Arrived) => (c: string): void => {
    for (const line of c.split('\n').filter((l) => l.startsWith('data: '))) events.push({ line, at: Date.now() });
  };
  function sseOverH1(): Promise<Arrived> {
    const u = new URL(bal.publicUrl);
    return new Promise((resolve, reject) => {
      const events: Arrived = [];
      httpRequest({ hostname: u.hostname, port: u.port, path: '/events?n=60', headers: { host: HOST, accept: 'text/event-stream' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', collect(events));
        res.on('end', () => resolve(events));
        res.on('error', reject);
      }).on('error', reject).end();
    });
  }
  function sseOverH2(): Promise<Arrived> {
    return new Promise((resolve, reject) => {
      const session = h2connect(String(bal.tlsUrl), { ca: ca.certPem, servername: HOST });
      session.on('error', reject);
      const events: Arrived = [];
      const req = session.request({ ':path': '/events?n=60', ':authority': HOST, accept: 'text/event-stream' });
      req.setEncoding('utf8');
      req.on('data', collect(events));
      req.on('end', () => {
        session.close();
        resolve(events);
      });
      req.on('error', reject);
    });
  }

  it('stream for 60 s unbroken and unbuffered, over HTTP/1.1 and HTTP/2 at once', async () => {
    const t0 = Date.now();
    const [h1, h2] = await Promise.all([sseOverH1(), sseOverH2()]);
    const expected = Array.from({ length: 60 }, (_, i) => `data: tick ${i}`);
    for (const events of [h1, h2]) {
      expect(events.map((e) => e.line)).toEqual(expected);
      // Each event reaches the visitor as the origin sends it (one a second), not held back:
      // event i arrives about i + 1 s in; a buffering proxy would deliver them all at the end.
      for (const [i, e] of events.entries()) expect(e.at - t0).toBeLessThan((i + 1) * 1_000 + 5_000);
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(59_000);
  }, 90_000);
});
