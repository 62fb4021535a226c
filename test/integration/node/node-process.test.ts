import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';
import { useTestDatabase } from '../../support/db.js';
import { startNodeControlPlane, type TestControlPlane } from '../../support/node-control-plane.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { rawRequest } from '../../support/node-http.js';
import { balancerKeyFor, signedRequest } from '../../support/node-signing.js';
import { spawnNode, type NodeProcess } from '../../support/node-process.js';
import { fixed, startOriginServer, type TestOrigin } from '../../support/origin-server.js';

// The real `verity node` process against a real control plane (node API on a real database)
// and a real origin.

const db = useTestDatabase();
let cp: TestControlPlane;
let origin: TestOrigin;
const dirs: string[] = [];
const procs: NodeProcess[] = [];

beforeAll(async () => {
  cp = await startNodeControlPlane({ pool: db.pool, heartbeatIntervalMs: 300 });
  origin = await startOriginServer({ '/': fixed('<h1>home</h1>', { 'content-type': 'text/html', 'cache-control': 'max-age=60' }) });
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
});
afterAll(async () => {
  await cp.close();
  await origin.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'verity-node-data-'));
  dirs.push(d);
  return d;
}

function start(dir: string, token: string | null, extra: string[] = []): NodeProcess {
  const args = ['--balancer', cp.url, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', dir, '--name', 'test-node', ...extra];
  if (token) args.push('--token', token);
  const p = spawnNode(args);
  procs.push(p);
  return p;
}

async function nodeRow(id: string) {
  const { rows } = await db.pool.query<{ draining: boolean; public_url: string; last_heartbeat: { requestsTotal?: number } | null }>('SELECT draining, public_url, last_heartbeat FROM nodes WHERE id = $1', [id]);
  return rows[0];
}

describe('verity node', () => {
  it('makes a key once, keeps its identity across restarts, serves, and drains on SIGTERM', async () => {
    const { token } = await makeSiteWithToken(db.pool, { host: 'site-a.test', origin: origin.url, uses: 3 });
    const dir = dataDir();
    const first = start(dir, token);
    const ready = await first.ready();
    expect(first.stdout()).toMatch(/\[PASS\] identity +node [0-9a-f]{32} \(new key/);
    expect(first.stdout()).toMatch(/\[PASS\] cache dir writable/);
    expect(first.stdout()).toMatch(/\[PASS\] balancer reachable/);
    expect(first.stdout()).toMatch(/\[PASS\] sites assigned +site-a\.test/);
    expect(statSync(join(dir, 'node-key.pem')).mode & 0o777).toBe(0o600);

    const key = await balancerKeyFor(db.pool, ready.nodeId);
    const page = await signedRequest(ready.url, key, '/', { host: 'site-a.test' });
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe('<h1>home</h1>');
    expect((await signedRequest(ready.url, key, '/', { host: 'other.test' })).status).toBe(421);
    // Nobody but the balancer: unsigned, or signed with another node's key.
    expect((await rawRequest(ready.url + '/', { host: 'site-a.test' })).status).toBe(401);
    expect((await signedRequest(ready.url, await balancerKeyFor(db.pool, 'f'.repeat(32)), '/', { host: 'site-a.test' })).status).toBe(401);
    expect(await first.stop()).toBe(0);
    expect(first.stdout()).toContain('draining');
    expect((await nodeRow(ready.nodeId))?.draining).toBe(true);

    // Restart with the same data dir and the (spent) token still on the command line.
    const second = start(dir, token);
    const again = await second.ready();
    expect(again.nodeId).toBe(ready.nodeId);
    expect(second.stdout()).toMatch(/\[PASS\] identity +node [0-9a-f]{32} \(key/);
    expect((await nodeRow(ready.nodeId))?.draining).toBe(false);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM nodes');
    expect(rows[0]).toEqual({ n: 1 });
    // The restart did not spend another use of the token.
    const uses = await db.pool.query('SELECT uses_count FROM join_tokens');
    expect(uses.rows).toEqual([{ uses_count: 1 }]);
    expect(await second.stop()).toBe(0);
  });

  it('finishes a request in flight when told to stop, then exits 0', async () => {
    origin.route('/slow', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1500));
      res.writeHead(200, { 'cache-control': 'no-store' });
      res.end('finished');
    });
    const { token } = await makeSiteWithToken(db.pool, { host: 'site-slow.test', origin: origin.url });
    const p = start(dataDir(), token);
    const ready = await p.ready();
    const inFlight = signedRequest(ready.url, await balancerKeyFor(db.pool, ready.nodeId), '/slow', { host: 'site-slow.test' });
    // Stop only once the request is really in flight (the origin has it).
    while (origin.count('/slow') === 0) await new Promise((r) => setTimeout(r, 20));
    const exit = p.stop('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('finished');
    expect(await exit).toBe(0);
  });

  it('shows identity, sites, traffic and every penalty with its reason on the status page', async () => {
    const { token } = await makeSiteWithToken(db.pool, { host: 'site-st.test', origin: origin.url });
    const p = start(dataDir(), token);
    const ready = await p.ready();
    const key = await balancerKeyFor(db.pool, ready.nodeId);
    await signedRequest(ready.url, key, '/', { host: 'site-st.test' });
    await signedRequest(ready.url, key, '/', { host: 'site-st.test' });
    // Two hours ago: past the audit-secrecy delay, so the balancer tells the node about it.
    await recordTrustEvent(db.pool, ready.nodeId, { kind: 'header_strike', reason: 'sent <script>Set-Cookie</script> to visitors' }, new Date(Date.now() - 2 * 3600_000));
    const deadline = Date.now() + 15_000;
    let html = '';
    while (Date.now() < deadline) {
      html = (await rawRequest(ready.statusUrl)).body.toString();
      if (html.includes('header_strike')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(html).toContain(ready.nodeId);
    expect(html).toContain('site-st.test');
    expect(html).toContain('header_strike');
    expect(html).toContain('sent &lt;script&gt;Set-Cookie&lt;/script&gt; to visitors');
    expect(html).not.toContain('<script>');
    // The volunteer's terminal says so too.
    await p.waitFor(/penalty: header_strike at \S+: sent <script>Set-Cookie<\/script> to visitors/);
    const json = JSON.parse((await rawRequest(ready.statusUrl + 'status.json')).body.toString()) as { cache: { hitRate: number }; traffic: { requestsTotal: number } };
    expect(json.traffic.requestsTotal).toBe(2);
    // The request key is the balancers' secret for this node: never on the volunteer's pages.
    expect(JSON.stringify(json)).not.toContain(key);
    expect(html).not.toContain(key);
    expect(json.cache.hitRate).toBe(0.5);
    // Heartbeats carry the figures to the balancer.
    expect((await nodeRow(ready.nodeId))?.last_heartbeat?.requestsTotal).toBe(2);
    // Supervisors and scrapers get /healthz and /metrics on the same listener.
    const health = await rawRequest(ready.statusUrl + 'healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body.toString())).toMatchObject({ ok: true, nodeId: ready.nodeId });
    expect((await rawRequest(ready.statusUrl + 'metrics')).body.toString()).toMatch(/verity_node_site_requests_total\{site="site-st.test"\} 2/);
    expect(await p.stop()).toBe(0);
  });
});
