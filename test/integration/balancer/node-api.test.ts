import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyNodeAction } from '../../../common/db/queries/admin-actions.js';
import { getSetting, setSetting } from '../../../common/db/queries/settings.js';
import { createJoinToken, revokeJoinToken } from '../../../common/db/queries/tokens.js';
import { NODE_REQUEST_SECRET_SETTING, nodeRequestKey } from '../../../common/protocol/node-request-auth.js';
import { listTrustEvents, recordTrustEvent } from '../../../common/db/queries/trust.js';
import { SIGNATURE_HEADER, paths, signRequest, type NodeStanding } from '../../../common/protocol/node-api.js';
import { createBalancerClient } from '../../../node/balancer-client.js';
import type { NodeIdentity } from '../../../node/identity.js';
import { startOfflineSweeper, sweepOfflineNodes } from '../../../balancer/control/offline-sweeper.js';
import { useTestDatabase } from '../../support/db.js';
import { startNodeControlPlane, type TestControlPlane } from '../../support/node-control-plane.js';
import { makeIdentity, makeSiteWithToken } from '../../support/node-fixtures.js';

const db = useTestDatabase();
let cp: TestControlPlane;
let clock = Date.now();

beforeAll(async () => {
  cp = await startNodeControlPlane({ pool: db.pool, now: () => clock, heartbeatIntervalMs: 1000 });
});
afterAll(async () => {
  await cp.close();
});
beforeEach(() => {
  clock = Date.now();
});

function client(identity: NodeIdentity) {
  return createBalancerClient({ baseUrl: cp.url, identity, now: () => clock });
}

async function post(path: string, body: Buffer | string, signature?: string, extra: Record<string, string> = {}, base = cp.url): Promise<{ status: number; json: { error?: { code: string; message: string } } & Partial<NodeStanding> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (signature) headers[SIGNATURE_HEADER] = signature;
  const res = await fetch(base + path, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return { status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } };
}

async function nonce(): Promise<string> {
  const res = await fetch(cp.url + paths.challenge, { method: 'POST' });
  return ((await res.json()) as { nonce: string }).nonce;
}

async function registerRaw(identity: NodeIdentity, over: Record<string, unknown> = {}, signer = identity, extra: Record<string, string> = {}) {
  const body = { nodeId: identity.nodeId, publicKey: identity.publicKey, nonce: await nonce(), name: 'n1', publicUrl: 'http://127.0.0.1:18090', location: { lat: 50.1, lon: 8.7 }, timestamp: clock, ...over };
  const { bytes, signature } = signRequest(signer.privateKey, 'register', body);
  return post(paths.register, bytes, signature, extra);
}

async function nodeRow(id: string) {
  const { rows } = await db.pool.query<{ heartbeat_counter: number; last_seen_at: Date; last_heartbeat: unknown; status: string; draining: boolean; registered_ip: string; subnet: string }>(
    'SELECT heartbeat_counter, last_seen_at, last_heartbeat, status, draining, host(registered_ip) AS registered_ip, subnet FROM nodes WHERE id = $1', [id]);
  return rows[0];
}

const stats = { inFlight: 1, requestsTotal: 10, errorsTotal: 0, cacheHits: 7, cacheMisses: 3, cacheBytes: 1234, cacheEntries: 3, loadAvg1m: 0.5 };

describe('registration', () => {
  it('enrolls a node with a join token: sites with origins, probation, registered event, subnet', async () => {
    const { token } = await makeSiteWithToken(db.pool, { host: 'site-a.test', origin: 'http://127.0.0.1:7000' });
    const id = makeIdentity();
    const standing = await client(id).register({ token, name: 'n1', publicUrl: 'http://127.0.0.1:18090', location: { lat: 1, lon: 2 } });
    expect(standing).toMatchObject({ nodeId: id.nodeId, status: 'probation', draining: false, sites: [{ host: 'site-a.test', origin: 'http://127.0.0.1:7000' }], heartbeatCounter: 0, heartbeatIntervalMs: 1000 });
    expect(standing.requestKey).toBe(nodeRequestKey((await getSetting(db.pool, NODE_REQUEST_SECRET_SETTING)) ?? '', id.nodeId));
    expect((await listTrustEvents(db.pool, id.nodeId)).map((e) => e.kind)).toEqual(['registered']);
    expect(await nodeRow(id.nodeId)).toMatchObject({ registered_ip: '127.0.0.1', subnet: '127.0.0.0/24' });
  });

  it('lets a known node re-register without a token, refuses a new key without one', async () => {
    const { token } = await makeSiteWithToken(db.pool);
    const id = makeIdentity();
    await client(id).register({ token, name: 'n1', publicUrl: 'http://127.0.0.1:18090', location: null });
    const again = await client(id).register({ token: undefined, name: 'renamed', publicUrl: 'http://127.0.0.1:18091', location: null });
    expect(again.sites).toHaveLength(1);
    await expect(client(makeIdentity()).register({ token: undefined, name: 'x', publicUrl: 'http://127.0.0.1:1', location: null })).rejects.toMatchObject({ code: 'NODE_ERR_TOKEN_REJECTED' });
  });

  it('refuses a used, unknown, expired or revoked token with 401', async () => {
    const { site, token } = await makeSiteWithToken(db.pool);
    expect((await registerRaw(makeIdentity(), { token })).status).toBe(200);
    const used = await registerRaw(makeIdentity(), { token });
    expect(used).toMatchObject({ status: 401, json: { error: { code: 'NODE_ERR_TOKEN_REJECTED' } } });
    expect((await registerRaw(makeIdentity(), { token: 'vjt_nope' })).status).toBe(401);
    const expired = await createJoinToken(db.pool, { siteId: site.id, uses: 5, ttlMs: 1000, now: new Date(clock - 10_000) });
    expect((await registerRaw(makeIdentity(), { token: expired.token })).status).toBe(401);
    const revoked = await createJoinToken(db.pool, { siteId: site.id, uses: 5, ttlMs: 3_600_000 });
    await revokeJoinToken(db.pool, revoked.record.id);
    expect((await registerRaw(makeIdentity(), { token: revoked.token })).status).toBe(401);
  });

  it('lets exactly one of several concurrent registrations spend a one-use token', async () => {
    const { token } = await makeSiteWithToken(db.pool);
    const results = await Promise.all(Array.from({ length: 6 }, () => registerRaw(makeIdentity(), { token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM nodes');
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('refuses a forged nonce, an expired nonce and a bad signature', async () => {
    const { token } = await makeSiteWithToken(db.pool);
    const n = await nonce();
    const forged = n.slice(0, -2) + (n.endsWith('AA') ? 'AB' : 'AA');
    expect((await registerRaw(makeIdentity(), { token, nonce: forged })).json.error?.code).toBe('NODE_ERR_BAD_NONCE');
    const old = await nonce();
    clock += 10 * 60_000;
    expect((await registerRaw(makeIdentity(), { token, nonce: old, timestamp: clock })).json.error?.code).toBe('NODE_ERR_BAD_NONCE');
    clock = Date.now();
    const id = makeIdentity();
    const wrongSigner = await registerRaw(id, { token }, makeIdentity());
    expect(wrongSigner).toMatchObject({ status: 401, json: { error: { code: 'NODE_ERR_BAD_SIGNATURE' } } });
    // None of these spent the token.
    expect((await registerRaw(id, { token })).status).toBe(200);
  });

  it('resolves no names for strangers: an unknown token is refused before the URL check', async () => {
    const lookups: string[] = [];
    const strict = await startNodeControlPlane({ pool: db.pool, allowPrivateNodeUrls: false, resolve: async (h) => (lookups.push(h), ['93.184.216.34']) });
    try {
      const err = await createBalancerClient({ baseUrl: strict.url, identity: makeIdentity(), now: Date.now })
        .register({ token: 'vjt_unknown', name: 'x', publicUrl: 'http://attacker-controlled.example', location: null }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'NODE_ERR_TOKEN_REJECTED' });
      expect(lookups).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it('refuses private public URLs unless allowed, naming the variable', async () => {
    const strict = await startNodeControlPlane({ pool: db.pool, allowPrivateNodeUrls: false, resolve: async (h) => (h === 'evil.test' ? ['10.0.0.7'] : ['93.184.216.34']) });
    try {
      const { token } = await makeSiteWithToken(db.pool);
      const c = (identity: NodeIdentity) => createBalancerClient({ baseUrl: strict.url, identity, now: Date.now });
      for (const publicUrl of ['http://127.0.0.1:8090', 'http://[::1]:8090', 'http://169.254.169.254/', 'http://evil.test:8090']) {
        const err = await c(makeIdentity()).register({ token, name: 'x', publicUrl, location: null }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'NODE_ERR_URL_REFUSED' });
        expect((err as Error).message).toContain('VERITY_ALLOW_PRIVATE_NODE_URLS');
      }
      // A public address over plain HTTP is refused too: nodes serve TLS with a key they register.
      const plain = await c(makeIdentity()).register({ token, name: 'x', publicUrl: 'http://node.example.org:8090', location: null }).catch((e: unknown) => e);
      expect(plain).toMatchObject({ code: 'NODE_ERR_URL_REFUSED' });
      expect((plain as Error).message).toMatch(/plain HTTP/);
      const noKey = await c(makeIdentity()).register({ token, name: 'x', publicUrl: 'https://node.example.org:8090', location: null }).catch((e: unknown) => e);
      expect(noKey).toMatchObject({ code: 'NODE_ERR_BAD_REQUEST' });
      const tls = (identity: NodeIdentity) => createBalancerClient({ baseUrl: strict.url, identity, now: Date.now, tlsSpki: 'k'.repeat(43) });
      const ok = await tls(makeIdentity()).register({ token, name: 'x', publicUrl: 'https://node.example.org:8090', location: null });
      expect(ok.status).toBe('probation');
    } finally {
      await strict.close();
    }
  });

  it('refuses a banned node with 403 without spending its token', async () => {
    const { token } = await makeSiteWithToken(db.pool, { uses: 2 });
    const id = makeIdentity();
    await client(id).register({ token, name: 'n', publicUrl: 'http://127.0.0.1:1', location: null });
    await applyNodeAction(db.pool, id.nodeId, 'ban', 'test', 'admin');
    const r = await registerRaw(id, { token });
    expect(r).toMatchObject({ status: 403, json: { error: { code: 'NODE_ERR_REVOKED' } } });
    expect(await registerRaw(id)).toMatchObject({ status: 403, json: { error: { code: 'NODE_ERR_REVOKED' } } });
    expect((await registerRaw(makeIdentity(), { token })).status).toBe(200);
  });

  it('believes X-Forwarded-For for the registration address only from trusted proxies', async () => {
    const behindProxy = await startNodeControlPlane({ pool: db.pool, trustedProxies: (ip) => ip === '127.0.0.1' });
    try {
      const { token } = await makeSiteWithToken(db.pool, { uses: 2 });
      const viaProxy = makeIdentity();
      const n1 = await (await fetch(behindProxy.url + paths.challenge, { method: 'POST' })).json() as { nonce: string };
      const body = { nodeId: viaProxy.nodeId, publicKey: viaProxy.publicKey, nonce: n1.nonce, token, name: 'p', publicUrl: 'http://127.0.0.1:1', timestamp: Date.now() };
      const signed = signRequest(viaProxy.privateKey, 'register', body);
      expect((await post(paths.register, signed.bytes, signed.signature, { 'x-forwarded-for': '10.9.9.9, 198.51.100.23' }, behindProxy.url)).status).toBe(200);
      expect(await nodeRow(viaProxy.nodeId)).toMatchObject({ registered_ip: '198.51.100.23', subnet: '198.51.100.0/24' });
      const direct = makeIdentity();
      // The same header to a control plane that trusts no proxy is ignored.
      const d = await registerRaw(direct, { token }, direct, { 'x-forwarded-for': '198.51.100.23' });
      expect(d.status).toBe(200);
      expect(await nodeRow(direct.nodeId)).toMatchObject({ registered_ip: '127.0.0.1' });
    } finally {
      await behindProxy.close();
    }
  });

  it('records the subnet of many registrations from one /24 on each node row', async () => {
    const { token } = await makeSiteWithToken(db.pool, { uses: 5 });
    for (let i = 0; i < 5; i++) expect((await registerRaw(makeIdentity(), { token })).status).toBe(200);
    const { rows } = await db.pool.query<{ subnet: string; n: number }>('SELECT subnet, count(*)::int AS n FROM nodes GROUP BY subnet');
    expect(rows).toEqual([{ subnet: '127.0.0.0/24', n: 5 }]);
  });
});

describe('heartbeat', () => {
  async function enrolled() {
    const { token } = await makeSiteWithToken(db.pool);
    const id = makeIdentity();
    await client(id).register({ token, name: 'n', publicUrl: 'http://127.0.0.1:1', location: null });
    return id;
  }

  it('stores figures, counter and last seen; answers the standing', async () => {
    const id = await enrolled();
    const s = await client(id).heartbeat(1, stats);
    expect(s).toMatchObject({ status: 'probation', heartbeatCounter: 1 });
    const row = await nodeRow(id.nodeId);
    expect(row?.heartbeat_counter).toBe(1);
    expect(row?.last_heartbeat).toMatchObject({ cacheHits: 7, requestsTotal: 10 });
  });

  it('hands each node its own request key in every answer, and a new one when the shared secret changes', async () => {
    const a = await enrolled();
    const b = await enrolled();
    const secret = await getSetting(db.pool, NODE_REQUEST_SECRET_SETTING);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const fromHeartbeat = await client(a).heartbeat(1, stats);
    expect(fromHeartbeat.requestKey).toBe(nodeRequestKey(secret ?? '', a.nodeId));
    expect((await client(b).heartbeat(1, stats)).requestKey).toBe(nodeRequestKey(secret ?? '', b.nodeId));
    expect(fromHeartbeat.requestKey).not.toBe(nodeRequestKey(secret ?? '', b.nodeId));
    expect((await client(a).drain(2)).requestKey).toBe(fromHeartbeat.requestKey);
    await setSetting(db.pool, NODE_REQUEST_SECRET_SETTING, 'rotated-secret');
    expect((await client(a).heartbeat(3, stats)).requestKey).toBe(nodeRequestKey('rotated-secret', a.nodeId));
  });

  it('refuses replayed or lower counters, bad signatures, skew and another node\'s id with 401 and no state change', async () => {
    const id = await enrolled();
    const other = await enrolled();
    const body = { nodeId: id.nodeId, counter: 5, timestamp: clock, stats };
    const { bytes, signature } = signRequest(id.privateKey, 'heartbeat', body);
    expect((await post(paths.heartbeat, bytes, signature)).status).toBe(200);
    const before = await nodeRow(id.nodeId);
    const attempts: [string, Buffer, string][] = [];
    attempts.push(['NODE_ERR_REPLAY', bytes, signature]);
    const lower = signRequest(id.privateKey, 'heartbeat', { ...body, counter: 4 });
    attempts.push(['NODE_ERR_REPLAY', lower.bytes, lower.signature]);
    const tampered = Buffer.from(bytes.toString().replace('"counter":5', '"counter":9'));
    attempts.push(['NODE_ERR_BAD_SIGNATURE', tampered, signature]);
    const asOther = signRequest(other.privateKey, 'heartbeat', { ...body, counter: 50 });
    attempts.push(['NODE_ERR_BAD_SIGNATURE', asOther.bytes, asOther.signature]);
    const drainSig = signRequest(id.privateKey, 'drain', { ...body, counter: 51 });
    attempts.push(['NODE_ERR_BAD_SIGNATURE', drainSig.bytes, drainSig.signature]);
    for (const skew of [61_000, -61_000]) {
      const s = signRequest(id.privateKey, 'heartbeat', { ...body, counter: 60, timestamp: clock + skew });
      attempts.push(['NODE_ERR_CLOCK_SKEW', s.bytes, s.signature]);
    }
    const unknown = makeIdentity();
    const u = signRequest(unknown.privateKey, 'heartbeat', { ...body, nodeId: unknown.nodeId, counter: 70 });
    attempts.push(['NODE_ERR_UNKNOWN', u.bytes, u.signature]);
    for (const [code, b, sig] of attempts) {
      const r = await post(paths.heartbeat, b, sig);
      expect(r, code).toMatchObject({ status: 401, json: { error: { code } } });
    }
    expect(await nodeRow(id.nodeId)).toEqual(before);
    const metrics = await cp.deps.metrics.metrics();
    expect(metrics).toMatch(/verity_node_api_requests_total\{endpoint="heartbeat",outcome="NODE_ERR_REPLAY"\} [2-9]/);
    expect((await post(paths.heartbeat, bytes, 'A'.repeat(86))).status).toBe(401);
    expect((await post(paths.heartbeat, bytes)).status).toBe(401);
    expect((await post(paths.heartbeat, 'not json', signature)).status).toBe(400);
  });

  it('refuses oversized bodies and other content types before any work', async () => {
    const huge = await post(paths.heartbeat, JSON.stringify({ pad: 'x'.repeat(70_000) }), 'A'.repeat(86)).catch(() => ({ status: 0 }));
    expect(huge.status).toBe(413);
    const form = await fetch(cp.url + paths.heartbeat, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
    expect(form.status).toBe(415);
  });

  it('lets exactly one of concurrent heartbeats with the same counter through', async () => {
    const id = await enrolled();
    const { bytes, signature } = signRequest(id.privateKey, 'heartbeat', { nodeId: id.nodeId, counter: 3, timestamp: clock, stats });
    const results = await Promise.all(Array.from({ length: 5 }, () => post(paths.heartbeat, bytes, signature)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it('answers a banned node 403 NODE_ERR_REVOKED', async () => {
    const id = await enrolled();
    await applyNodeAction(db.pool, id.nodeId, 'ban', 'tampering', 'admin');
    await expect(client(id).heartbeat(1, stats)).rejects.toMatchObject({ code: 'NODE_ERR_REVOKED' });
  });

  it('reports penalties newest first with their reasons, only after the audit-secrecy delay', async () => {
    const id = await enrolled();
    await recordTrustEvent(db.pool, id.nodeId, { kind: 'health_ok', reason: 'probe ok' }, new Date(clock));
    await recordTrustEvent(db.pool, id.nodeId, { kind: 'header_strike', reason: 'sent Set-Cookie' }, new Date(clock + 1));
    await recordTrustEvent(db.pool, id.nodeId, { kind: 'audit_tampered', severity: 'critical', reason: 'injected a script' }, new Date(clock + 2));
    // Right away the node learns nothing: it cannot tie the verdict to the request that was the audit.
    const now = await client(id).heartbeat(1, stats);
    expect(now.penalties).toEqual([]);
    expect(now.status).toBe('probation');
    expect(now.integrity).toBe(0.5);
    expect(Date.parse(now.disclosedUntil ?? '')).toBeLessThan(clock - 10 * 60_000);
    // The batch is released between 10 and 60 minutes after the events (default policy).
    clock += 61 * 60_000;
    const s = await client(id).heartbeat(2, stats);
    expect(s.penalties.map((p) => [p.kind, p.reason])).toEqual([['audit_tampered', 'injected a script'], ['header_strike', 'sent Set-Cookie']]);
    expect(s.status).toBe('quarantined');
    expect(s.integrity).toBeLessThan(0.1);
  });

  it('goes offline when heartbeats stop and comes back when they resume', async () => {
    const id = await enrolled();
    await client(id).heartbeat(1, stats);
    clock += 60_000;
    // Two balancers sweeping at once: the node is marked offline exactly once.
    const [a, b] = await Promise.all([sweepOfflineNodes(cp.deps, 30_000), sweepOfflineNodes(cp.deps, 30_000)]);
    expect([...a, ...b]).toEqual([id.nodeId]);
    expect(await sweepOfflineNodes(cp.deps, 30_000)).toEqual([]);
    expect((await nodeRow(id.nodeId))?.status).toBe('offline');
    await client(id).heartbeat(2, stats);
    expect((await nodeRow(id.nodeId))?.status).toBe('probation');
    expect((await listTrustEvents(db.pool, id.nodeId)).map((e) => e.kind)).toEqual(['registered', 'heartbeat_missed', 'heartbeat_resumed']);
    // The node is told once the audit-secrecy delay has passed.
    clock += 61 * 60_000;
    const s = await client(id).heartbeat(3, stats);
    expect(s.status).toBe('probation');
    expect(s.penalties[0]).toMatchObject({ kind: 'heartbeat_missed', statusAfter: 'offline' });
  });
});

describe('offline sweeper', () => {
  it('runs on its interval until stopped, and leaves draining nodes alone', async () => {
    const { token } = await makeSiteWithToken(db.pool, { uses: 2 });
    const quiet = makeIdentity();
    const leaving = makeIdentity();
    await client(quiet).register({ token, name: 'q', publicUrl: 'http://127.0.0.1:1', location: null });
    await client(leaving).register({ token, name: 'l', publicUrl: 'http://127.0.0.1:2', location: null });
    await client(leaving).drain(1);
    clock += 120_000;
    const stop = startOfflineSweeper(cp.deps, { intervalMs: 50, staleAfterMs: 30_000 });
    try {
      const deadline = Date.now() + 10_000;
      while ((await nodeRow(quiet.nodeId))?.status !== 'offline' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      stop();
    }
    expect((await nodeRow(quiet.nodeId))?.status).toBe('offline');
    expect((await nodeRow(leaving.nodeId))?.status).toBe('probation');
    const events = await listTrustEvents(db.pool, quiet.nodeId);
    expect(events.filter((e) => e.kind === 'heartbeat_missed')).toHaveLength(1);
    expect(events.at(-1)?.reason).toMatch(/no heartbeat for 120 s/);
  });
});

describe('drain', () => {
  it('marks the node draining and notifies balancers', async () => {
    const { token } = await makeSiteWithToken(db.pool);
    const id = makeIdentity();
    await client(id).register({ token, name: 'n', publicUrl: 'http://127.0.0.1:1', location: null });
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      const heard = new Promise<string>((resolve) => listener.on('notification', (m) => resolve(m.payload ?? '')));
      await listener.query('LISTEN verity_node_changed');
      const s = await client(id).drain(1);
      expect(s.draining).toBe(true);
      expect(await heard).toBe(id.nodeId);
      await expect(client(id).drain(1)).rejects.toMatchObject({ code: 'NODE_ERR_REPLAY' });
      // Re-registering (a restart) clears draining.
      expect((await client(id).register({ token: undefined, name: 'n', publicUrl: 'http://127.0.0.1:1', location: null })).draining).toBe(false);
    } finally {
      await listener.end();
    }
  });
});
