import { describe, expect, it } from 'vitest';
import { HealthProber } from '../../../balancer/background/health.js';
import { RttRecorder } from '../../../balancer/background/rtt.js';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { createNodeApiPlugin } from '../../../balancer/control/node-api.js';
import { createGeoipLocator } from '../../../balancer/geo/resolver.js';
import { createJoinToken } from '../../../common/db/queries/tokens.js';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';
import { silentLogger } from '../../../common/log.js';
import { insertTestSite, startBalancer, visit, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { SCENE_HOST, useBalancerScene } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import { rawRequest } from '../../support/node-http.js';
import { spawnNode, useNodeProcesses } from '../../support/node-process.js';
import { startForwardingProxy, startTcpRelay } from '../../support/relays.js';
import { freePort } from '../../support/ports.js';

// Locations are checked, with real `verity node` processes behind a real balancer: GeoIP of the
// public test addresses a registration comes from (through a trusted proxy; never contacted),
// and round-trip times through a relay that adds real delay. A failed claim is ignored and the
// node is routed by its GeoIP position, with the reason shown to the admin and the volunteer.

const db = useTestDatabase();
const scene = useBalancerScene(db);
const nodes = useNodeProcesses(db);
const frankfurt = '50.11,8.68';
const germany = '5.9.0.1';
const stAlbans = '81.2.69.142';

async function site(bal: StartedBalancer, uses: number): Promise<{ siteId: string; token: string }> {
  const siteId = await insertTestSite(db.pool, { host: SCENE_HOST, origin: scene.origin.url });
  const { token } = await createJoinToken(db.pool, { siteId, uses, ttlMs: 600_000 });
  await waitFor(() => bal.balancer.runtime.table.siteById(siteId));
  return { siteId, token };
}

async function startNode(controlUrl: string, token: string, extra: string[] = []) {
  const dir = nodes.dataDir();
  const listen = extra.includes('--listen') ? [] : ['--listen', '127.0.0.1:0'];
  const p = nodes.track(spawnNode(['--balancer', controlUrl, ...listen, '--status-listen', '127.0.0.1:0', '--data-dir', dir, '--token', token, '--location', frankfurt, ...extra]));
  return p.ready();
}

async function promote(id: string): Promise<void> {
  for (let i = 0; i < 6; i++) await recordTrustEvent(db.pool, id, { kind: 'audit_pass', reason: 'clean audit' });
}

describe('location checks', () => {
  it('routes a node whose claim GeoIP contradicts by its GeoIP position, and says why to the admin and the volunteer', async () => {
    const bal = scene.track(await startBalancer({ pool: db.pool, plugins: [createNodeApiPlugin({ heartbeatIntervalMs: 300 }), adminApiPlugin], config: { trustedProxies: ['127.0.0.1/32'] } }));
    const { token } = await site(bal, 2);
    // Two volunteers who both say "Frankfurt"; one registers from a German address, one from a British one.
    const viaGermany = scene.track(await startForwardingProxy(bal.controlUrl, germany));
    const viaBritain = scene.track(await startForwardingProxy(bal.controlUrl, stAlbans));
    const honest = await startNode(viaGermany.url, token);
    const liar = await startNode(viaBritain.url, token);
    await promote(honest.nodeId);
    await promote(liar.nodeId);
    const geo = createGeoipLocator();
    const liarGeo = geo(stAlbans)?.point;
    const row = await waitFor(() => {
      const n = bal.balancer.runtime.table.node(liar.nodeId);
      return n?.status === 'active' && bal.balancer.runtime.table.node(honest.nodeId)?.status === 'active' && n;
    });
    expect(row.location).toEqual(liarGeo);
    expect(bal.balancer.runtime.table.node(honest.nodeId)?.location).toEqual({ lat: 50.11, lon: 8.68 });
    // Visitors are served by the node that is really near them.
    await visit(bal.publicUrl, '/page', { host: SCENE_HOST });
    const servedBy = async (from: string) => {
      const seen = new Map<string, number>();
      for (let i = 0; i < 20; i++) {
        const id = String((await visit(bal.publicUrl, '/page', { host: SCENE_HOST, headers: { 'x-forwarded-for': from } })).headers['x-verity-node']);
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      return seen;
    };
    const german = await servedBy(germany);
    const british = await servedBy(stAlbans);
    expect(german.get(honest.nodeId)).toBeGreaterThanOrEqual(15);
    expect(german.get(liar.nodeId) ?? 0).toBe(0);
    expect(british.get(liar.nodeId)).toBeGreaterThanOrEqual(15);
    expect(british.get(honest.nodeId) ?? 0).toBe(0);
    // The admin sees the verdict and the country of every node.
    const res = await fetch(`${bal.controlUrl}/api/v1/nodes`, { headers: { authorization: `Bearer ${bal.adminToken}` } });
    const list = (await res.json()) as { id: string; location: { country: string | null }; locationCheck: { status: string; reason: string } }[];
    const l = list.find((n) => n.id === liar.nodeId);
    expect(l?.location.country).toBe('GB');
    expect(l?.locationCheck.status).toBe('failed');
    expect(l?.locationCheck.reason).toMatch(/declared location ignored: GeoIP puts 81\.2\.69\.142 in GB/);
    expect(list.find((n) => n.id === honest.nodeId)).toMatchObject({ location: { country: 'DE' }, locationCheck: { status: 'passed' } });
    // So does the volunteer, on the node's own status page.
    const page = await waitFor(async () => {
      const html = (await rawRequest(liar.statusUrl)).body.toString();
      return html.includes('declared location ignored') && html;
    });
    expect(page).toContain('GeoIP puts 81.2.69.142 in GB');
  });

  it('checks the claim against round-trip times measured through a relay that adds real delay', async () => {
    const bal = scene.track(await startBalancer({ pool: db.pool, plugins: [createNodeApiPlugin({ heartbeatIntervalMs: 300 })] }));
    const { token } = await site(bal, 2);
    // The balancer is in Sydney; Frankfurt is ~16,500 km away, so a true claim needs ≥ 165 ms.
    const sydney = { lat: -33.87, lon: 151.21 };
    // Each node listens on a port of its own, reached only through its relay (its public URL).
    const [nearPort, farPort] = [await freePort(), await freePort()];
    const nearRelay = scene.track(await startTcpRelay({ target: { host: '127.0.0.1', port: nearPort }, delayMs: 5 }));
    const farRelay = scene.track(await startTcpRelay({ target: { host: '127.0.0.1', port: farPort }, delayMs: 100 }));
    const near = await startNode(bal.controlUrl, token, ['--listen', `127.0.0.1:${nearPort}`, '--public-url', nearRelay.url]);
    const far = await startNode(bal.controlUrl, token, ['--listen', `127.0.0.1:${farPort}`, '--public-url', farRelay.url]);
    // On loopback, before any RTT: nothing to compare, the claim is used as given and the check says so.
    const before = await db.pool.query<{ location_check: { status: string; reason: string } }>('SELECT location_check FROM nodes WHERE id = $1', [near.nodeId]);
    expect(before.rows[0]?.location_check.status).toBe('skipped');
    expect(before.rows[0]?.location_check.reason).toMatch(/127\.0\.0\.1 is a loopback or private address/);
    const rt = bal.balancer.runtime;
    await waitFor(() => rt.table.node(near.nodeId) && rt.table.node(far.nodeId));
    const rtt = new RttRecorder({ pool: db.pool, log: silentLogger(), vantage: sydney, now: Date.now });
    const prober = new HealthProber({ pool: db.pool, log: silentLogger(), table: rt.table, outlier: rt.outlier, unhealthy: rt.unhealthy, intervalMs: 60_000, now: Date.now, rtt });
    for (let i = 0; i < 3; i++) await prober.probeAll();
    await rtt.flush();
    const checks = await db.pool.query<{ id: string; location_check: { status: string; reason: string }; effective_lat: number | null }>(
      'SELECT id, location_check, effective_lat FROM nodes WHERE id = ANY($1)', [[near.nodeId, far.nodeId]]);
    const byId = new Map(checks.rows.map((r) => [r.id, r]));
    expect(byId.get(near.nodeId)?.location_check.status).toBe('failed');
    expect(byId.get(near.nodeId)?.location_check.reason).toMatch(/RTT \d+\.\d ms from the balancer at -33\.87,151\.21 puts the node within \d+ km of it; the claim is 16\d{3} km away/);
    expect(byId.get(far.nodeId)?.location_check.status).toBe('passed');
    expect(byId.get(far.nodeId)?.effective_lat).toBe(50.11);
    // The routing table follows: the node that lied about its place is no longer routed at Frankfurt.
    await waitFor(() => rt.table.node(near.nodeId)?.location === null);
  });
});
