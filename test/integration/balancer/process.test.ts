import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { insertTestNode, insertTestSite, visit, waitFor } from '../../support/balancer-harness.js';
import { defaultAssets, startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { startChild, type Child } from '../../support/child-process.js';
import { useTestDatabase } from '../../support/db.js';

// `verity balancer` as a real process: first-start admin token, a rogue node process altering a
// static asset (its bytes never reach a visitor), graceful SIGTERM.

const db = useTestDatabase();
const HOST = 'site.test';
let origin: TestOrigin;
const children: Child[] = [];

beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => {
  await origin.close();
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await c.exited;
  }
});

async function startBalancerProcess(): Promise<{ child: Child; url: string; control: string }> {
  const child = startChild(['bin/verity', 'balancer', '--listen', '127.0.0.1:0', '--control-listen', '127.0.0.1:0'], {
    DATABASE_URL: db.url, VERITY_LOG_LEVEL: 'warn', VERITY_AUDIT_SECRET: 'process-test-secret-0123456789', VERITY_ALLOW_PRIVATE_NODE_URLS: '1',
  });
  children.push(child);
  const url = await child.waitForLine(/^balancer: (\S+)$/m);
  const control = await child.waitForLine(/^control: (\S+)$/m);
  return { child, url, control };
}

describe('verity balancer (process)', () => {
  it('prints the admin token once, answers /healthz, and a rogue node process never gets altered bytes to a visitor', async () => {
    const siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url });
    const rogue = startChild(['--import', 'tsx', 'test/support/hostile-node-main.ts', origin.url, 'tamper'], {});
    children.push(rogue);
    const rogueUrl = await rogue.waitForLine(/^node: (\S+)$/m);
    const rogueId = await insertTestNode(db.pool, { url: rogueUrl, siteIds: [siteId], name: 'rogue-1' });
    const { child, url, control } = await startBalancerProcess();
    expect(child.stdout()).toMatch(/^admin token: \S{20,}$/m);
    const health = await visit(control, '/healthz', { host: 'localhost' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ ok: true });
    const expected = defaultAssets();
    // Visitors keep coming (to every worker) until the URLs are published and the rogue is caught.
    await waitFor(async () => {
      for (const path of ['/app.js', '/style.css', '/asset.png']) {
        const r = await visit(url, path, { host: HOST });
        expect(r.status).toBe(200);
        const want = expected.get(path)?.body;
        expect(r.body.equals(typeof want === 'string' ? Buffer.from(want) : (want as Buffer))).toBe(true);
      }
      return (await db.pool.query("SELECT 1 FROM trust_events WHERE node_id = $1 AND kind = 'integrity_mismatch'", [rogueId])).rowCount;
    }, 30_000, 100);
    const second = await startBalancerProcess();
    expect(second.child.stdout()).not.toMatch(/admin token/);
    // The token printed at the first start keeps working (only its hash is stored); nothing else does.
    const token = /^admin token: (\S+)$/m.exec(child.stdout())?.[1] ?? '';
    const auth = (t: string) => visit(second.control, '/api/v1/sites', { host: 'localhost', headers: { authorization: `Bearer ${t}` } });
    expect((await auth(token)).status).toBe(200);
    expect((await auth(`${token}x`)).status).toBe(401);
    expect((await visit(second.control, '/api/v1/sites', { host: 'localhost', headers: { authorization: 'Bearer ' } })).status).toBe(401);
  });

  it('29: SIGTERM with a request in flight → new requests 503 Connection: close, the one in flight finishes, exit 0', async () => {
    await insertTestSite(db.pool, { host: HOST, origin: origin.url });
    const { child, url } = await startBalancerProcess();
    const u = new URL(url);
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: '/slow', method: 'POST', headers: { host: HOST, 'content-length': 0 }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    await waitFor(() => origin.requests.some((r) => r.url === '/slow'));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const late = await visit(url, '/page', { host: HOST });
    expect(late.status).toBe(503);
    expect(late.headers.connection).toBe('close');
    expect(late.headers['x-verity-node']).toBe('origin');
    expect(await inFlight).toEqual({ status: 200, body: 'slow but complete' });
    expect(await child.exited).toBe(0);
  });
});
