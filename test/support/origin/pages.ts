// Pages of the sample origin: a small shop with news, a contact form and a private account area.
// Dynamic parts (the CSRF token, the CSP nonce, the generation time, the rotating quote) change
// on every request, as they do on real sites.

export interface PageContext {
  csrfToken: string;
  nonce: string;
  generatedAt: string;
  quote: string;
  path: string;
  /** Product ids this visitor looked at: a state script whose length varies between fetches. */
  recentlyViewed: number[];
}

export const quotes = [
  'Simplicity is prerequisite for reliability.',
  'The best way to predict the future is to invent it.',
  'Premature optimization is the root of all evil.',
  'Programs must be written for people to read.',
  'Make it work, make it right, make it fast.',
  'There is no place like 127.0.0.1 for a test.',
  'Weeks of coding can save you hours of planning.',
  'Talk is cheap. Show me the code.',
];

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function layout(ctx: PageContext, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${esc(title)} · Sample Shop</title>
  <link rel="stylesheet" href="/static/site.css">
  <link rel="icon" href="/static/logo.png">
  <style nonce="${ctx.nonce}">.js-badge { font-size: small; color: #555; }</style>
  <script nonce="${ctx.nonce}">window.__shop = { page: ${JSON.stringify(ctx.path)} };</script>
  <script nonce="${ctx.nonce}">window.__state = ${JSON.stringify({ recentlyViewed: ctx.recentlyViewed.map((id) => ({ id, seen: true })), currency: 'EUR' })};</script>
</head>
<body>
  <header>
    <img src="/static/logo.png" alt="Sample Shop logo">
    <nav><a href="/">Home</a><a href="/products">Products</a><a href="/news">News</a><a href="/about">About</a><a href="/contact">Contact</a><a href="/account">My account</a></nav>
    <span class="js-badge">scripts on</span>
    <noscript><p>Turn on JavaScript to see stock levels.</p></noscript>
  </header>
  <p class="promo" data-message="Free delivery on orders over €100."></p>
  <main>
${body}
    <p class="quote">“${esc(ctx.quote)}”</p>
  </main>
  <footer>
    <p>Page generated at ${ctx.generatedAt}. © <span id="year">2025</span> Sample Shop Ltd.</p>
  </footer>
  <script src="/static/app.js" defer></script>
</body>
</html>
`;
}

const products = [
  { name: 'Walnut desk', price: '249.00', qty: 4 },
  { name: 'Linen lamp', price: '59.90', qty: 12 },
  { name: 'Oak shelf', price: '119.50', qty: 0 },
];

function home(ctx: PageContext): string {
  return layout(ctx, 'Welcome', `    <h1>Welcome to Sample Shop</h1>
    <p>Hand-made furniture shipped from our workshop since 1998.</p>
    <img class="hero" src="/static/hero.png" alt="Our workshop">
    <p class="notice">We will never ask for your password by e-mail. Pay only on this site.</p>
    <h2>Featured</h2>
    <p>The <a href="/products">Walnut desk</a> is now <span class="price">€249.00</span>.</p>
    <h2>Newsletter</h2>
    <form action="/newsletter" method="post">
      <input type="hidden" name="csrf" value="${ctx.csrfToken}">
      <label>E-mail <input type="email" name="email" required></label>
      <button type="submit">Subscribe</button>
    </form>`);
}

function productsPage(ctx: PageContext): string {
  const rows = products.map((p) => `      <tr data-qty="${p.qty}"><td>${p.name}</td><td class="price">€${p.price}</td></tr>`).join('\n');
  return layout(ctx, 'Products', `    <h1>Products</h1>
    <table>
      <tr><th>Item</th><th>Price</th></tr>
${rows}
    </table>
    <p class="notice">Bank transfers go only to IBAN DE44 5001 0517 5407 3249 31.</p>
    <form action="/pay" method="post" class="pay">
      <input type="hidden" name="payee" value="DE44 5001 0517 5407 3249 31">
      <label>Amount <input name="amount" value="249.00"></label>
      <label>Reference <input name="reference" value="SHOP-ORDER" readonly></label>
      <button type="submit">Pay by transfer</button>
    </form>
    <p><a href="/static/catalogue.pdf">Download the catalogue</a></p>`);
}

function about(ctx: PageContext): string {
  return layout(ctx, 'About', `    <h1>About us</h1>
    <p>We are a family workshop of six people in a small town.</p>
    <p>Every piece is oiled by hand and checked twice before it leaves.</p>
    <p>We do not sell or share your data with anyone.</p>`);
}

function news(ctx: PageContext): string {
  return layout(ctx, 'News', `    <h1>News</h1>
    <article><h2><a href="/news/1">New oak range</a></h2><p>Our oak range is back in stock after a long winter.</p></article>
    <article><h2><a href="/news/2">Workshop open day</a></h2><p>Visit us on the first Saturday of every month.</p></article>`);
}

function newsItem(ctx: PageContext, n: string): string {
  return layout(ctx, `News ${n}`, `    <h1>News item ${esc(n)}</h1>
    <p>This is article number ${esc(n)}. Opening hours are 9:00 to 17:00 on weekdays.</p>
    <p><a href="/news">Back to all news</a></p>`);
}

function contact(ctx: PageContext): string {
  return layout(ctx, 'Contact', `    <h1>Contact</h1>
    <form action="/contact" method="post" id="contact">
      <input type="hidden" name="csrf" value="${ctx.csrfToken}">
      <label>Name <input name="name"></label>
      <label>Message <textarea name="message"></textarea></label>
      <button type="submit">Send</button>
    </form>
    <p>Or call us on +49 30 1234567.</p>`);
}

function login(ctx: PageContext, failed: boolean): string {
  return layout(ctx, 'Sign in', `    <h1>Sign in</h1>${failed ? '\n    <p class="notice">Wrong user name or password.</p>' : ''}
    <form action="/login" method="post">
      <input type="hidden" name="csrf" value="${ctx.csrfToken}">
      <label>User <input name="user"></label>
      <label>Password <input type="password" name="password"></label>
      <button type="submit">Sign in</button>
    </form>`);
}

function account(ctx: PageContext, user: string): string {
  return layout(ctx, 'My account', `    <h1>Hello, ${esc(user)}</h1>
    <p>Your saved address: 12 Private Lane, 10115 Berlin.</p>
    <p>Your last order: Walnut desk, paid.</p>`);
}

export const publicPages: Record<string, (ctx: PageContext) => string> = {
  '/': home,
  '/products': productsPage,
  '/about': about,
  '/news': news,
  '/news/1': (c) => newsItem(c, '1'),
  '/news/2': (c) => newsItem(c, '2'),
  '/contact': contact,
};

export const privatePages = { login, account };

export function sitemap(base: string): string {
  const urls = [...Object.keys(publicPages)].map((p) => `  <url><loc>${base}${p}</loc></url>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls}\n</urlset>\n`;
}
