import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcmeManager } from '../../../balancer/acme/manager.js';
import { silentLogger } from '../../../common/log.js';
import { createSecretBox } from '../../../common/tls/secret-box.js';
import { Registry } from 'prom-client';
import { insertTestSite, startBalancer, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { pebbleInstalled, startPebble, type Pebble } from '../../support/pebble.js';
import { freePort } from '../../support/ports.js';
import { h2Request, handshake, testTlsSecret } from '../../support/tls.js';

// Automatic certificates from a real ACME server (Debian's pebble, Let's Encrypt's test CA) on
// loopback: issued for registered sites only, through HTTP-01 or TLS-ALPN-01 answered by the
// balancer, served at once, renewed two thirds into their lifetime, replaced and revoked; one
// balancer at a time (advisory lock); failures retried with backoff.

if (!pebbleInstalled()) throw new Error('pebble is not installed (apt-get install pebble; .ci/run installs it)');

const db = useTestDatabase({ truncate: false });
let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => {
  await origin.close();
});

/** ACME orders this balancer placed, whatever came of them. */
async function ordersTotal(bal: StartedBalancer): Promise<number> {
  const m = await bal.balancer.runtime.metrics.registry.getSingleMetric('verity_acme_orders_total')?.get();
  return (m?.values ?? []).reduce((a, v) => a + v.value, 0);
}

describe.each(['http-01', 'tls-alpn-01'] as const)('ACME with %s', (challenge) => {
  let pebble: Pebble;
  let bal: StartedBalancer;
  /** Another balancer on the same database, without ACME: it serves what the first one got. */
  let peer: StartedBalancer;
  let siteId: string;
  let clockOffsetMs = 0;
  const host = `${challenge.replace(/-/g, '')}.shop.test`;
  let issueMs = 0;

  beforeAll(async () => {
    const [plainPort, tlsPort] = [await freePort(), await freePort()];
    pebble = await startPebble({ httpPort: plainPort, tlsPort });
    siteId = await insertTestSite(db.pool, { host, origin: origin.url });
    const t0 = Date.now();
    bal = await startBalancer({
      pool: db.pool,
      config: {
        listen: { host: '127.0.0.1', port: plainPort }, tlsListen: { host: '127.0.0.1', port: tlsPort }, tlsSecret: testTlsSecret,
        acmeDirectory: pebble.directoryUrl, acmeEmail: 'ops@shop.test', acmeCa: pebble.caFile, acmeChallenges: [challenge],
      },
      deps: { acme: { intervalMs: 300, propagationMs: 100 }, now: () => Date.now() + clockOffsetMs },
    });
    await waitFor(() => bal.balancer.certs?.forSite(siteId), 60_000);
    issueMs = Date.now() - t0;
    console.log(`ACME ${challenge}: first certificate served ${issueMs} ms after the balancer started`);
    peer = await startBalancer({ pool: db.pool, config: { tlsListen: { host: '127.0.0.1', port: 0 }, tlsSecret: testTlsSecret } });
  }, 120_000);
  afterAll(async () => {
    await peer.close();
    await bal.close();
    pebble.close();
    await db.pool.query('DELETE FROM sites WHERE id = $1', [siteId]);
  });

  it('issues a certificate for the registered site; it verifies against the CA\'s root and serves HTTP/2', async () => {
    const ca = (await pebble.root()) + (await pebble.intermediate());
    const r = await h2Request(String(bal.tlsUrl), '/page', { host, ca });
    expect(r.status).toBe(200);
    const hs = await handshake(String(bal.tlsUrl), host, { ca });
    expect('cert' in hs && hs.cert.subjectaltname).toBe(`DNS:${host}`);
    expect(issueMs).toBeLessThan(60_000);
  });

  it('an unregistered name gets no certificate and causes no order', async () => {
    const before = await ordersTotal(bal);
    for (let i = 0; i < 3; i++) expect('error' in (await handshake(String(bal.tlsUrl), `nobody${i}.shop.test`))).toBe(true);
    await bal.balancer.acme?.runOnce();
    expect(await ordersTotal(bal)).toBe(before);
    const { rows } = await db.pool.query<{ host: string }>('SELECT s.host FROM site_certificates c JOIN sites s ON s.id = c.site_id');
    expect(rows.map((r) => r.host)).not.toContain('nobody0.shop.test');
    // Nor an attempt on record (a failed order would leave one).
    expect((await db.pool.query('SELECT 1 FROM acme_attempts WHERE site_id <> $1', [siteId])).rows).toHaveLength(0);
  });

  it('renews two thirds into the lifetime, and every balancer serves the new certificate', async () => {
    const before = bal.balancer.certs?.forSite(siteId);
    if (!before) throw new Error('no certificate');
    const { rows } = await db.pool.query<{ not_before: Date; not_after: Date }>('SELECT not_before, not_after FROM site_certificates WHERE site_id = $1', [siteId]);
    const { not_before: nb, not_after: na } = rows[0] as { not_before: Date; not_after: Date };
    // Just before two thirds: nothing to do.
    clockOffsetMs = nb.getTime() + ((na.getTime() - nb.getTime()) * 2) / 3 - Date.now() - 60_000;
    expect((await bal.balancer.acme?.runOnce())?.issued).toEqual([]);
    clockOffsetMs += 120_000;
    const t0 = Date.now();
    const report = await bal.balancer.acme?.runOnce();
    console.log(`ACME ${challenge}: renewal took ${Date.now() - t0} ms`);
    expect(report?.issued.map((i) => [i.host, i.reason])).toEqual([[host, 'renewal']]);
    await waitFor(() => bal.balancer.certs?.forSite(siteId)?.serial !== before.serial);
    const renewed = bal.balancer.certs?.forSite(siteId)?.serial;
    const hs = await handshake(String(bal.tlsUrl), host);
    expect('cert' in hs && hs.cert.serialNumber.toLowerCase()).toBe(renewed);
    // The other balancer learns it from the database (NOTIFY) and serves it too.
    await waitFor(async () => {
      const seen = await handshake(String(peer.tlsUrl), host);
      return 'cert' in seen && seen.cert.serialNumber.toLowerCase() === renewed;
    });
    clockOffsetMs = 0;
  });

  it('revoke: a new certificate with a new key is served, then the old one is revoked at the CA', async () => {
    const old = bal.balancer.certs?.forSite(siteId)?.serial ?? '';
    const res = await fetch(`${bal.controlUrl}/api/v1/sites/${host}/certificate/revoke`, { method: 'POST', headers: { authorization: `Bearer ${bal.adminToken}`, 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { revokedSerial: string; serial: string };
    expect(res.status).toBe(200);
    expect(body.revokedSerial).toBe(old);
    expect(body.serial).not.toBe(old);
    expect(await pebble.certStatus(old)).toBe('Revoked');
    expect(await pebble.certStatus(body.serial)).toBe('Valid');
    await waitFor(() => bal.balancer.certs?.forSite(siteId)?.serial === body.serial);
    const info = await (await fetch(`${bal.controlUrl}/api/v1/sites/${host}/certificate`, { headers: { authorization: `Bearer ${bal.adminToken}` } })).json() as { source: string; serial: string; renewAt: string };
    expect(info.source).toBe('acme');
    expect(info.serial).toBe(body.serial);
    const logged = await db.pool.query<{ reason: string }>("SELECT reason FROM admin_actions WHERE action = 'certificate_revoke' AND target_id = $1", [siteId]);
    expect(logged.rows.map((r) => r.reason)).toContain(`revoked ${old}, now ${body.serial}`);
  });
});

describe('one balancer at a time, and backoff', () => {
  it('while another balancer holds the lock, a run does nothing', async () => {
    const siteId = await insertTestSite(db.pool, { host: 'locked.shop.test', origin: origin.url });
    const holder = await db.pool.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [0x61636d65]);
      const m = new AcmeManager({ pool: db.pool, log: silentLogger(), box: createSecretBox(testTlsSecret), metrics: new Registry(), now: Date.now, directoryUrl: 'https://127.0.0.1:9/dir', email: null, challenges: ['http-01'], caPem: null });
      expect(await m.runOnce()).toEqual({ locked: false, issued: [], failed: [] });
      const { rows } = await db.pool.query('SELECT 1 FROM acme_attempts WHERE site_id = $1', [siteId]);
      expect(rows).toHaveLength(0);
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [0x61636d65]);
      holder.release();
      await db.pool.query('DELETE FROM sites WHERE id = $1', [siteId]);
    }
  });

  it('a CA that cannot be reached: the failure is recorded and retried later, with backoff, not at every run', async () => {
    const siteId = await insertTestSite(db.pool, { host: 'down.shop.test', origin: origin.url });
    let now = Date.now();
    const m = new AcmeManager({ pool: db.pool, log: silentLogger(), box: createSecretBox(testTlsSecret), metrics: new Registry(), now: () => now, directoryUrl: `https://127.0.0.1:${await freePort()}/dir`, email: null, challenges: ['http-01'], caPem: null });
    const first = await m.runOnce();
    expect(first.failed.map((f) => f.host)).toEqual(['down.shop.test']);
    const row = async () => (await db.pool.query<{ failures: number; retry_at: Date; last_error: string }>('SELECT failures, retry_at, last_error FROM acme_attempts WHERE site_id = $1', [siteId])).rows[0];
    expect((await row())?.failures).toBe(1);
    expect((await row())?.retry_at.getTime()).toBe(now + 60_000);
    // Admins and the site's owners hear of it (certificate.trouble), not at every retry.
    const troubles = async () => (await db.pool.query<{ reason: string; site_host: string }>("SELECT reason, site_host FROM notification_events WHERE kind = 'certificate.trouble' AND site_id = $1", [siteId])).rows;
    expect(await troubles()).toEqual([{ site_host: 'down.shop.test', reason: expect.stringMatching(/^could not get a certificate: /) }]);
    expect((await m.runOnce()).failed).toEqual([]);
    now += 61_000;
    expect((await m.runOnce()).failed).toHaveLength(1);
    expect((await row())?.failures).toBe(2);
    expect((await row())?.retry_at.getTime()).toBe(now + 120_000);
    expect(await troubles()).toHaveLength(1);
    await db.pool.query('DELETE FROM sites WHERE id = $1', [siteId]);
  });
});
