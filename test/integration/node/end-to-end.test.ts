import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeApiPlugin } from '../../../balancer/control/node-api.js';
import { startBalancer, type StartedBalancer } from '../../support/balancer-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { rawRequest } from '../../support/node-http.js';
import { spawnNode, type NodeProcess } from '../../support/node-process.js';
import { fixed, startOriginServer, type TestOrigin } from '../../support/origin-server.js';

// A visitor, the real balancer (public proxy + control plane with the node API), the real
// `verity node` process, and a real origin: the node enrolls, and visitors get the origin's
// bytes through it.

const db = useTestDatabase({ truncate: false });
let balancer: StartedBalancer;
let origin: TestOrigin;
let node: NodeProcess;
let dir: string;
const gz = gzipSync(Buffer.from('body{color:red}'.repeat(200)));

beforeAll(async () => {
  origin = await startOriginServer({
    '/': fixed('<!doctype html><h1>home</h1>', { 'content-type': 'text/html', 'cache-control': 'public, max-age=60' }),
    '/app.css': fixed(gz, { 'content-type': 'text/css', 'content-encoding': 'gzip', vary: 'Accept-Encoding', 'cache-control': 'public, max-age=600' }),
  });
  balancer = await startBalancer({ pool: db.pool, plugins: [nodeApiPlugin] });
  const { token } = await makeSiteWithToken(db.pool, { host: 'e2e.test', origin: origin.url });
  dir = mkdtempSync(join(tmpdir(), 'verity-e2e-node-'));
  node = spawnNode(['--balancer', balancer.controlUrl, '--token', token, '--listen', '127.0.0.1:0', '--status-listen', '127.0.0.1:0', '--data-dir', dir]);
});
afterAll(async () => {
  await node.stop();
  await balancer.close();
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

async function viaBalancer(path: string, headers: Record<string, string> = {}) {
  // The routing table follows the database through LISTEN/NOTIFY; give it a moment to hear of the node.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await rawRequest(balancer.publicUrl + path, { host: 'e2e.test', headers });
    if (res.headers['x-verity-node'] !== 'origin' || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('visitor → balancer → verity node → origin', () => {
  it('serves the origin\'s bytes through the enrolled node', async () => {
    const ready = await node.ready();
    const page = await viaBalancer('/');
    expect(page.status).toBe(200);
    expect(page.headers['x-verity-node']).toBe(ready.nodeId);
    expect(page.body.toString()).toBe('<!doctype html><h1>home</h1>');
    const css = await viaBalancer('/app.css', { 'accept-encoding': 'gzip' });
    expect(css.headers['x-verity-node']).toBe(ready.nodeId);
    expect(css.headers['content-encoding']).toBe('gzip');
    expect(css.body.equals(gz)).toBe(true);
  });
});
