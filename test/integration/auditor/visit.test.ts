import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditMemory } from '../../../auditor/checks/run-audit.js';
import { createHttpClient, type HttpClient } from '../../../auditor/fetch/http-client.js';
import { SitePages } from '../../../auditor/fetch/site-pages.js';
import { auditOne, type WorkerDeps } from '../../../auditor/worker.js';
import { claimAudits } from '../../../common/db/queries/audits.js';
import { defaultTrustPolicy } from '../../../common/domain/trust.js';
import { silentLogger } from '../../../common/log.js';
import { useTestDatabase } from '../../support/db.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { makeNode, makeSite } from '../../support/auditor/fixtures.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// Issue 15.2 against a real node, a real origin and real PostgreSQL: what the node sees of an
// audit is a visit like its visitors' — a file only ever loaded by a page that names it, a
// click-through from a page that links to the audited one, each file asked once per visit, and
// the visitor going on to other pages as the node's visitors do.

const db = useTestDatabase();
let origin: SampleOrigin;
let node: RogueNode;
let client: HttpClient;
const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

beforeEach(async () => {
  origin = await startSampleOrigin();
  node = await startRogueNode({ originUrl: origin.url, kind: null });
  client = createHttpClient();
});

afterEach(async () => {
  client.close();
  await node.close();
  await origin.close();
});

/** The node's traffic as the balancer sampled it: page views (`clicks` of them by a link) and the files they loaded. */
async function sampleTraffic(siteId: string, nodeId: string, clicks: number, entries: number): Promise<void> {
  const rows: Array<[string, string]> = [];
  const views = ['/', '/products', '/news', '/news/1', '/about'];
  for (let i = 0; i < clicks + entries; i++) rows.push([views[i % views.length] ?? '/', i < clicks ? 'same-origin' : 'none']);
  for (let i = 0; i < 3 * (clicks + entries); i++) rows.push([['/static/site.css', '/static/app.js', '/static/logo.png'][i % 3] ?? '/', 'same-origin']);
  // Sent over HTTPS to a balancer behind a TLS-terminating proxy: the balancer saw plain HTTP.
  await db.pool.query(
    `INSERT INTO visitor_samples (site_id, node_id, path, user_agent, accept_language, sec_fetch_site, secure)
     SELECT $1, $2, p, $3, 'de-DE,de;q=0.9', s, false FROM unnest($4::text[], $5::text[]) AS t(p, s)`,
    [siteId, nodeId, chrome, rows.map((r) => r[0]), rows.map((r) => r[1])],
  );
}

/** One audit of `url`, and the rest of its visit; what the node saw of it, in order. */
async function audit(siteId: string, nodeId: string, url: string, seed: number) {
  await db.pool.query("INSERT INTO audits (node_id, site_id, url, reason) VALUES ($1, $2, $3, 'rescan')", [nodeId, siteId, url]);
  const [job] = await claimAudits(db.pool, 'test', 1, new Date(Date.now() + 60_000));
  if (!job) throw new Error('no audit to claim');
  const visits: Array<Promise<void>> = [];
  const deps: WorkerDeps = {
    pool: db.pool, log: silentLogger(), client, render: null, balancer: null, concurrency: 1, auditEveryMs: 3_600_000,
    renderSettings: { loadTimeoutMs: 5000, settleMs: 100, stepTimeoutMs: 5000 }, limits: { timeoutMs: 5000, maxBytes: 5_000_000 }, auditTimeoutMs: 20_000,
    pollMs: 100, random: seededRandom(seed), now: () => new Date(), trustPolicy: async () => defaultTrustPolicy, thinkTimeMs: [20, 60],
    memory: createAuditMemory(), sitePages: new SitePages(), keep: (v) => visits.push(v),
  };
  const from = node.stats.seen.length;
  const run = await auditOne(deps, job);
  await Promise.all(visits);
  const seen = node.stats.seen.slice(from).map((s) => {
    const h = new Map<string, string>();
    for (let i = 0; i < s.rawHeaders.length; i += 2) h.set((s.rawHeaders[i] ?? '').toLowerCase(), s.rawHeaders[i + 1] ?? '');
    return { path: s.path, dest: h.get('sec-fetch-dest'), site: h.get('sec-fetch-site'), referer: h.get('referer') ?? null, accept: h.get('accept') ?? '' };
  });
  return { run, seen };
}

const isFile = (path: string) => path.startsWith('/static/');

describe('an audit is a visit', () => {
  it('loads an audited file with a page that names it, never navigating to it, and asks each file once', async () => {
    const site = await makeSite(db.pool, { origin: origin.url });
    const nodeId = await makeNode(db.pool, { siteId: site.id, publicUrl: node.url, status: 'active' });
    await sampleTraffic(site.id, nodeId, 30, 30);
    for (const seed of [1, 2, 3, 4]) {
      const { run, seen } = await audit(site.id, nodeId, '/static/app.js', seed);
      expect(run.verdict).toBe('pass');
      expect(seen[0]?.dest).toBe('document');
      expect(isFile(seen[0]?.path ?? '')).toBe(false);
      expect(seen.filter((s) => s.path === '/static/app.js')).toEqual([expect.objectContaining({ dest: 'script', accept: '*/*', site: 'same-origin' })]);
      // The page it came with is among the pages that name the file, and no file is ever a navigation.
      expect((await fetch(`${origin.url}${seen[0]?.path ?? ''}`).then((r) => r.text()))).toContain('src="/static/app.js"');
      expect(seen.filter((s) => isFile(s.path) && (s.dest === 'document' || s.accept.startsWith('text/html')))).toEqual([]);
      const files = seen.filter((s) => isFile(s.path)).map((s) => s.path);
      expect(new Set(files).size).toBe(files.length);
    }
  });

  it('clicks through from a page that links to the audited one, and browses on, in visits as long as the node\'s visitors\'', async () => {
    const site = await makeSite(db.pool, { origin: origin.url });
    const nodeId = await makeNode(db.pool, { siteId: site.id, publicUrl: node.url, status: 'active' });
    // All page views were clicks: visits run as long as the site lets them, the audited page anywhere in them.
    await sampleTraffic(site.id, nodeId, 60, 0);
    let clickedThrough = 0;
    for (const seed of [5, 6, 7]) {
      const { run, seen } = await audit(site.id, nodeId, '/news/1', seed);
      expect(run.verdict).toBe('pass');
      const docs = seen.filter((s) => s.dest === 'document');
      expect(docs.length).toBeGreaterThan(1);
      const at = docs.findIndex((d) => d.path === '/news/1');
      expect(at).toBeGreaterThanOrEqual(0);
      if (at > 0) {
        clickedThrough++;
        expect(docs[at - 1]?.path).toBe('/news');
        expect(docs[at]).toMatchObject({ site: 'same-origin', referer: 'https://shop.example/news' });
      } else expect(docs[0]).toMatchObject({ site: 'none', referer: null });
      // Every page after follows a link, and every file is asked once in the visit.
      for (let i = 1; i < docs.length; i++) expect(await fetch(`${origin.url}${docs[i - 1]?.path ?? ''}`).then((r) => r.text())).toContain(`href="${docs[i]?.path ?? ''}"`);
      const files = seen.filter((s) => isFile(s.path)).map((s) => s.path);
      expect(new Set(files).size).toBe(files.length);
    }
    expect(clickedThrough).toBeGreaterThan(0);
  });

  it('with visitors who all arrive from outside, the audited page is the visit\'s only page view', async () => {
    const site = await makeSite(db.pool, { origin: origin.url });
    const nodeId = await makeNode(db.pool, { siteId: site.id, publicUrl: node.url, status: 'active' });
    await sampleTraffic(site.id, nodeId, 0, 60);
    for (const seed of [8, 9]) {
      const { run, seen } = await audit(site.id, nodeId, '/about', seed);
      expect(run.verdict).toBe('pass');
      expect(seen.filter((s) => s.dest === 'document')).toEqual([expect.objectContaining({ path: '/about', site: 'none', referer: null })]);
    }
  });
});
