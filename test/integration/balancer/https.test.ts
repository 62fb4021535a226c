import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertTestNode, startBalancer, visit, waitFor, waitPublished, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { runCli } from '../../support/cli.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode, type HostileNode } from '../../support/hostile-node.js';
import { h1sRequest, h2Request, handshake, makeTestCa, testTlsSecret, type TestCa } from '../../support/tls.js';

// HTTPS on the public port: a certificate per site (the owner's, given with `verity site add
// --cert --key`), HTTP/2 and HTTP/1.1 by ALPN into the same vetting and request path as plain
// HTTP, the site's redirect and HSTS choices.

const db = useTestDatabase();
const HOST = 'site.test';
let origin: TestOrigin;
let node: HostileNode;
let ca: TestCa;
const proxiedToOrigin = () => origin.requests.filter((q) => q.headers['x-forwarded-for'] !== undefined);

beforeAll(async () => {
  origin = await startOrigin();
  node = await startHostileNode({ origin: origin.url });
  ca = await makeTestCa();
});
afterAll(async () => {
  ca.close();
  await node.close();
  await origin.close();
});

async function siteAdd(args: string[], env: Record<string, string> = {}) {
  return runCli(['site', 'add', ...args], { DATABASE_URL: db.url, VERITY_TLS_SECRET: testTlsSecret, ...env });
}

describe('HTTPS with the owner\'s certificate', () => {
  let bal: StartedBalancer;
  let tlsUrl: string;
  let siteId: string;
  let nodeId: string;
  beforeEach(async () => {
    const cert = await ca.issue([HOST]);
    const added = await siteAdd(['--host', HOST, '--origin', origin.url, '--cert', cert.certFile, '--key', cert.keyFile, '--hsts', '30d']);
    expect(added.stderr).toBe('');
    siteId = added.stdout.trim();
    nodeId = await insertTestNode(db.pool, { url: node.url, siteIds: [siteId] });
    bal = await startBalancer({ pool: db.pool, config: { tlsListen: { host: '127.0.0.1', port: 0 }, tlsSecret: testTlsSecret } });
    tlsUrl = String(bal.tlsUrl);
    await waitPublished(bal, siteId, '/page', HOST);
    origin.requests.length = 0;
    node.requests.length = 0;
  });
  afterEach(async () => {
    await bal.close();
  });

  it('HTTP/2: a published page comes from the node, verified; HSTS as the site chose', async () => {
    const r = await h2Request(tlsUrl, '/page', { host: HOST, ca: ca.certPem });
    expect(r.status).toBe(200);
    expect(r.headers['x-verity-node']).toBe(nodeId);
    expect(r.text).toContain('<h1>Page</h1>');
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const seen = node.requests[0]?.headers ?? {};
    expect(seen.host).toBe(HOST);
    for (const name of Object.keys(seen)) expect(name.startsWith(':')).toBe(false);
  });

  it('HTTP/1.1 over TLS (ALPN) is served the same way', async () => {
    const r = await h1sRequest(tlsUrl, '/page', { host: HOST, ca: ca.certPem });
    expect(r.status).toBe(200);
    expect(r.headers['x-verity-node']).toBe(nodeId);
  });

  it('the origin hears the visitor came over HTTPS; the site\'s own HSTS is added where the origin sends none', async () => {
    const r = await h2Request(tlsUrl, '/echo', { host: HOST, ca: ca.certPem, headers: { cookie: 'a=1' } });
    expect(r.headers['x-verity-node']).toBe('origin');
    expect(r.headers['strict-transport-security']).toBe(`max-age=${30 * 86400}`);
    const seen = proxiedToOrigin()[0]?.headers ?? {};
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(String(seen.forwarded)).toContain('proto=https');
    expect(seen.host).toBe(HOST);
    for (const name of Object.keys(seen)) expect(name.startsWith(':')).toBe(false);
    // Plain HTTP never carries HSTS (RFC 6797 §7.2).
    const plain = await visit(bal.publicUrl, '/echo', { host: HOST, headers: { cookie: 'a=1' } });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
    expect(proxiedToOrigin()[1]?.headers['x-forwarded-proto']).toBe('http');
  });

  it('an HTTP/2 body without a length reaches the origin whole (chunked); a GET carrying one is refused', async () => {
    const r = await h2Request(tlsUrl, '/echo', { host: HOST, ca: ca.certPem, method: 'POST', body: 'x'.repeat(70_000) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).body).toHaveLength(70_000);
    const get = await h2Request(tlsUrl, '/page', { host: HOST, ca: ca.certPem, body: 'smuggled' });
    expect(get.status).toBe(400);
    // (The POST makes the balancer tell nodes to drop /echo: that signed invalidation is all they see.)
    expect(node.requests.filter((q) => q.url === '/page')).toHaveLength(0);
  });

  it('HTTP/2 vetting: :authority of an unknown site → 421; a host field that disagrees → 400; nothing proxied', async () => {
    const unknown = await h2Request(tlsUrl, '/page', { host: 'other.test', sni: HOST, ca: ca.certPem });
    expect(unknown.status).toBe(421);
    const conflict = await h2Request(tlsUrl, '/page', { host: HOST, ca: ca.certPem, headers: { host: 'other.test' } });
    expect(conflict.status).toBe(400);
    expect(proxiedToOrigin().length + node.requests.length).toBe(0);
  });

  it('no certificate for a name we do not serve: the handshake fails', async () => {
    const r = await handshake(tlsUrl, 'unregistered.test');
    expect('error' in r).toBe(true);
    const ok = await handshake(tlsUrl, HOST, { ca: ca.certPem });
    expect('cert' in ok && ok.alpn).toBe('h2');
  });

  it('a new certificate given with `site add --cert` is served by the running balancer at once', async () => {
    const before = await handshake(tlsUrl, HOST);
    const next = await ca.issue([HOST]);
    const again = await siteAdd(['--host', HOST, '--origin', origin.url, '--cert', next.certFile, '--key', next.keyFile]);
    expect(again.stdout.trim()).toBe(siteId);
    await waitFor(async () => {
      const r = await handshake(tlsUrl, HOST);
      return 'cert' in r && 'cert' in before && r.cert.serialNumber !== before.cert.serialNumber;
    });
  });
});

describe('plain HTTP → HTTPS redirect', () => {
  it('a site that chose it sends plain visitors to HTTPS with 308; HTTPS is served', async () => {
    const cert = await ca.issue(['redirect.test']);
    const added = await siteAdd(['--host', 'redirect.test', '--origin', origin.url, '--cert', cert.certFile, '--key', cert.keyFile, '--https-redirect']);
    expect(added.code).toBe(0);
    const bal = await startBalancer({ pool: db.pool, config: { tlsListen: { host: '127.0.0.1', port: 0 }, tlsSecret: testTlsSecret } });
    try {
      origin.requests.length = 0;
      const r = await visit(bal.publicUrl, '/page?x=1', { host: 'redirect.test' });
      expect(r.status).toBe(308);
      expect(r.headers.location).toBe('https://redirect.test/page?x=1');
      expect(proxiedToOrigin()).toHaveLength(0);
      const s = await h2Request(String(bal.tlsUrl), '/page', { host: 'redirect.test', ca: ca.certPem });
      expect(s.status).toBe(200);
    } finally {
      await bal.close();
    }
  });
});

describe('verity site add --cert --key: bad input → one clear error, nothing stored', () => {
  it.each([
    ['a key that is not the certificate\'s', async () => { const a = await ca.issue(['bad.test']); const b = await ca.issue(['bad.test']); return ['--cert', a.certFile, '--key', b.keyFile]; }, /not the key of this certificate/],
    ['a certificate for another host', async () => { const a = await ca.issue(['other.test']); return ['--cert', a.certFile, '--key', a.keyFile]; }, /does not name bad\.test/],
    ['a missing file', async () => ['--cert', '/nonexistent/cert.pem', '--key', '/nonexistent/key.pem'], /cannot read \/nonexistent\/cert\.pem/],
    ['--cert without --key', async () => { const a = await ca.issue(['bad.test']); return ['--cert', a.certFile]; }, /--cert and --key go together/],
  ] as Array<[string, () => Promise<string[]>, RegExp]>)('%s', async (_name, args, message) => {
    const r = await siteAdd(['--host', 'bad.test', '--origin', origin.url, ...(await args())]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    const { rows } = await db.pool.query("SELECT 1 FROM sites WHERE host = 'bad.test'");
    expect(rows).toHaveLength(0);
  });

  it('without the TLS secret the key is not stored', async () => {
    const a = await ca.issue(['bad.test']);
    const r = await siteAdd(['--host', 'bad.test', '--origin', origin.url, '--cert', a.certFile, '--key', a.keyFile], { VERITY_TLS_SECRET: '' });
    expect(r.stderr).toMatch(/TLS_ERR_NO_SECRET/);
  });

  it('a balancer with another secret serves no certificate it cannot open, and says so', async () => {
    const cert = await ca.issue(['sealed.test']);
    await siteAdd(['--host', 'sealed.test', '--origin', origin.url, '--cert', cert.certFile, '--key', cert.keyFile]);
    const bal = await startBalancer({ pool: db.pool, config: { tlsListen: { host: '127.0.0.1', port: 0 }, tlsSecret: 'another-secret-0123456789abcdef0123456789' } });
    try {
      expect(bal.balancer.certs?.size).toBe(0);
      const r = await handshake(String(bal.tlsUrl), 'sealed.test');
      expect('error' in r).toBe(true);
    } finally {
      await bal.close();
    }
  });
});
