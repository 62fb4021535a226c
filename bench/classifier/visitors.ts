import { Agent, request as httpRequest } from 'node:http';

// The balancer's real visitor traffic, simulated: browsers with their own header sets and order,
// visitors from several countries with their languages, sessions that enter from outside and click
// through the site, page loads that fetch the document and then what it references. Written
// apart from the auditor's own visitor code, so the bench does not compare the auditor with itself.

export interface VisitorRequestLog {
  path: string;
  userAgent: string;
  acceptLanguage: string;
  sentMs: number;
}

interface Browser {
  weight: number;
  ua: (major: number) => string;
  chromium: 'Google Chrome' | 'Microsoft Edge' | null;
  platform: string;
  mobile: boolean;
  order: 'chromium' | 'firefox' | 'safari';
}

const browsers: Browser[] = [
  { weight: 35, chromium: 'Google Chrome', platform: '"Windows"', mobile: false, order: 'chromium', ua: (m) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${m}.0.0.0 Safari/537.36` },
  { weight: 10, chromium: 'Google Chrome', platform: '"macOS"', mobile: false, order: 'chromium', ua: (m) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${m}.0.0.0 Safari/537.36` },
  { weight: 20, chromium: 'Google Chrome', platform: '"Android"', mobile: true, order: 'chromium', ua: (m) => `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${m}.0.0.0 Mobile Safari/537.36` },
  { weight: 7, chromium: 'Microsoft Edge', platform: '"Windows"', mobile: false, order: 'chromium', ua: (m) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${m}.0.0.0 Safari/537.36 Edg/${m}.0.0.0` },
  { weight: 8, chromium: null, platform: '', mobile: false, order: 'firefox', ua: () => 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0' },
  { weight: 8, chromium: null, platform: '', mobile: false, order: 'safari', ua: () => 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15' },
  { weight: 12, chromium: null, platform: '', mobile: true, order: 'safari', ua: () => 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1' },
];

const countries: Array<{ weight: number; code: string; languages: string[] }> = [
  { weight: 30, code: 'US', languages: ['en-US,en;q=0.9'] },
  { weight: 15, code: 'DE', languages: ['de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7', 'de-DE,de;q=0.9'] },
  { weight: 10, code: 'GB', languages: ['en-GB,en-US;q=0.9,en;q=0.8'] },
  { weight: 10, code: 'FR', languages: ['fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7'] },
  { weight: 8, code: 'BR', languages: ['pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7'] },
  { weight: 7, code: 'JP', languages: ['ja,en-US;q=0.9,en;q=0.8'] },
  { weight: 10, code: 'IN', languages: ['en-IN,en-GB;q=0.9,en-US;q=0.8,en;q=0.7', 'hi-IN,hi;q=0.9,en;q=0.8'] },
  { weight: 5, code: 'PL', languages: ['pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7'] },
  { weight: 5, code: 'ES', languages: ['es-ES,es;q=0.9'] },
];

function pick<T extends { weight: number }>(items: readonly T[], random: () => number): T {
  let r = random() * items.reduce((s, i) => s + i.weight, 0);
  for (const i of items) if ((r -= i.weight) < 0) return i;
  return items[items.length - 1] as T;
}

/** Chromium's GREASE brand list (the same facts the browser itself uses). */
function secChUa(major: number, brand: string): string {
  const chars = [' ', '(', ':', '-', '.', '/', ')', ';', '=', '?', '_'];
  const grease = `"Not${chars[major % 11] ?? ' '}A${chars[(major + 1) % 11] ?? ' '}Brand";v="${['8', '99', '24'][major % 3] ?? '99'}"`;
  const order = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]][major % 6] ?? [0, 1, 2];
  const out: string[] = ['', '', ''];
  out[order[0] ?? 0] = grease;
  out[order[1] ?? 1] = `"Chromium";v="${major}"`;
  out[order[2] ?? 2] = `"${brand}";v="${major}"`;
  return out.join(', ');
}

type Dest = 'document' | 'style' | 'script' | 'image';
const accept: Record<Browser['order'], Record<Dest, string>> = {
  chromium: { document: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7', style: 'text/css,*/*;q=0.1', script: '*/*', image: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8' },
  firefox: { document: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', style: 'text/css,*/*;q=0.1', script: '*/*', image: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5' },
  safari: { document: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', style: 'text/css,*/*;q=0.1', script: '*/*', image: 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5' },
};

interface Visitor {
  browser: Browser;
  ua: string;
  language: string;
  country: string;
  major: number;
}

/** A browser's request headers over HTTPS, in that browser's order. */
export function visitorHeaders(v: Visitor, host: string, dest: Dest, site: string, referer: string | null): Array<[string, string]> {
  const fetchMeta: Array<[string, string]> = dest === 'document'
    ? [['Sec-Fetch-Site', site], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-User', '?1'], ['Sec-Fetch-Dest', 'document']]
    : [['Sec-Fetch-Site', 'same-origin'], ['Sec-Fetch-Mode', 'no-cors'], ['Sec-Fetch-Dest', dest]];
  const ref: Array<[string, string]> = referer ? [['Referer', referer]] : [];
  const b = v.browser;
  if (b.order === 'chromium') {
    return [['Host', host], ['Connection', 'keep-alive'], ['sec-ch-ua', secChUa(v.major, b.chromium ?? 'Google Chrome')], ['sec-ch-ua-mobile', b.mobile ? '?1' : '?0'], ['sec-ch-ua-platform', b.platform],
      ...(dest === 'document' ? [['Upgrade-Insecure-Requests', '1'] as [string, string]] : []), ['User-Agent', v.ua], ['Accept', accept.chromium[dest]], ...fetchMeta, ...ref,
      ['Accept-Encoding', 'gzip, deflate, br, zstd'], ['Accept-Language', v.language]];
  }
  if (b.order === 'firefox') {
    return [['Host', host], ['User-Agent', v.ua], ['Accept', accept.firefox[dest]], ['Accept-Language', v.language], ['Accept-Encoding', 'gzip, deflate, br, zstd'], ...ref, ['Connection', 'keep-alive'],
      ...(dest === 'document' ? [['Upgrade-Insecure-Requests', '1'] as [string, string]] : []), ...fetchMeta, ['Priority', dest === 'document' ? 'u=0, i' : dest === 'style' ? 'u=2' : 'u=4']];
  }
  return [['Host', host], ...fetchMeta.filter(([k]) => k !== 'Sec-Fetch-User'), ['Accept', accept.safari[dest]], ['Accept-Language', v.language], ...(dest === 'document' ? [['Upgrade-Insecure-Requests', '1'] as [string, string]] : []),
    ['User-Agent', v.ua], ...ref, ['Accept-Encoding', 'gzip, deflate'], ['Connection', 'keep-alive']];
}

/**
 * What a browser loads with a page, in the order it asks: the preload scanner finds stylesheets,
 * scripts and images in document order and asks for them at once; the page's icon (or
 * /favicon.ico when it names none) comes after. Same-site files only.
 */
export function referenced(html: string): Array<{ path: string; dest: Dest }> {
  const out = new Map<string, Dest>();
  let icon: string | null = null;
  for (const m of html.matchAll(/<(link|script|img)\b([^>]*)>/g)) {
    const attrs = m[2] ?? '';
    const value = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1] ?? null;
    const src = m[1] === 'link' ? value('href') : value('src');
    if (!src?.startsWith('/')) continue;
    const rel = value('rel') ?? '';
    if (m[1] === 'link' && /(^|\s)icon(\s|$)/.test(rel)) icon ??= src;
    else if (m[1] === 'link' && rel === 'stylesheet' && !out.has(src)) out.set(src, 'style');
    else if (m[1] === 'script' && !out.has(src)) out.set(src, 'script');
    else if (m[1] === 'img' && !out.has(src)) out.set(src, 'image');
  }
  const last = icon ?? '/favicon.ico';
  if (!out.has(last)) out.set(last, 'image');
  return [...out].map(([path, dest]) => ({ path, dest }));
}

/** Same-site pages a page links to, among those the bench's visitors browse. */
export function links(html: string, pages: readonly string[]): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(/<a\b[^>]*\shref="(\/[^"#]*)/g)) if (pages.includes(m[1] ?? '')) out.add(m[1] ?? '');
  return [...out];
}

/** How long a browser may reuse an answer without asking again (Cache-Control max-age; none for no-store or no-cache). */
export function freshForMs(cacheControl: string | undefined): number {
  const cc = (cacheControl ?? '').toLowerCase();
  if (/(^|[\s,])(no-store|no-cache)([\s,=]|$)/.test(cc)) return 0;
  return Number(/(?:^|[\s,])max-age=(\d+)/.exec(cc)?.[1] ?? 0) * 1000;
}

export interface VisitorTraffic {
  log: VisitorRequestLog[];
  stop(): Promise<void>;
}

export interface TrafficOptions {
  balancerUrl: string;
  host: string;
  /** The site's public pages: where visitors land, weighted by rank (Zipf), and which links they follow. */
  pages: readonly string[];
  sessionsPerSecond: number;
  /** The Chromium version current visitors run (that of the auditor's browser, once it has started). */
  chromiumMajor: () => number;
  random: () => number;
}

/** After each page view a visitor clicks on with this probability (so 45 % of visits are one page; mean 2.2 pages). */
export const continuation = 0.55;
const maxPageViews = 6;

interface Answer {
  body: string;
  freshMs: number;
}

export function startVisitorTraffic(o: TrafficOptions): VisitorTraffic {
  const log: VisitorRequestLog[] = [];
  let stopped = false;
  const running = new Set<Promise<void>>();
  const get = (v: Visitor, agent: Agent, path: string, dest: Dest, site: string, referer: string | null) => new Promise<Answer>((resolve) => {
    const headers = visitorHeaders(v, o.host, dest, site, referer);
    log.push({ path, userAgent: v.ua, acceptLanguage: v.language, sentMs: performance.now() });
    const req = httpRequest(new URL(path, o.balancerUrl), { headers: headers.flat(), agent, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ body: dest === 'document' ? Buffer.concat(chunks).toString('utf8') : '', freshMs: res.statusCode === 200 ? freshForMs(res.headers['cache-control']) : 0 }));
      res.on('error', () => resolve({ body: '', freshMs: 0 }));
    });
    req.on('error', () => resolve({ body: '', freshMs: 0 }));
    req.end();
  });
  const rank = (list: readonly string[]) => list.map((p) => ({ p, weight: 1 / (o.pages.indexOf(p) + 1) }));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const session = async () => {
    const browser = pick(browsers, o.random);
    const country = pick(countries, o.random);
    const major = o.chromiumMajor();
    const v: Visitor = { browser, ua: browser.ua(major), language: country.languages[Math.floor(o.random() * country.languages.length)] ?? 'en', country: country.code, major };
    const agent = new Agent({ keepAlive: true, maxSockets: 6 });
    let page = pick(rank(o.pages), o.random).p;
    let site = o.random() < 0.55 ? 'none' : 'cross-site';
    let referer: string | null = null;
    // The browser's HTTP cache: an answer is reused, unasked, while its Cache-Control says it is fresh.
    const cache = new Map<string, { until: number; body: string }>();
    const fetchCached = async (path: string, dest: Dest, fetchSite: string, ref: string | null) => {
      const hit = cache.get(path);
      if (hit && hit.until > performance.now()) return hit.body;
      const a = await get(v, agent, path, dest, fetchSite, ref);
      if (a.freshMs > 0) cache.set(path, { until: performance.now() + a.freshMs, body: a.body });
      return a.body;
    };
    for (let views = 0; views < maxPageViews && !stopped; views++) {
      const fresh = cache.has(page) && (cache.get(page)?.until ?? 0) > performance.now();
      const html = await fetchCached(page, 'document', site, referer);
      if (!fresh) await sleep(5 + o.random() * 25);
      const pageUrl = `https://${o.host}${page}`;
      await Promise.all(referenced(html).map((r) => fetchCached(r.path, r.dest, 'same-origin', pageUrl)));
      const next = links(html, o.pages);
      if (next.length === 0 || o.random() >= continuation) break;
      await sleep(-Math.log(1 - o.random()) * 3000);
      referer = pageUrl;
      page = pick(rank(next), o.random).p;
      site = 'same-origin';
    }
    agent.destroy();
  };
  const loop = async () => {
    while (!stopped) {
      const p = session().catch(() => undefined).finally(() => running.delete(p));
      running.add(p);
      await sleep(-Math.log(1 - o.random()) * (1000 / o.sessionsPerSecond));
    }
  };
  const main = loop();
  return {
    log,
    async stop() {
      stopped = true;
      await main;
      await Promise.allSettled([...running]);
    },
  };
}
