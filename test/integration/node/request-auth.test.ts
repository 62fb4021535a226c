import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NODE_REQUEST_AUTH_HEADER, nodeRequestKey, signNodeRequest } from '../../../common/protocol/node-request-auth.js';
import { rawRequest } from '../../support/node-http.js';
import { startTestNodeServer, type TestNodeServer } from '../../support/node-server.js';
import { fixed, startOriginServer, type TestOrigin } from '../../support/origin-server.js';

// A node answers the balancer only. Every way a stranger (or a replay) could ask it something
// gets 401, and then nothing was fetched and nothing stored: a node is neither a free proxy
// nor a cache anyone can fill.

const HOST = 'site-a.test';
let origin: TestOrigin;
let node: TestNodeServer;
let dir: string;
let clock = Date.now();

beforeEach(async () => {
  origin = await startOriginServer({ '/page': fixed('origin page', { 'cache-control': 'public, max-age=600' }) });
  dir = mkdtempSync(join(tmpdir(), 'verity-node-auth-'));
  clock = Date.now();
  node = await startTestNodeServer({ sites: { [HOST]: origin.url, 'site-b.test': origin.url }, cacheDir: join(dir, 'cache'), now: () => clock });
});
afterEach(async () => {
  await node.close();
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

const withAuth = (auth: string, path = '/page', o: { host?: string; method?: string } = {}) =>
  rawRequest(node.url + path, { host: o.host ?? HOST, method: o.method ?? 'GET', headers: { [NODE_REQUEST_AUTH_HEADER]: auth } });
const sign = (parts: { method?: string; host?: string; target?: string; bodySha256?: string }, key = node.key, at = clock) =>
  signNodeRequest(key, { method: parts.method ?? 'GET', host: parts.host ?? HOST, target: parts.target ?? '/page', ...(parts.bodySha256 ? { bodySha256: parts.bodySha256 } : {}) }, at);

describe('requests the balancer did not sign', () => {
  it.each<[string, () => Promise<{ status: number }>]>([
    ['no signature', () => rawRequest(node.url + '/page', { host: HOST })],
    ['garbage', () => withAuth('hello')],
    ['another node\'s key', () => withAuth(sign({}, nodeRequestKey('test-secret', 'b'.repeat(32))))],
    ['a key from another secret', () => withAuth(sign({}, nodeRequestKey('other-secret', 'a'.repeat(32))))],
    ['signed for another target (replayed elsewhere)', () => withAuth(sign({ target: '/other' }))],
    ['signed for another site', () => withAuth(sign({ host: 'site-b.test' }))],
    ['signed for HEAD, sent as GET', () => withAuth(sign({ method: 'HEAD' }))],
    ['signed 61 s ago', () => withAuth(sign({}, node.key, clock - 61_000))],
    ['signed 61 s ahead', () => withAuth(sign({}, node.key, clock + 61_000))],
  ])('%s → 401, nothing fetched, nothing stored', async (_name, send) => {
    const res = await send();
    expect(res.status).toBe(401);
    expect(origin.requests).toHaveLength(0);
    expect(node.store.stats().entries).toBe(0);
  });

  it('a stranger\'s request cannot fill the cache that the balancer\'s requests read', async () => {
    await rawRequest(node.url + '/page', { host: HOST, headers: { 'x-forwarded-host': 'evil.example', accept: 'text/evil' } });
    const real = await node.request('/page');
    expect(real.status).toBe(200);
    expect(real.body.toString()).toBe('origin page');
    expect(origin.requests).toHaveLength(1);
  });

  it('answers a signed request, within the 60 s allowed either way', async () => {
    expect((await withAuth(sign({}, node.key, clock - 59_000))).status).toBe(200);
    expect((await withAuth(sign({}, node.key, clock + 59_000))).headers['x-verity-cache']).toBe('HIT');
  });

  it('answers nothing before the balancer gave it a key, but the health probe to anyone', async () => {
    await node.close();
    node = await startTestNodeServer({ sites: { [HOST]: origin.url }, cacheDir: join(dir, 'cache'), key: null });
    expect((await withAuth(sign({}))).status).toBe(401);
    expect((await rawRequest(`${node.url}/.well-known/verity/health`, { host: 'anything' })).status).toBe(200);
    expect(origin.requests).toHaveLength(0);
  });

  it('refuses other methods with 405 before reading anything', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) expect((await withAuth(sign({ method }), '/page', { method })).status).toBe(405);
    expect(origin.requests).toHaveLength(0);
  });
});
