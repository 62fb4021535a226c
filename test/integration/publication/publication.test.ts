import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { insertTestNode, visit, visitPublished, waitFor } from '../../support/balancer-harness.js';
import { useBalancerScene, SCENE_HOST } from '../../support/balancer-scene.js';
import { useTestDatabase } from '../../support/db.js';
import { startHostileNode } from '../../support/hostile-node.js';
import { PUBLISHED_KINDS } from '../../support/published-kinds.js';

const db = useTestDatabase();
const scene = useBalancerScene(db);
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

describe('the origin decides what is public', () => {
  it('a never-seen URL goes to the origin first; a node serves it only once the origin gave the same bytes twice', async () => {
    const { bal, nodes, ids } = await scene.setup(['honest']);
    const first = await visit(bal.publicUrl, '/page', { host: SCENE_HOST });
    expect(first.headers['x-verity-node']).toBe('origin');
    expect(nodes[0]?.requests).toHaveLength(0);
    const served = await visitPublished(bal, '/page', { host: SCENE_HOST });
    expect(served.headers['x-verity-node']).toBe(ids[0]);
    expect(served.text).toContain('<h1>Page</h1>');
    // Two origin answers at least (the visitor's and the balancer's confirmation).
    expect(scene.origin.requests.filter((q) => q.url === '/page').length).toBeGreaterThanOrEqual(2);
  });

  it('an answer a shared cache may not keep is never published: no-store, private, Set-Cookie, Vary: Cookie, no freshness', async () => {
    const cases: Record<string, Record<string, string>> = {
      '/p/no-store': { 'cache-control': 'no-store' },
      '/p/private': { 'cache-control': 'private, max-age=600' },
      '/p/cookie': { 'cache-control': 'public, max-age=600', 'set-cookie': 'sid=abc' },
      '/p/vary-cookie': { 'cache-control': 'public, max-age=600', vary: 'Cookie' },
      '/p/no-cache': { 'cache-control': 'no-cache' },
      '/p/nothing': { 'cache-control': '' },
      '/p/max-age-0': { 'cache-control': 'max-age=0' },
    };
    for (const [path, headers] of Object.entries(cases)) scene.origin.set(path, { body: `<html>${path}</html>`, type: 'text/html', headers });
    const { bal, nodes } = await scene.setup(['honest']);
    for (const path of Object.keys(cases)) {
      for (let i = 0; i < 4; i++) {
        const r = await visit(bal.publicUrl, path, { host: SCENE_HOST });
        expect(r.headers['x-verity-node'], path).toBe('origin');
        await bal.balancer.revalidator.settled();
      }
    }
    expect(nodes[0]?.requests).toHaveLength(0);
  });

  it('secret-bearing requests reach no node: session ids, tokens, reset and magic links, private paths in any spelling', async () => {
    // The worst case: an origin that marks even these pages public.
    const paths = ['/login', '/account', '/reset-password/abc123', '/magic-link/Zx9', '/page'];
    for (const p of paths) scene.origin.set(p, { body: `<html>${p}</html>`, type: 'text/html' });
    const { bal, nodes } = await scene.setup(['honest'], {});
    await db.pool.query("UPDATE sites SET private_routes = '{/login,/account}' WHERE host = $1", [SCENE_HOST]);
    await waitFor(() => bal.balancer.runtime.table.siteByHost(SCENE_HOST)?.isPrivate !== null);
    const neverSeen = [
      '/page?PHPSESSID=0123456789abcdef', '/page?sessionid=abc', '/page?accessToken=short', '/page?resetToken=t1', '/page?oauth_verifier=v',
      '/page?email=a%40b.example', '/page;jsessionid=ABCDEF', '/reset-password/abc123', '/magic-link/Zx9',
    ];
    for (const url of neverSeen) expect((await visit(bal.publicUrl, url, { host: SCENE_HOST })).headers['x-verity-node'], url).toBe('origin');
    const privateSpellings = ['/login', '/login/', '/login;x', '/LOGIN', '/%6cogin', '/account.json', '/account/', '//account', '/x/../account', '/account;jsessionid=1/settings'];
    for (const url of privateSpellings) {
      for (let i = 0; i < 3; i++) {
        expect((await visit(bal.publicUrl, url, { host: SCENE_HOST })).headers['x-verity-node'], url).toBe('origin');
        await bal.balancer.revalidator.settled();
      }
    }
    expect(nodes[0]?.requests).toHaveLength(0);
  });

  it('requests with credentials, unsafe methods and service-worker scripts go to the origin', async () => {
    const { bal, nodes } = await scene.setup(['honest']);
    await visitPublished(bal, '/page', { host: SCENE_HOST });
    const before = nodes[0]?.requests.length ?? 0;
    expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST, headers: { cookie: 'sid=1' } })).headers['x-verity-node']).toBe('origin');
    expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST, headers: { authorization: 'Bearer x' } })).headers['x-verity-node']).toBe('origin');
    expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST, headers: { 'service-worker': 'script' } })).headers['x-verity-node']).toBe('origin');
    expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST, method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).headers['x-verity-node']).toBe('origin');
    expect(nodes[0]?.requests.length).toBe(before);
  });

  it('--public restricts further: only matching URLs may be node-served', async () => {
    const { bal, nodes, siteId } = await scene.setup(['honest']);
    await db.pool.query("UPDATE sites SET public_routes = '{/app.js,/static/**}' WHERE id = $1", [siteId]);
    await waitFor(() => bal.balancer.runtime.table.siteById(siteId)?.isPublic !== null);
    await visitPublished(bal, '/app.js', { host: SCENE_HOST });
    for (let i = 0; i < 4; i++) expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node']).toBe('origin');
    expect(nodes[0]?.requests.every((q) => q.url === '/app.js')).toBe(true);
  });
});

describe('nodes supply bytes, the origin supplies the metadata', () => {
  it('a node\'s MIME type, year-long max-age and own ETag never reach a visitor', async () => {
    const { bal, ids } = await scene.setup(['relabel']);
    const r = await visitPublished(bal, '/app.js', { host: SCENE_HOST });
    expect(r.headers['x-verity-node']).toBe(ids[0]);
    expect(r.headers['content-type']).toBe('text/javascript');
    expect(r.headers['cache-control']).toBe('public, max-age=300');
    expect(r.headers.etag).not.toBe('"node-own-etag"');
    expect(Number(r.headers.age)).toBeLessThan(300);
  });

  it.each(['status-204', 'status-304'] as const)('a node answering %s where the origin has bytes: the visitor gets the origin\'s bytes', async (mode) => {
    const { bal, ids } = await scene.setup([mode]);
    for (let i = 0; i < 4; i++) {
      const r = await visit(bal.publicUrl, '/app.js', { host: SCENE_HOST });
      expect(r.status).toBe(200);
      expect(r.text).toContain('hello from the origin');
      expect(r.headers['x-verity-node']).not.toBe(ids[0]);
      await bal.balancer.revalidator.settled();
    }
  });

  it('weakened security headers and cookies from a node never reach the visitor; the node is struck', async () => {
    const { bal, ids } = await scene.setup(['weak-headers']);
    const r = await visitPublished(bal, '/', { host: SCENE_HOST });
    expect(r.headers['x-verity-node']).toBe(ids[0]);
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(r.headers['content-security-policy']).toBe("default-src 'self'");
    for (const h of ['clear-site-data', 'alt-svc', 'access-control-allow-origin', 'refresh', 'link']) expect(r.headers[h], h).toBeUndefined();
    await bal.balancer.runtime.strikes.flush();
    const { rows } = await db.pool.query("SELECT reason FROM trust_events WHERE node_id = $1 AND kind = 'header_strike'", [ids[0]]);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('conditional requests and HEAD are answered from the origin\'s metadata, no node involved', async () => {
    const { bal, nodes } = await scene.setup(['honest']);
    const r = await visitPublished(bal, '/app.js', { host: SCENE_HOST });
    const before = nodes[0]?.requests.length ?? 0;
    const cond = await visit(bal.publicUrl, '/app.js', { host: SCENE_HOST, headers: { 'if-none-match': String(r.headers.etag) } });
    expect(cond.status).toBe(304);
    const head = await visit(bal.publicUrl, '/app.js', { host: SCENE_HOST, method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(r.body.length));
    expect(nodes[0]?.requests.length).toBe(before);
  });
});

describe('every stable byte is verified', () => {
  it('a node that swaps the bytes of any type gets them to no visitor, and is struck', async () => {
    for (const [path, asset] of Object.entries(PUBLISHED_KINDS)) scene.origin.set(path.split('?')[0] ?? path, asset);
    const { bal, ids } = await scene.setup(['honest']);
    for (const path of Object.keys(PUBLISHED_KINDS)) await visitPublished(bal, path, { host: SCENE_HOST });
    const rogue = await startHostileNode({ origin: scene.origin.url, mode: 'tamper' });
    scene.track(rogue);
    const { rows: [site] } = await db.pool.query<{ id: string }>('SELECT id::text AS id FROM sites WHERE host = $1', [SCENE_HOST]);
    await db.pool.query("UPDATE nodes SET status = 'quarantined' WHERE id = $1", [ids[0]]);
    const rogueId = await insertTestNode(db.pool, { url: rogue.url, siteIds: [site?.id ?? ''] });
    await waitFor(() => bal.balancer.runtime.table.node(rogueId) !== undefined && bal.balancer.runtime.table.node(ids[0] ?? '')?.status === 'quarantined');
    for (const [path, asset] of Object.entries(PUBLISHED_KINDS)) {
      const r = await visit(bal.publicUrl, path, { host: SCENE_HOST });
      expect(sha(r.body), path).toBe(sha(asset.body));
      expect(r.headers['x-verity-node'], path).toBe('origin');
    }
    // Its first mismatches are unambiguous: it is quarantined and gets no more traffic.
    expect(rogue.requests.length).toBeGreaterThan(0);
    await bal.balancer.runtime.strikes.flush();
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM trust_events WHERE node_id = $1 AND kind = 'integrity_mismatch'", [rogueId]);
    expect(rows[0]?.n).toBeGreaterThan(0);
  });

  it('an honest node\'s bytes of any type and size are served by it, verified', async () => {
    for (const [path, asset] of Object.entries(PUBLISHED_KINDS)) scene.origin.set(path.split('?')[0] ?? path, asset);
    const { bal, ids } = await scene.setup(['honest']);
    for (const [path, asset] of Object.entries(PUBLISHED_KINDS)) {
      const r = await visitPublished(bal, path, { host: SCENE_HOST });
      expect(r.headers['x-verity-node'], path).toBe(ids[0]);
      expect(sha(r.body), path).toBe(sha(asset.body));
    }
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM trust_events WHERE node_id = $1', [ids[0]]);
    expect(rows[0]?.n).toBe(0);
  });
});

describe('the origin\'s own answers', () => {
  it('an origin 5xx reaches the visitor as the origin sent it and counts against no node', async () => {
    const { bal, ids } = await scene.setup(['honest']);
    await visitPublished(bal, '/page', { host: SCENE_HOST });
    scene.origin.set('/broken', { body: '<h1>our own error page</h1>', type: 'text/html', status: 503, headers: { 'retry-after': '30', 'x-owner-header': 'kept' } });
    const r = await visit(bal.publicUrl, '/broken', { host: SCENE_HOST });
    expect(r.status).toBe(503);
    expect(r.text).toContain('our own error page');
    expect(r.headers['retry-after']).toBe('30');
    expect(r.headers['x-owner-header']).toBe('kept');
    expect(bal.balancer.runtime.outlier.isEjected(ids[0] ?? '', Date.now())).toBe(false);
  });

  it('a POST that succeeds makes the balancer forget the URL and every node serving the site drop it', async () => {
    const { bal, nodes } = await scene.setup(['honest', 'honest']);
    await visitPublished(bal, '/page', { host: SCENE_HOST });
    const r = await visit(bal.publicUrl, '/page', { host: SCENE_HOST, method: 'POST', body: 'comment=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBeLessThan(400);
    expect((await visit(bal.publicUrl, '/page', { host: SCENE_HOST })).headers['x-verity-node']).toBe('origin');
    for (const n of nodes) {
      const inv = await waitFor(() => n.requests.find((q) => q.method === 'POST' && q.url === '/.well-known/verity/invalidate'), 1_000);
      expect(inv.headers['x-verity-request-auth']).toMatch(/^v1,t=\d+,s=[0-9a-f]{64}$/);
    }
  });
});

describe('pages whose bytes change on their own', () => {
  it('are served by the origin by default, and by nodes (sampled) only when the owner chose so', async () => {
    let n = 0;
    const { bal, nodes, siteId } = await scene.setup(['honest']);
    scene.origin.set('/news', { body: () => `<html><body>news ${++n}</body></html>`, type: 'text/html' });
    for (let i = 0; i < 5; i++) {
      expect((await visit(bal.publicUrl, '/news', { host: SCENE_HOST })).headers['x-verity-node']).toBe('origin');
      await bal.balancer.revalidator.settled();
    }
    expect(nodes[0]?.requests.filter((q) => q.url === '/news')).toHaveLength(0);
    await db.pool.query("UPDATE sites SET dynamic_policy = 'sampled' WHERE id = $1", [siteId]);
    await waitFor(() => bal.balancer.runtime.table.siteById(siteId)?.dynamicPolicy === 'sampled');
    const r = await visit(bal.publicUrl, '/news', { host: SCENE_HOST });
    expect(r.headers['x-verity-node']).not.toBe('origin');
    expect(r.headers.etag).toBeUndefined();
  });
});

describe('staleness', () => {
  it('a stale URL is asked again with its validators: a 304 keeps a node serving it, a change reaches the visitor from the origin', async () => {
    scene.origin.set('/feed.xml', { body: '<rss>one</rss>', type: 'application/rss+xml', headers: { 'cache-control': 'public, max-age=1' } });
    const { bal, ids } = await scene.setup(['honest']);
    await visitPublished(bal, '/feed.xml', { host: SCENE_HOST });
    await new Promise((r) => setTimeout(r, 1_200));
    const before = scene.origin.requests.length;
    const again = await visit(bal.publicUrl, '/feed.xml', { host: SCENE_HOST });
    expect(again.headers['x-verity-node']).toBe(ids[0]);
    expect(again.text).toBe('<rss>one</rss>');
    const asked = scene.origin.requests.slice(before).filter((q) => q.headers['x-forwarded-for'] !== undefined);
    expect(asked.map((q) => q.headers['if-none-match'])).toContain('"14"');
    scene.origin.set('/feed.xml', { body: '<rss>two, longer</rss>', type: 'application/rss+xml', headers: { 'cache-control': 'public, max-age=1' } });
    await new Promise((r) => setTimeout(r, 1_200));
    const changed = await visit(bal.publicUrl, '/feed.xml', { host: SCENE_HOST });
    expect(changed.headers['x-verity-node']).toBe('origin');
    expect(changed.text).toBe('<rss>two, longer</rss>');
  });
});
