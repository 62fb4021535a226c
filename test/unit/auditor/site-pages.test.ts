import { describe, expect, it } from 'vitest';
import { auditLookups, destinationOfType, pageInfoOf, SitePages, type PageInfo } from '../../../auditor/fetch/site-pages.js';

// What the origin says each URL of a site is (issue 15.2's visit plan): learned from the origin,
// remembered a few minutes per process, and asked of the origin a bounded number of times per audit.

const page: PageInfo = { page: true, destination: 'document', links: [], files: [] };

describe('what the origin says a URL is', () => {
  it('a page gives its same-site links and the files a browser loads with it; a file its destination; an error nothing', () => {
    const html = '<html><head><link rel="stylesheet" href="/s.css"><script src="/a.js"></script><script src="https://cdn.example/x.js"></script></head>'
      + '<body><a href="/news#top">n</a><a href="https://elsewhere.example/">x</a><img src="/i.png"></body></html>';
    const info = pageInfoOf({ status: 200, headers: [['Content-Type', 'text/html']], body: Buffer.from(html) }, { pageUrl: 'http://shop.example/', siteHosts: ['shop.example'] });
    expect(info?.links).toEqual(['/news']);
    expect(info?.files).toEqual(expect.arrayContaining([{ path: '/s.css', destination: 'style' }, { path: '/a.js', destination: 'script' }, { path: '/i.png', destination: 'image' }]));
    expect(info?.files.some((f) => f.path.includes('cdn'))).toBe(false);
    expect(pageInfoOf({ status: 200, headers: [['content-type', 'application/javascript']], body: Buffer.from('1') }, { pageUrl: 'http://shop.example/', siteHosts: [] })).toMatchObject({ page: false, destination: 'script' });
    expect(pageInfoOf({ status: 302, headers: [['content-type', 'text/html']], body: Buffer.from('') }, { pageUrl: 'http://shop.example/', siteHosts: [] })).toBeNull();
    expect(['text/css', 'image/webp', 'font/woff2', 'application/json'].map(destinationOfType)).toEqual(['style', 'image', 'font', 'other']);
  });

  it('is remembered for its time to live, and the oldest entries go first past the bound', async () => {
    const pages = new SitePages(1000, 2);
    let loads = 0;
    const load = async () => {
      loads++;
      return page;
    };
    await pages.info('s /', 0, load);
    await pages.info('s /', 900, load);
    expect(loads).toBe(1);
    expect(pages.has('s /', 1001)).toBe(false);
    await pages.info('s /', 1001, load);
    expect(loads).toBe(2);
    await pages.info('s /a', 1002, load);
    await pages.info('s /b', 1003, load);
    expect([pages.has('s /', 1004), pages.has('s /a', 1004), pages.has('s /b', 1004)]).toEqual([false, true, true]);
  });

  it('one audit asks the origin about at most its budget of new paths; known paths cost nothing', async () => {
    const pages = new SitePages();
    const asked: string[] = [];
    const load = async (path: string) => {
      asked.push(path);
      return page;
    };
    const first = auditLookups(pages, 'site', load, 2, () => 0);
    expect(await Promise.all(['/a', '/b', '/c'].map(first))).toEqual([page, page, undefined]);
    const second = auditLookups(pages, 'site', load, 2, () => 10);
    expect(await Promise.all(['/a', '/b', '/c', '/d', '/e'].map(second))).toEqual([page, page, page, page, undefined]);
    expect(asked).toEqual(['/a', '/b', '/c', '/d']);
    // Another site's same path is another URL.
    expect(await auditLookups(pages, 'other', load, 0, () => 10)('/a')).toBeUndefined();
  });
});
