import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NODE_INVALIDATE_PATH } from '../../../common/protocol/node-api.js';
import { signedInvalidation } from '../../../common/protocol/node-invalidate.js';
import { NODE_REQUEST_AUTH_HEADER, signNodeRequest } from '../../../common/protocol/node-request-auth.js';
import { useTestDatabase } from '../../support/db.js';
import { makeSiteWithToken } from '../../support/node-fixtures.js';
import { rawRequest } from '../../support/node-http.js';
import { useNodeProcesses } from '../../support/node-process.js';
import { balancerKeyFor, signedRequest } from '../../support/node-signing.js';
import { startOriginServer, type TestOrigin } from '../../support/origin-server.js';

// RFC 9111 §4.4 across the fleet: after an unsafe request succeeds at the origin, the balancer
// tells every node serving the site to drop what it stored for that URL. Two real `verity node`
// processes; a signed invalidation makes both drop every stored variant at once, and nobody
// else can make them drop anything.

const db = useTestDatabase({ truncate: false });
const procs = useNodeProcesses(db);
let HOST = 'shop-inv.test';
let sites = 0;

async function origin(): Promise<{ origin: TestOrigin; bump: () => void }> {
  let version = 1;
  const o = await startOriginServer({
    '/cart': (req, res) => {
      res.writeHead(200, { 'cache-control': 'public, max-age=600', vary: 'Accept-Language' });
      res.end(`cart v${version} ${req.headers['accept-language'] ?? ''}`);
    },
    '/other': (_req, res) => {
      res.writeHead(200, { 'cache-control': 'public, max-age=600' });
      res.end(`other v${version}`);
    },
  });
  procs.cleanup(() => o.close());
  return { origin: o, bump: () => void (version += 1) };
}

async function twoNodes(originUrl: string) {
  sites += 1;
  HOST = `shop-inv-${sites}.test`;
  const cp = await procs.controlPlane();
  const { token } = await makeSiteWithToken(db.pool, { host: HOST, origin: originUrl, uses: 2 });
  const nodes = [];
  for (const p of [procs.start(cp.url, token), procs.start(cp.url, token)]) {
    const ready = await p.ready();
    nodes.push({ url: ready.url, key: await balancerKeyFor(db.pool, ready.nodeId) });
  }
  return nodes;
}

/** A POST to the invalidation endpoint of any body, signed with the right body hash. */
function signedPost(node: { url: string; key: string }, body: Buffer) {
  const auth = signNodeRequest(node.key, { method: 'POST', host: HOST, target: NODE_INVALIDATE_PATH, bodySha256: createHash('sha256').update(body).digest('hex') }, Date.now());
  return rawRequest(node.url + NODE_INVALIDATE_PATH, { method: 'POST', host: HOST, headers: { [NODE_REQUEST_AUTH_HEADER]: auth }, body });
}

function invalidate(node: { url: string; key: string }, targets: string[], o: { key?: string; host?: string; body?: Buffer } = {}) {
  const signed = signedInvalidation(o.key ?? node.key, o.host ?? HOST, targets, Date.now());
  return rawRequest(node.url + signed.path, { method: 'POST', host: signed.headers.host, headers: signed.headers, body: o.body ?? signed.body });
}

describe('invalidation on two real nodes', () => {
  it('a signed invalidation makes both nodes drop every variant of the URL, and only that URL', async () => {
    const { origin: o, bump } = await origin();
    const nodes = await twoNodes(o.url);
    const get = (n: { url: string; key: string }, path: string, lang: string) => signedRequest(n.url, n.key, path, { host: HOST, headers: { 'accept-language': lang } });
    for (const n of nodes) for (const lang of ['en', 'de']) await get(n, '/cart', lang);
    for (const n of nodes) await get(n, '/other', 'en');
    bump();
    for (const n of nodes) expect((await get(n, '/cart', 'de')).body.toString()).toBe('cart v1 de');
    const started = Date.now();
    const answers = await Promise.all(nodes.map((n) => invalidate(n, ['/cart'])));
    expect(answers.map((a) => [a.status, a.headers['x-verity-dropped']])).toEqual([[204, '2'], [204, '2']]);
    expect(Date.now() - started).toBeLessThan(1000);
    for (const n of nodes) {
      for (const lang of ['en', 'de']) {
        const after = await get(n, '/cart', lang);
        expect([after.body.toString(), after.headers['x-verity-cache']]).toEqual([`cart v2 ${lang}`, 'MISS']);
      }
      expect((await get(n, '/other', 'en')).body.toString()).toBe('other v1');
    }
  }, 60_000);

  it('drops nothing for anyone but the balancer, nor for a malformed request', async () => {
    const { origin: o } = await origin();
    const [a, b] = await twoNodes(o.url);
    if (!a || !b) throw new Error('two nodes expected');
    await signedRequest(a.url, a.key, '/cart', { host: HOST });
    // Same length as the signed body, other targets: the signature covers the body's hash.
    const tampered = Buffer.from(JSON.stringify({ targets: ['/cars'] }));
    const refused = [
      await rawRequest(a.url + NODE_INVALIDATE_PATH, { method: 'POST', host: HOST, body: Buffer.from('{"targets":["/cart"]}') }),
      await invalidate(a, ['/cart'], { key: b.key }),
      await invalidate(a, ['/cart'], { body: tampered }),
      await invalidate(a, ['/cart'], { host: 'other.test' }),
      await invalidate(a, Array.from({ length: 101 }, (_, i) => `/p${i}`)),
      await invalidate(a, ['cart']),
      await signedPost(a, Buffer.from('not json')),
      await signedPost(a, Buffer.alloc(70 * 1024, 'x')),
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 421, 400, 400, 400, 413]);
    expect((await signedRequest(a.url, a.key, '/cart', { host: HOST })).headers['x-verity-cache']).toBe('HIT');
  }, 60_000);
});
