import { describe, expect, it } from 'vitest';
import { brandList, majorOf, secChUa } from '../../../auditor/fetch/client-hints.js';
import { browserHeaders } from '../../../auditor/fetch/request-headers.js';
import { drawVisitor, visitorFromSample, type SampledVisitor } from '../../../auditor/fetch/visitor-profile.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// Issue 15.1: audits look like the visitors of that node: their country's language, their
// browser at the version of the Chromium that renders the audit, how they arrived, whether they
// come back, and the headers browsers send only over HTTPS when visitors use HTTPS.

const sample = (o: Partial<SampledVisitor>): SampledVisitor => ({ path: '/products', country: 'DE', acceptLanguage: null, userAgent: null, secFetchSite: null, conditional: false, secure: false, ...o });
const chromeOld = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';

describe('client hints', () => {
  it('computes the brand list as Chromium does (GREASE and order seeded by the major version)', () => {
    // Chrome 131's real header, and Debian Chromium 156's navigator.userAgentData.brands.
    expect(secChUa(brandList(131, 'Google Chrome'))).toBe('"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"');
    expect(brandList(156, null)).toEqual([{ brand: 'Not:A-Brand', version: '8' }, { brand: 'Chromium', version: '156' }]);
    expect(majorOf('HeadlessChrome/156.0.8078.114')).toBe(156);
  });
});

describe('profiles from the node\'s traffic', () => {
  const random = seededRandom(3);
  it('a Chrome visitor is claimed at the rendering Chromium\'s version, UA and Sec-CH-UA agreeing', () => {
    const v = visitorFromSample(sample({ userAgent: chromeOld, acceptLanguage: 'de-DE,de;q=0.9', secure: true, secFetchSite: 'same-origin' }), random, 156);
    expect(v?.userAgent).toContain('Chrome/156.0.0.0');
    expect(v?.userAgent).toContain('Windows NT 10.0');
    const headers = Object.fromEntries(browserHeaders(v ?? drawVisitor(random), { host: 'shop.example', destination: 'document', secure: v?.secure ?? false }));
    expect(headers['sec-ch-ua']).toBe(secChUa(brandList(156, 'Google Chrome')));
    expect(headers['Sec-Fetch-Site']).toBe('same-origin');
    expect(headers['Accept-Language']).toBe('de-DE,de;q=0.9');
  });

  it('other browsers keep their own user agent and send no client hints', () => {
    const v = visitorFromSample(sample({ userAgent: firefox, secure: true }), random, 156);
    expect(v?.userAgent).toBe(firefox);
    const names = browserHeaders(v ?? drawVisitor(random), { host: 'shop.example', destination: 'document', secure: true }).map(([k]) => k);
    expect(names).not.toContain('sec-ch-ua');
    expect(names).toContain('Sec-Fetch-Site');
  });

  it("a country without a language header gets that country's language; junk is never replayed", () => {
    expect(visitorFromSample(sample({ userAgent: chromeOld, country: 'FR', acceptLanguage: null }), random, 156)?.acceptLanguage).toMatch(/^fr/);
    expect(visitorFromSample(sample({ userAgent: chromeOld, country: 'JP', acceptLanguage: 'x\r\nX-Evil: 1' }), random, 156)?.acceptLanguage).toMatch(/^ja/);
    expect(visitorFromSample(sample({ userAgent: 'curl/8.0' }), random, 156)).toBeNull();
  });

  it('a visitor whose browser sent Sec-Fetch-* came over HTTPS, though the balancer behind a TLS-terminating proxy saw plain HTTP', () => {
    const names = (s: SampledVisitor) => {
      const v = visitorFromSample(s, random, 156);
      return browserHeaders(v ?? drawVisitor(random), { host: 'shop.example', destination: 'document', secure: v?.secure ?? false }).map(([k]) => k);
    };
    expect(names(sample({ userAgent: chromeOld, secure: false, secFetchSite: 'cross-site' }))).toEqual(expect.arrayContaining(['Sec-Fetch-Site', 'sec-ch-ua']));
    // No Sec-Fetch-* and a plain socket: a plain-HTTP visitor, and so is the audit.
    expect(names(sample({ userAgent: chromeOld, secure: false, secFetchSite: null }))).not.toContain('Sec-Fetch-Site');
    // A junk value is no browser's.
    expect(names(sample({ userAgent: chromeOld, secure: false, secFetchSite: 'x' }))).not.toContain('sec-ch-ua');
  });

  it('returning visitors send conditional requests for what they have; new ones do not', () => {
    const back = visitorFromSample(sample({ userAgent: chromeOld, conditional: true }), random, 156);
    expect(back?.returning).toBe(true);
    const names = (p: typeof back, conditional: { etag: string }) => browserHeaders(p ?? drawVisitor(random), { host: 'shop.example', destination: 'script', secure: false, conditional }).map(([k]) => k);
    expect(names(back, { etag: '"abc"' })).toContain('If-None-Match');
  });

  it('the mix follows the node\'s traffic: mostly its visitors\' browsers and languages', () => {
    const samples = [...Array.from({ length: 8 }, () => sample({ userAgent: firefox, acceptLanguage: 'pl-PL,pl;q=0.9' })), ...Array.from({ length: 2 }, () => sample({ userAgent: chromeOld, country: 'US' }))];
    const drawn = Array.from({ length: 500 }, () => drawVisitor(random, samples, 156));
    const firefoxShare = drawn.filter((v) => v.family === 'firefox').length / drawn.length;
    expect(firefoxShare).toBeGreaterThan(0.7);
    expect(firefoxShare).toBeLessThan(0.9);
    const polish = drawn.filter((v) => v.acceptLanguage.startsWith('pl')).length / drawn.length;
    expect(polish).toBeGreaterThan(0.7);
    expect(polish).toBeLessThan(0.9);
  });

  it('draws browser and language from two visitors apart: pairs the node has not seen yet come as often as the mix makes them', () => {
    const browsers = [chromeOld, firefox];
    const languages = ['de-DE,de;q=0.9', 'pl-PL,pl;q=0.9'];
    // Every sampled visitor so far was a Chrome in German or a Firefox in Polish.
    const samples = Array.from({ length: 40 }, (_, i) => sample({ userAgent: browsers[i % 2], acceptLanguage: languages[i % 2] }));
    const drawn = Array.from({ length: 400 }, () => drawVisitor(random, samples, 156));
    const unseen = drawn.filter((v) => (v.family === 'firefox') !== v.acceptLanguage.startsWith('pl')).length / drawn.length;
    expect(unseen).toBeGreaterThan(0.4);
    expect(unseen).toBeLessThan(0.6);
  });
});
