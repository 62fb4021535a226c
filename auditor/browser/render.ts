import { createHash } from 'node:crypto';
import type { Browser, CDPSession, HTTPRequest, Page } from 'puppeteer';
import { withDeadline } from '../deadline.js';
import type { Destination, VisitorProfile } from '../fetch/visitor-profile.js';
import { observerLogExpression, observerSource, observerWorld, type MutationRecordEntry } from './observer.js';
import { pageSource } from './page-source.js';
import { stealthScript, stealthSettings } from './stealth.js';

// One rendered page in a fresh, isolated context. Every request the page makes is intercepted:
// the site's own host is answered by `fetchSite` (through the pinned node, or the origin), and
// everything else is blocked and listed. The browser itself never opens a connection.

export interface SiteAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

export type SiteFetch = (path: string, destination: Destination, referer: string) => Promise<SiteAnswer>;

export interface BlockedRequest {
  url: string;
  type: string;
  reason: 'third-party' | 'navigation' | 'local-file' | 'websocket' | 'worker' | 'download' | 'popup' | 'scheme' | 'csp';
}

export interface RenderOutput {
  screenshot: Buffer;
  dom: string;
  /** Every host the page tried to reach (the site's own included). */
  contactedHosts: string[];
  blocked: BlockedRequest[];
  resources: Array<{ path: string; type: string; status: number; sha256: string }>;
  /** What the page's scripts changed after DOMContentLoaded (isolated-world MutationObserver). */
  mutations: MutationRecordEntry[];
  /** Site resources that could not be fetched (the page may not have run as it should). */
  failedLoads: string[];
}

export interface RenderJob {
  /** The page as visitors see it: http(s)://<site host>/<path>. */
  pageUrl: string;
  fetchSite: SiteFetch;
  profile: VisitorProfile;
  /** Time for navigation and load. */
  loadTimeoutMs: number;
  /** Time given to the page's scripts after load, in virtual time (timers run ahead, so a 5 s delayed rewrite takes milliseconds). */
  settleMs: number;
  /** Time for each later step (DOM, screenshot). */
  stepTimeoutMs: number;
}

const destinations: Record<string, Destination> = { document: 'document', script: 'script', stylesheet: 'style', image: 'image', font: 'font' };
const dropHeaders = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'set-cookie']);

function respondHeaders(headers: Array<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) {
    const name = k.toLowerCase();
    if (dropHeaders.has(name)) continue;
    out[name] = out[name] ? `${out[name]}, ${v}` : v;
  }
  return out;
}

interface Recorder {
  hosts: Set<string>;
  blocked: BlockedRequest[];
  resources: RenderOutput['resources'];
  failedLoads: string[];
  /** The observer's isolated world in the main frame, once created. */
  observerContext: number | null;
}

async function onRequest(req: HTTPRequest, job: RenderJob, site: URL, rec: Recorder, first: { done: boolean }): Promise<void> {
  const raw = req.url();
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return req.abort('blockedbyclient');
  }
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return req.continue();
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    rec.blocked.push({ url: raw.slice(0, 300), type: req.resourceType(), reason: u.protocol === 'file:' ? 'local-file' : 'scheme' });
    return req.abort('blockedbyclient');
  }
  rec.hosts.add(u.host);
  const isMainNav = req.isNavigationRequest() && req.frame() === req.frame()?.page().mainFrame();
  if (u.host !== site.host || (isMainNav && first.done)) {
    rec.blocked.push({ url: raw.slice(0, 300), type: req.resourceType(), reason: isMainNav ? 'navigation' : 'third-party' });
    return req.abort('blockedbyclient');
  }
  if (isMainNav) first.done = true;
  const path = `${u.pathname}${u.search}`;
  const answer = await job.fetchSite(path, destinations[req.resourceType()] ?? 'other', job.pageUrl).catch((err: unknown) => {
    rec.failedLoads.push(path);
    throw err;
  });
  if (answer.status >= 500) rec.failedLoads.push(path);
  const headers = respondHeaders(answer.headers);
  if (/attachment/i.test(headers['content-disposition'] ?? '')) rec.blocked.push({ url: raw.slice(0, 300), type: req.resourceType(), reason: 'download' });
  rec.resources.push({ path, type: req.resourceType(), status: answer.status, sha256: createHash('sha256').update(answer.body).digest('hex') });
  return req.respond({ status: answer.status, headers, body: answer.body });
}

/** What navigator.userAgentData and high-entropy client hints say: the same brands as the Sec-CH-UA the node saw. */
function userAgentMetadata(p: RenderJob['profile']) {
  const brands = p.brands ?? [];
  const platform = p.platform.startsWith('Win') ? 'Windows' : p.platform === 'MacIntel' ? 'macOS' : p.mobile ? 'Android' : 'Linux';
  return {
    brands, fullVersionList: brands.map((b) => ({ brand: b.brand, version: `${b.version}.0.0.0` })),
    platform, platformVersion: platform === 'Windows' ? '10.0.0' : platform === 'macOS' ? '10.15.7' : platform === 'Android' ? '10.0.0' : '', architecture: p.mobile ? '' : 'x86', model: p.mobile ? 'K' : '', mobile: p.mobile, bitness: p.mobile ? '' : '64', wow64: false,
  };
}

async function preparePage(page: Page, job: RenderJob, rec: Recorder): Promise<void> {
  const p = job.profile;
  await page.setUserAgent({ userAgent: p.userAgent, platform: p.platform, ...(p.brands ? { userAgentMetadata: userAgentMetadata(p) } : {}) });
  await page.setViewport({ width: p.viewport.width, height: p.viewport.height, isMobile: p.mobile, hasTouch: p.mobile, deviceScaleFactor: 1 });
  await page.evaluateOnNewDocument(pageSource(stealthScript, stealthSettings(p)));
  await page.setRequestInterception(true);
  page.on('dialog', (d) => void d.dismiss().catch(() => undefined));
  page.on('console', (m) => {
    const text = m.text();
    if (/Not allowed to load local resource/i.test(text)) rec.blocked.push({ url: text.replace(/^.*resource:\s*/i, '').slice(0, 300), type: 'navigation', reason: 'local-file' });
    // The page's own CSP refused a load: the page still tried to reach that host.
    const refused = /Content Security Policy/i.test(text) ? /'(https?:\/\/[^']+|wss?:\/\/[^']+)'/.exec(text) : null;
    if (refused?.[1]) {
      try {
        const u = new URL(refused[1]);
        rec.hosts.add(u.host);
        rec.blocked.push({ url: u.href.slice(0, 300), type: 'csp', reason: 'csp' });
      } catch {
        // not a URL (an inline script hash): nothing to record
      }
    }
  });
  page.on('workercreated', (w) => rec.blocked.push({ url: w.url().slice(0, 300), type: 'worker', reason: 'worker' }));
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  await watchMutations(page, cdp, rec);
  cdp.on('Network.webSocketCreated', (e) => {
    rec.blocked.push({ url: e.url.slice(0, 300), type: 'websocket', reason: 'websocket' });
    try {
      rec.hosts.add(new URL(e.url).host);
    } catch {
      // not a URL: nothing to add
    }
  });
}

/** The observer runs in an isolated world: the page cannot see it, tamper with it or detect it. */
async function watchMutations(page: Page, cdp: CDPSession, rec: Recorder): Promise<void> {
  await cdp.send('Page.enable');
  const mainFrameId = (await cdp.send('Page.getFrameTree')).frameTree.frame.id;
  cdp.on('Runtime.executionContextCreated', (e) => {
    const aux = e.context.auxData as { frameId?: string } | undefined;
    if (e.context.name === observerWorld && aux?.frameId === mainFrameId) rec.observerContext = e.context.id;
  });
  await cdp.send('Runtime.enable');
  await cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: observerSource(1000), worldName: observerWorld });
  sessions.set(page, cdp);
}

const sessions = new WeakMap<Page, CDPSession>();

/** Runs the page for `budgetMs` of virtual time (network fetches complete first); bounded in real time. */
async function settle(page: Page, budgetMs: number, realMs: number): Promise<void> {
  const cdp = sessions.get(page);
  if (!cdp || budgetMs <= 0) return;
  const expired = new Promise<void>((resolve) => cdp.once('Emulation.virtualTimeBudgetExpired', () => resolve()));
  await cdp.send('Emulation.setVirtualTimePolicy', { policy: 'pauseIfNetworkFetchesPending', budget: budgetMs });
  // A page that keeps fetches pending forever stalls virtual time: read it as it is then.
  await withDeadline(expired, realMs, 'AUD_ERR_RENDER_TIMEOUT', 'settling the page').catch(() => undefined);
}

async function readMutations(page: Page, rec: Recorder): Promise<MutationRecordEntry[]> {
  const cdp = sessions.get(page);
  if (!cdp || rec.observerContext === null) return [];
  const r = await cdp.send('Runtime.evaluate', { expression: observerLogExpression, contextId: rec.observerContext, returnByValue: true });
  const value: unknown = r.result.value;
  return typeof value === 'string' ? (JSON.parse(value) as MutationRecordEntry[]) : [];
}

/** Renders one page; throws on deadline or browser failure (the caller kills and replaces the browser). */
export async function renderPage(browser: Browser, job: RenderJob): Promise<RenderOutput> {
  const site = new URL(job.pageUrl);
  const rec: Recorder = { hosts: new Set(), blocked: [], resources: [], failedLoads: [], observerContext: null };
  const context = await withDeadline(browser.createBrowserContext({ downloadBehavior: { policy: 'deny' } }), job.stepTimeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'opening a browser context');
  try {
    const page = await withDeadline(context.newPage(), job.stepTimeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'opening a page');
    context.on('targetcreated', (t) => {
      if (t.type() !== 'page' || t === page.target()) return;
      rec.blocked.push({ url: t.url().slice(0, 300), type: 'popup', reason: 'popup' });
      void t.page().then((p) => p?.close()).catch(() => undefined);
    });
    await withDeadline(preparePage(page, job, rec), job.stepTimeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'preparing the page');
    const first = { done: false };
    page.on('request', (req) => {
      onRequest(req, job, site, rec, first).catch(() => req.abort('failed').catch(() => undefined));
    });
    await withDeadline(page.goto(job.pageUrl, { waitUntil: 'load', timeout: job.loadTimeoutMs }), job.loadTimeoutMs + 1000, 'AUD_ERR_RENDER_TIMEOUT', 'loading the page');
    await settle(page, job.settleMs, job.stepTimeoutMs);
    const dom = await withDeadline(page.content(), job.stepTimeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'reading the DOM');
    const mutations = await withDeadline(readMutations(page, rec), job.stepTimeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'reading the mutations');
    const screenshot = Buffer.from(await withDeadline(page.screenshot({ type: 'png' }), job.stepTimeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'taking a screenshot'));
    return { screenshot, dom, contactedHosts: [...rec.hosts], blocked: rec.blocked, resources: rec.resources, mutations, failedLoads: rec.failedLoads };
  } finally {
    await withDeadline(context.close(), job.stepTimeoutMs, 'AUD_ERR_RENDER_TIMEOUT', 'closing the context').catch(() => undefined);
  }
}
