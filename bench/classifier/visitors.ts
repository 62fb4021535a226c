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

/** Where a page points a browser: stylesheets, scripts, images and icons of the same site. */
function referenced(html: string): Array<{ path: string; dest: Dest }> {
  const out = new Map<string, Dest>();
  for (const m of html.matchAll(/<link[^>]*rel="(stylesheet|icon)"[^>]*href="(\/[^"]*)"/g)) out.set(m[2] ?? '', m[1] === 'stylesheet' ? 'style' : 'image');
  for (const m of html.matchAll(/<script[^>]*src="(\/[^"]*)"/g)) out.set(m[1] ?? '', 'script');
  for (const m of html.matchAll(/<img[^>]*src="(\/[^"]*)"/g)) out.set(m[1] ?? '', 'image');
  return [...out].map(([path, dest]) => ({ path, dest }));
}

export interface VisitorTraffic {
  log: VisitorRequestLog[];
  stop(): Promise<void>;
}

export interface TrafficOptions {
  balancerUrl: string;
  host: string;
  pages: readonly string[];
  sessionsPerSecond: number;
  /** The Chromium version current visitors run (that of the auditor's browser, once it has started). */
  chromiumMajor: () => number;
  random: () => number;
  /** Told of every answer a node served (what the balancer records for the auditor). */
  onServed: (path: string, headers: Record<string, string>, country: string, servedBy: string) => void;
}

export function startVisitorTraffic(o: TrafficOptions): VisitorTraffic {
  const log: VisitorRequestLog[] = [];
  let stopped = false;
  const running = new Set<Promise<void>>();
  const get = (v: Visitor, agent: Agent, path: string, dest: Dest, site: string, referer: string | null) => new Promise<string>((resolve) => {
    const headers = visitorHeaders(v, o.host, dest, site, referer);
    log.push({ path, userAgent: v.ua, acceptLanguage: v.language, sentMs: performance.now() });
    const req = httpRequest(new URL(path, o.balancerUrl), { headers: headers.flat(), agent, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const servedBy = String(res.headers['x-verity-node'] ?? 'origin');
        if (servedBy !== 'origin') o.onServed(path, Object.fromEntries(headers.map(([k, val]) => [k.toLowerCase(), val])), v.country, servedBy);
        resolve(dest === 'document' ? Buffer.concat(chunks).toString('utf8') : '');
      });
      res.on('error', () => resolve(''));
    });
    req.on('error', () => resolve(''));
    req.end();
  });
  const zipf = o.pages.map((p, i) => ({ p, weight: 1 / (i + 1) }));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const session = async () => {
    const browser = pick(browsers, o.random);
    const country = pick(countries, o.random);
    const major = o.chromiumMajor();
    const v: Visitor = { browser, ua: browser.ua(major), language: country.languages[Math.floor(o.random() * country.languages.length)] ?? 'en', country: country.code, major };
    const agent = new Agent({ keepAlive: true, maxSockets: 6 });
    let page = pick(zipf, o.random).p;
    let site = o.random() < 0.55 ? 'none' : 'cross-site';
    let referer: string | null = null;
    // The browser's cache: what one page loaded, the next page of the session does not ask again.
    const cached = new Set<string>();
    for (let views = 0; views < 6 && !stopped; views++) {
      const html = await get(v, agent, page, 'document', site, referer);
      await sleep(5 + o.random() * 25);
      const refs = referenced(html).filter((r) => !cached.has(r.path));
      for (const r of refs) cached.add(r.path);
      await Promise.all(refs.map((r) => get(v, agent, r.path, r.dest, 'same-origin', `https://${o.host}${page}`)));
      if (o.random() < 0.45) break;
      await sleep(-Math.log(1 - o.random()) * 3000);
      referer = `https://${o.host}${page}`;
      page = pick(zipf, o.random).p;
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
