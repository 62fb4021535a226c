import { describe, expect, it } from 'vitest';
import { UrlSampler, visitorSampleOf } from '../../../balancer/background/url-samples.js';
import { listNewUrls, listVisitorSamples } from '../../../common/db/queries/visitor-samples.js';
import { silentLogger } from '../../../common/log.js';
import { drawVisitor } from '../../../auditor/fetch/visitor-profile.js';
import { makeNode, makeSite } from '../../support/auditor/fixtures.js';
import { seededRandom } from '../../support/auditor/seeded.js';
import { useTestDatabase } from '../../support/db.js';

// Issue 15.1: the balancer samples the traffic mix (per request: site, URL, node, country,
// Accept-Language, User-Agent, arrival, returning or not; never the address), bounded, and the
// auditor builds its visitors and pages from it. Real PostgreSQL.

const db = useTestDatabase();

describe('visitor samples', () => {
  it('records the mix per node, bounded and cleaned, and the auditor draws its visitors from it', async () => {
    const site = await makeSite(db.pool, { origin: 'http://127.0.0.1:9' });
    const node = await makeNode(db.pool, { siteId: site.id, publicUrl: 'http://127.0.0.1:9' });
    await db.pool.query("INSERT INTO visitor_samples (site_id, node_id, path, at) VALUES ($1, $2, '/old', now() - interval '25 hours')", [site.id, node]);
    const sampler = new UrlSampler({ pool: db.pool, log: silentLogger(), random: seededRandom(5), flushMs: 3_600_000 });
    const ua = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';
    for (let i = 0; i < 500; i++) {
      sampler.record(site.id, `/p/${i % 7}`, visitorSampleOf({ 'user-agent': ua, 'accept-language': 'pl-PL,pl;q=0.9\u0000', 'if-none-match': '"x"', 'sec-fetch-site': 'same-origin', cookie: 'secret' }, node, 'PL', true));
    }
    await sampler.close();
    const { rows } = await db.pool.query<Record<string, unknown>>('SELECT * FROM visitor_samples WHERE node_id = $1', [node]);
    // At most 200 kept per flush; rows older than 24 hours are gone.
    expect(rows.length).toBe(200);
    expect(rows.some((r) => r.path === '/old')).toBe(false);
    expect(rows[0]).toMatchObject({ country: 'PL', accept_language: 'pl-PL,pl;q=0.9', user_agent: ua, sec_fetch_site: 'same-origin', conditional: true, secure: true });
    expect(JSON.stringify(rows)).not.toContain('secret');
    expect(await listNewUrls(db.pool, site.id, 60_000)).toHaveLength(7);
    const samples = await listVisitorSamples(db.pool, site.id, node);
    expect(samples.every((s) => s.own)).toBe(true);
    const v = drawVisitor(seededRandom(1), samples, 156);
    expect(v).toMatchObject({ family: 'firefox', userAgent: ua, acceptLanguage: 'pl-PL,pl;q=0.9', navigation: 'same-origin', secure: true, returning: true });
  });
});
