import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { visit } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';

// On shutdown, in-flight requests finish and new ones get 503 +
// Connection: close. A visitor who connected during the drain and sends its request just
// after the last in-flight one finished must get that 503, not a reset connection.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function open(baseUrl: string): Promise<Socket> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes the request and returns everything the server wrote until it closed, plus any socket error. */
function exchange(socket: Socket, bytes: string): Promise<{ text: string; error: string | null }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), error });
    });
    if (!socket.destroyed) socket.write(bytes);
  });
}

/** One visit on a fresh connection: its status, or how it failed ('connected' = the request was sent). */
function hit(baseUrl: string, agent: Agent): Promise<string> {
  return new Promise((resolve) => {
    let connected = false;
    const req = request(new URL('/page', baseUrl), { agent, headers: { host: SCENE_HOST } }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(`lost: ${err.code ?? err.message}`));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('socket', (s) => s.once('connect', () => {
      connected = true;
    }));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`${connected ? 'lost' : 'refused'}: ${err.code ?? err.message}`));
    req.end();
  });
}

describe('graceful shutdown', () => {
  it('under steady traffic from 16 visitors, no request that reached the balancer goes unanswered', async () => {
    const { bal } = await scene.setup(['honest']);
    const agent = new Agent({ keepAlive: false, maxSockets: 16 });
    const outcomes: Record<string, number> = {};
    let stop = false;
    const worker = async (): Promise<void> => {
      for (let n = 0; !stop && n < 5_000; n++) {
        const r = await hit(bal.publicUrl, agent);
        outcomes[r] = (outcomes[r] ?? 0) + 1;
        if (r.startsWith('refused')) await sleep(20);
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    await sleep(800);
    await bal.close();
    await sleep(200);
    stop = true;
    await Promise.all(workers);
    agent.destroy();
    const lost = Object.entries(outcomes).filter(([k]) => k.startsWith('lost')).reduce((n, [, v]) => n + v, 0);
    expect(outcomes['200']).toBeGreaterThan(0);
    expect(outcomes['503']).toBeGreaterThan(0);
    expect(Object.keys(outcomes).some((k) => k.startsWith('refused'))).toBe(true);
    expect({ lost, outcomes }).toMatchObject({ lost: 0 });
  }, 30_000);

  it('a visitor who connected during the drain gets 503 + Connection: close once in-flight requests are done', async () => {
    const { bal } = await scene.setup([]);
    // No node: the origin serves /slow, which stays in flight for 1.5 s.
    const slow = visit(bal.publicUrl, '/slow', { host: SCENE_HOST });
    await sleep(300);
    const closing = bal.close();
    const late = await open(bal.publicUrl);
    const finished = await slow;
    expect(finished.status).toBe(200);
    // The drain has seen in-flight reach 0 by now (it looks every 50 ms).
    await sleep(200);
    const got = await exchange(late, `GET /page HTTP/1.1\r\nHost: ${SCENE_HOST}\r\n\r\n`);
    expect(got.text).toMatch(/^HTTP\/1\.1 503 /);
    expect(got.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(got.text).toContain('BAL_ERR_SHUTTING_DOWN');
    await closing;
    // Once closed, newcomers are refused outright (never accepted and then dropped).
    await expect(open(bal.publicUrl)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  }, 30_000);
});
