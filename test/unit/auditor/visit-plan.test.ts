import { describe, expect, it } from 'vitest';
import { pageInfoOf, type PageInfo } from '../../../auditor/fetch/site-pages.js';
import { defaultContinuation, maxPageViews, planVisit, type VisitSample } from '../../../auditor/fetch/visit-plan.js';
import { staticAssets } from '../../support/origin/index.js';
import { publicPages } from '../../support/origin/pages.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// Issue 15.2: an audit is a visit like those of the node's own visitors. Its length follows how
// often the node's sampled page views were clicks from another page of the site (visits as long
// as theirs, not longer); a page before the audited one links to it; a file is loaded by a page
// that names it, never navigated to.

const ctx = { csrfToken: 't', nonce: 'n', generatedAt: '2026-01-01T00:00:00Z', quote: 'q', recentlyViewed: [] };
const html = (path: string, render: (c: typeof ctx & { path: string }) => string) => ({ status: 200, headers: [['Content-Type', 'text/html; charset=utf-8']] as Array<[string, string]>, body: Buffer.from(render({ ...ctx, path })) });
/** What the sample origin says each of its paths is (its real pages and files). */
const site = new Map<string, PageInfo | null>([
  ...Object.entries(publicPages).map(([path, render]) => [path, pageInfoOf(html(path, render), { pageUrl: `http://shop.example${path}`, siteHosts: ['shop.example'] })] as const),
  ...Object.entries(staticAssets).map(([path, a]) => [path, pageInfoOf({ status: 200, headers: [['Content-Type', a.contentType]], body: a.body }, { pageUrl: 'http://shop.example/', siteHosts: ['shop.example'] })] as const),
]);
const info = async (path: string) => site.get(path) ?? null;

/** The node's sampled traffic: page views arriving from outside or by a click, and the files they loaded. */
function traffic(clicks: number, entries: number): VisitSample[] {
  const views = ['/', '/products', '/news', '/news/1', '/about'];
  const files = ['/static/site.css', '/static/app.js', '/static/logo.png', '/static/hero.png'];
  return [
    ...Array.from({ length: clicks }, (_, i) => ({ path: views[i % views.length] ?? '/', secFetchSite: 'same-origin' })),
    ...Array.from({ length: entries }, (_, i) => ({ path: views[i % views.length] ?? '/', secFetchSite: i % 2 ? 'cross-site' : 'none' })),
    // Many more file requests than page views, all same-origin: they say nothing about clicks.
    ...Array.from({ length: 4 * (clicks + entries) }, (_, i) => ({ path: files[i % files.length] ?? '/', secFetchSite: 'same-origin' })),
  ];
}

/**
 * Visits that go on with probability c after each page view (at most maxPageViews): their mean
 * length, and how often a page taken at random in one is its first (the mean of 1 / length).
 */
function visits(c: number): { mean: number; firstShare: number } {
  let mean = 0;
  let firstShare = 0;
  for (let n = 1; n <= maxPageViews; n++) {
    const p = n < maxPageViews ? (1 - c) * c ** (n - 1) : c ** (n - 1);
    mean += n * p;
    firstShare += p / n;
  }
  return { mean, firstShare };
}

describe('an audit as a visit', () => {
  it('loads an audited file with a page that names it, as the first page of the visit, never as a navigation', async () => {
    const random = seededRandom(1);
    for (let i = 0; i < 50; i++) {
      const plan = await planVisit('/static/app.js', traffic(30, 30), { info, random });
      expect(plan.destination).toBe('script');
      expect(plan.before).toEqual([]);
      expect(site.get(plan.carrier ?? '')?.files.map((f) => f.path)).toContain('/static/app.js');
      expect(['none', 'cross-site']).toContain(plan.entry);
    }
    const hero = await planVisit('/static/hero.png', traffic(30, 30), { info, random });
    expect(hero).toMatchObject({ carrier: '/', destination: 'image' });
  });

  it('visits are as long as the node\'s visitors\' (geometric in their share of clicks), the audited page anywhere in them, each page linking to the next', async () => {
    for (const [clicks, entries] of [[50, 50], [20, 80]] as const) {
      const random = seededRandom(clicks);
      const plans = await Promise.all(Array.from({ length: 600 }, () => planVisit('/news/1', traffic(clicks, entries), { info, random })));
      const lengths = plans.map((p) => p.before.length + 1 + p.after.length);
      const { mean, firstShare } = visits(clicks / 100);
      expect(lengths.reduce((a, b) => a + b, 0) / plans.length).toBeGreaterThan(mean - 0.15);
      expect(lengths.reduce((a, b) => a + b, 0) / plans.length).toBeLessThan(mean + 0.15);
      // Not lengthened around the audited page: it is the visit's first as often as any visit's page is.
      const first = plans.filter((p) => p.before.length === 0).length / plans.length;
      expect(first).toBeGreaterThan(firstShare - 0.06);
      expect(first).toBeLessThan(firstShare + 0.06);
      for (const p of plans) {
        const chain = [...p.before, '/news/1', ...p.after];
        expect(new Set(chain).size).toBe(chain.length);
        expect(chain.length).toBeLessThanOrEqual(maxPageViews);
        for (let i = 1; i < chain.length; i++) expect(site.get(chain[i - 1] ?? '')?.links).toContain(chain[i]);
      }
      // /news/1 is linked from /news only.
      expect(plans.filter((p) => p.before.length > 0).every((p) => p.before[p.before.length - 1] === '/news')).toBe(true);
    }
  });

  it('arrives as the node\'s visitors arrive, and goes on as often as they click', async () => {
    const random = seededRandom(5);
    const plans = await Promise.all(Array.from({ length: 400 }, () => planVisit('/', traffic(50, 50), { info, random })));
    const typed = plans.filter((p) => p.entry === 'none').length / plans.length;
    expect(typed).toBeGreaterThan(0.4);
    expect(typed).toBeLessThan(0.6);
    expect(plans.every((p) => p.entry === 'none' || p.entry === 'cross-site')).toBe(true);
    // The audited page is the visit's last as often as a page of such a visit is.
    const after = plans.filter((p) => p.after.length > 0).length / plans.length;
    expect(after).toBeGreaterThan(1 - visits(0.5).firstShare - 0.06);
    expect(after).toBeLessThan(1 - visits(0.5).firstShare + 0.06);
  });

  it('with no page views to learn from: one page, arriving typed, the default continuation', async () => {
    const random = seededRandom(6);
    const plans = await Promise.all(Array.from({ length: 200 }, () => planVisit('/about', [], { info, random })));
    expect(plans.every((p) => p.before.length === 0 && p.after.length === 0 && p.entry === 'none' && p.destination === 'document')).toBe(true);
    expect(defaultContinuation).toBe(0.5);
    // A path the origin could not say anything about is visited as a page of its own.
    expect(await planVisit('/gone', traffic(10, 10), { info, random })).toMatchObject({ carrier: null, destination: 'document' });
  });
});
