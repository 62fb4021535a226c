import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeApiPlugin } from '../../../balancer/control/node-api.js';
import { createJoinToken } from '../../../common/db/queries/tokens.js';
import { paths, signRequest } from '../../../common/protocol/node-api.js';
import { selfSignedCertificate } from '../../../common/tls/x509.js';
import { loadOrCreateIdentity } from '../../../node/identity.js';
import { spkiOf } from '../../../node/tls-identity.js';
import { insertTestSite, startBalancer, visit, visitPublished, waitFor, type StartedBalancer } from '../../support/balancer-harness.js';
import { startOrigin, type TestOrigin } from '../../support/balancer-origin.js';
import { useTestDatabase } from '../../support/db.js';
import { freePort } from '../../support/ports.js';
import { spawnNode, type NodeProcess } from '../../support/node-process.js';

// TLS between the balancer and a real `verity node`, pinned: the node makes its own key and
// self-signed certificate and registers the key's fingerprint in a signed request; the
// balancer serves through it over TLS, and refuses a relay on the way that presents another
// certificate (counted against the node's availability, never its integrity). A key is rotated
// only by a request the node signed.

const db = useTestDatabase({ truncate: false });
const HOST = 'pinned.test';
let origin: TestOrigin;
let bal: StartedBalancer;
let siteId: string;

beforeAll(async () => {
  origin = await startOrigin();
  siteId = await insertTestSite(db.pool, { host: HOST, origin: origin.url });
  bal = await startBalancer({
    pool: db.pool, plugins: [createNodeApiPlugin({ heartbeatIntervalMs: 300 })],
    config: { healthInterval: 300 }, deps: { background: { health: true } },
  });
});
afterAll(async () => {
  await bal.close();
  await origin.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const dirs: string[] = [];
/** A folder removed after the file's tests. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function tlsNode(extra: string[] = [], dataDir?: string): Promise<{ proc: NodeProcess; nodeId: string; dataDir: string }> {
  const { token } = await createJoinToken(db.pool, { siteId, uses: 1, ttlMs: 600_000 });
  const dir = dataDir ?? tempDir('verity-node-tls-');
  const proc = spawnNode(['--balancer', bal.controlUrl, '--token', token, '--status-listen', '127.0.0.1:0', '--data-dir', dir, ...extra], { VERITY_NODE_PLAIN_HTTP: '' });
  const { nodeId } = await proc.ready(30_000);
  await db.pool.query("UPDATE nodes SET status = 'active' WHERE id = $1", [nodeId]);
  return { proc, nodeId, dataDir: dir };
}

/** A relay with a certificate of its own, in front of the node: it decrypts what it is sent. */
async function startRelay(target: number): Promise<{ port: number; plaintextBytes: () => number; handshakes: () => number; close(): void }> {
  const own = await selfSignedCertificate('not the node', 2);
  let plaintext = 0;
  let handshakes = 0;
  const server = createTlsServer({ key: own.keyPem, cert: own.certPem }, (client: TLSSocket) => {
    handshakes++;
    const upstream = tlsConnect({ host: '127.0.0.1', port: target, rejectUnauthorized: false });
    client.on('data', (c: Buffer) => {
      plaintext += c.length;
      upstream.write(c);
    });
    upstream.on('data', (c: Buffer) => client.write(c));
    for (const s of [client, upstream]) s.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.on('tlsClientError', () => handshakes++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, plaintextBytes: () => plaintext, handshakes: () => handshakes, close: () => server.close() };
}

describe('TLS to nodes, pinned', () => {
  it('a real node registers its TLS key; the balancer reaches it over TLS and serves verified bytes', async () => {
    const { proc, nodeId, dataDir } = await tlsNode(['--listen', '127.0.0.1:0']);
    try {
      const row = (await db.pool.query<{ public_url: string; tls_spki_sha256: string }>('SELECT public_url, tls_spki_sha256 FROM nodes WHERE id = $1', [nodeId])).rows[0];
      expect(row?.public_url).toMatch(/^https:\/\/127\.0\.0\.1:\d+/);
      expect(row?.tls_spki_sha256).toBe(spkiOf(readFileSync(join(dataDir, 'tls-cert.pem'), 'utf8')));
      await waitFor(() => bal.balancer.runtime.table.node(nodeId)?.tlsSpki === row?.tls_spki_sha256);
      const r = await visitPublished(bal, '/page', { host: HOST });
      expect(r.headers['x-verity-node']).toBe(nodeId);
      expect(r.text).toContain('<h1>Page</h1>');
    } finally {
      await proc.stop();
      await db.pool.query('DELETE FROM node_sites WHERE node_id = $1', [nodeId]);
    }
  });

  it('a relay on the way with another certificate is refused: nothing decrypted, the origin serves, availability (not integrity) pays', async () => {
    const nodePort = await freePort();
    const relay = await startRelay(nodePort);
    const { proc, nodeId } = await tlsNode(['--listen', `127.0.0.1:${nodePort}`, '--public-url', `https://127.0.0.1:${relay.port}`]);
    try {
      for (let i = 0; i < 6; i++) {
        const r = await visit(bal.publicUrl, '/page', { host: HOST });
        expect(r.status).toBe(200);
        expect(r.headers['x-verity-node']).toBe('origin');
        expect(r.text).toContain('<h1>Page</h1>');
      }
      // Health probes fail too: the node is taken out and its availability pays.
      await waitFor(async () => (await db.pool.query("SELECT 1 FROM trust_events WHERE node_id = $1 AND kind = 'health_fail'", [nodeId])).rowCount, 15_000);
      expect(relay.handshakes()).toBeGreaterThan(0);
      expect(relay.plaintextBytes()).toBe(0);
      await bal.balancer.runtime.strikes.flush();
      const kinds = (await db.pool.query<{ kind: string }>('SELECT DISTINCT kind FROM trust_events WHERE node_id = $1', [nodeId])).rows.map((k) => k.kind);
      for (const k of kinds) expect(['registered', 'health_fail', 'heartbeat_resumed']).toContain(k);
      const scores = (await db.pool.query<{ integrity: number }>('SELECT integrity FROM nodes WHERE id = $1', [nodeId])).rows[0];
      expect(scores?.integrity).toBeGreaterThanOrEqual(0.5);
    } finally {
      relay.close();
      await proc.stop();
      await db.pool.query('DELETE FROM node_sites WHERE node_id = $1', [nodeId]);
    }
  });

  it('rotation: only a heartbeat the node signed changes the pinned key; a new key made at start is registered', async () => {
    const { proc, nodeId, dataDir } = await tlsNode(['--listen', '127.0.0.1:0']);
    await proc.stop();
    const before = bal.balancer.runtime.table.node(nodeId)?.tlsSpki;
    const counter = Number((await db.pool.query<{ heartbeat_counter: string }>('SELECT heartbeat_counter FROM nodes WHERE id = $1', [nodeId])).rows[0]?.heartbeat_counter) + 10;
    const other = spkiOf((await selfSignedCertificate('rotated', 30)).certPem);
    const send = async (body: unknown, signature: string) => fetch(`${bal.controlUrl}${paths.heartbeat}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-verity-signature': signature }, body: JSON.stringify(body) });
    // Signed by someone else's key: refused, nothing changes.
    const stranger = await loadOrCreateIdentity(tempDir('verity-stranger-'));
    const forged = { nodeId, counter, timestamp: Date.now(), tlsSpki: other };
    expect((await send(forged, signRequest(stranger.privateKey, 'heartbeat', forged).signature)).status).toBe(401);
    expect((await db.pool.query('SELECT tls_spki_sha256 FROM nodes WHERE id = $1', [nodeId])).rows[0]?.tls_spki_sha256).toBe(before);
    // Signed by the node: the new key is pinned by the running balancer.
    const identity = await loadOrCreateIdentity(dataDir);
    const body = { nodeId, counter, timestamp: Date.now(), tlsSpki: other };
    const { bytes, signature } = signRequest(identity.privateKey, 'heartbeat', body);
    expect((await fetch(`${bal.controlUrl}${paths.heartbeat}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-verity-signature': signature }, body: bytes.toString('utf8') })).status).toBe(200);
    await waitFor(() => bal.balancer.runtime.table.node(nodeId)?.tlsSpki === other);
    // The node restarted with a fresh key (its old one gone): registered and pinned again, served.
    rmSync(join(dataDir, 'tls-cert.pem'));
    const again = spawnNode(proc.args, { VERITY_NODE_PLAIN_HTTP: '' });
    try {
      await again.ready(30_000);
      const fresh = spkiOf(readFileSync(join(dataDir, 'tls-cert.pem'), 'utf8'));
      expect(fresh).not.toBe(before);
      await waitFor(() => bal.balancer.runtime.table.node(nodeId)?.tlsSpki === fresh);
      await db.pool.query("UPDATE nodes SET status = 'active' WHERE id = $1", [nodeId]);
      await waitFor(async () => (await visit(bal.publicUrl, '/app.js', { host: HOST })).headers['x-verity-node'] === nodeId, 20_000, 200);
    } finally {
      await again.stop();
      await db.pool.query('DELETE FROM node_sites WHERE node_id = $1', [nodeId]);
    }
  });
});
