import { extractFeatures, subresourcePaths, type DocumentContext, type Feature } from '../compare/document.js';
import { changeFindings, diffFeatures, learn, type Learned } from '../compare/features-diff.js';
import { compareHttp, securityHeaders, type HeaderDiff } from '../compare/http.js';
import type { OriginHistory } from '../compare/origin-history.js';
import type { Finding } from '../compare/types.js';
import type { VolatilityMemory } from '../compare/volatility-memory.js';
import type { FetchedResource, PageFetcher } from '../fetch/fetchers.js';
import { headerValue } from '../fetch/http-client.js';
import type { Destination } from '../fetch/visitor-profile.js';
import { checkSubresources } from './subresources.js';

// The cheap checks: HTTP, document, subresources. They need no browser.

export interface AuditTarget {
  siteHost: string;
  originUrl: string;
  /** Path and query of the page. */
  path: string;
  /** When set, the answer must say it came from this node (X-Verity-Node), else the audit proves nothing. */
  nodeId?: string | null;
  /** How visitors reach the site (shapes Referer and the page URL the browser sees); default http. */
  scheme?: 'http' | 'https';
  /** How a browser asks for it: a page is a document (the default), a file as the page that loads it does. */
  destination?: Destination;
}

export function pageUrlOf(t: AuditTarget): string {
  return `${t.scheme ?? 'http'}://${t.siteHost}${t.path}`;
}

export interface StaticOutcome {
  state: 'compared' | 'unreachable' | 'inconclusive';
  reason: string;
  findings: Finding[];
  headersDiff: HeaderDiff[];
  originSamples: FetchedResource[];
  node: FetchedResource | null;
  isHtml: boolean;
  subresourcesChecked: number;
  documentContext: DocumentContext;
  /** When the node serves an earlier origin version: that version (the rendered check compares with it). */
  staleVersion?: string | null;
}

const isHtmlResponse = (r: FetchedResource) => (headerValue(r.headers, 'content-type') ?? '').includes('html');

async function fetchOrigin(origin: PageFetcher, path: string, n: number, destination: Destination = 'document'): Promise<FetchedResource[]> {
  const out: FetchedResource[] = [];
  // One after the other, as two separate visits: parallel fetches would share a timestamp.
  for (let i = 0; i < n; i++) out.push(await origin(path, destination));
  return out;
}

function documentContext(t: AuditTarget): DocumentContext {
  return { pageUrl: pageUrlOf(t), siteHosts: [t.siteHost.toLowerCase(), new URL(t.originUrl).host.toLowerCase()] };
}

function documentFindings(samples: FetchedResource[], node: FetchedResource, ctx: DocumentContext, memory: PageMemory | null): { findings: Finding[]; originFeatures: Feature[]; learned: Learned } {
  const features = samples.map((s) => extractFeatures(s.body.toString('utf8'), ctx));
  const nodeFeatures = extractFeatures(node.body.toString('utf8'), ctx);
  const learned = learn(features);
  memory?.memory.remember(memory.page, learned);
  memory?.memory.apply(memory.page, learned);
  return { findings: changeFindings(diffFeatures(learned, nodeFeatures)), originFeatures: features[0] ?? [], learned };
}

/** How long an earlier origin version excuses a node's copy (caches serve what they fetched). */
export const staleWindowMs = 15 * 60_000;

/**
 * The node's document equals a version the origin served recently: its text exactly (modulo what
 * is known to vary), its code and URLs modulo the variance the origin shows now (a state script
 * whose length varies on every fetch varied then too).
 */
function matchingRecentVersion(answer: FetchedResource, samples: readonly FetchedResource[], ctx: DocumentContext, memory: PageMemory, now: number): string | null {
  const nodeFeatures = extractFeatures(answer.body.toString('utf8'), ctx);
  const current = samples.map((s) => extractFeatures(s.body.toString('utf8'), ctx));
  return memory.memory.versionsSince(memory.page, now - staleWindowMs).find((html) => {
    const old = extractFeatures(html, ctx);
    const learned = learn([old]);
    const withCurrent = learn([old, ...current]);
    for (const [k, l] of learned) {
      const c = withCurrent.get(k);
      if (l.shape !== 'text' && c) learned.set(k, c);
    }
    memory.memory.apply(memory.page, learned);
    return diffFeatures(learned, nodeFeatures).length === 0;
  }) ?? null;
}

/** A page's entry in the process-wide volatility memory. */
export interface PageMemory {
  memory: VolatilityMemory;
  page: string;
}

export function pageMemory(memory: VolatilityMemory | null | undefined, t: AuditTarget): PageMemory | null {
  return memory ? { memory, page: `${t.siteHost}${t.path}` } : null;
}

export interface StaticOptions {
  extraOriginFetches?: number;
  memory?: VolatilityMemory | null;
  /** What the origin said for each URL in earlier audits (headers, subresource digests). */
  history?: OriginHistory | null;
  now?: () => number;
}

/** Headers the HTTP comparison judges (their history is kept per URL). */
const historyHeaders = [...securityHeaders];

export async function runStaticChecks(t: AuditTarget, node: PageFetcher, origin: PageFetcher, opts: StaticOptions = {}): Promise<StaticOutcome> {
  const ctx = documentContext(t);
  const empty = { findings: [], headersDiff: [], node: null, isHtml: false, subresourcesChecked: 0, documentContext: ctx };
  let samples: FetchedResource[];
  try {
    samples = await fetchOrigin(origin, t.path, 2, t.destination);
  } catch (err) {
    return { ...empty, state: 'inconclusive', reason: `origin unreachable: ${(err as Error).message}`, originSamples: [] };
  }
  let answer: FetchedResource;
  try {
    answer = await node(t.path, t.destination ?? 'document');
  } catch (err) {
    return { ...empty, state: 'unreachable', reason: `node unreachable: ${(err as Error).message}`, originSamples: samples };
  }
  if (t.nodeId && answer.servedBy !== t.nodeId) {
    const reason = answer.status >= 502 && answer.status <= 504 ? 'unreachable' : 'inconclusive';
    return { ...empty, state: reason, reason: `answer came from ${answer.servedBy ?? 'unknown'}, not the pinned node (status ${answer.status})`, originSamples: samples, node: answer };
  }
  const originStatus = samples[0]?.status ?? 0;
  if (answer.status >= 502 && answer.status <= 504 && originStatus < 500) {
    return { ...empty, state: 'unreachable', reason: `node answered ${answer.status}`, originSamples: samples, node: answer };
  }
  const siteHosts = ctx.siteHosts;
  const url = `${t.siteHost}${t.path}`;
  const history = opts.history ?? null;
  for (const o of samples) history?.rememberResponse(url, o.headers, historyHeaders);
  const http = compareHttp(samples, answer, siteHosts, {
    viaBalancer: Boolean(t.nodeId),
    history: history ? { headerVaries: (name) => history.headerVaries(url, name), headerComesAndGoes: (name) => history.headerComesAndGoes(url, name), cookieNames: history.cookieNames(url) } : undefined,
  });
  const html = samples.every(isHtmlResponse) && isHtmlResponse(answer);
  let findings = [...http.findings];
  let subresourcesChecked = 0;
  let staleNote = '';
  let staleVersion: string | null = null;
  if (html) {
    const memory = pageMemory(opts.memory, t);
    let doc = documentFindings(samples, answer, ctx, memory);
    if (doc.findings.length > 0) {
      // Suspicious: learn harder what the origin changes on its own before accusing anyone.
      samples = [...samples, ...(await fetchOrigin(origin, t.path, opts.extraOriginFetches ?? 5, t.destination).catch(() => []))];
      doc = documentFindings(samples, answer, ctx, memory);
    }
    staleVersion = doc.findings.length > 0 && memory ? matchingRecentVersion(answer, samples, ctx, memory, opts.now?.() ?? Date.now()) : null;
    if (staleVersion !== null) {
      doc = { ...doc, findings: [] };
      staleNote = 'the node serves an earlier version the origin itself served recently (a stale cache)';
    }
    memory?.memory.rememberVersion(memory.page, samples[0]?.body.toString('utf8') ?? '', opts.now?.() ?? Date.now());
    findings = [...findings, ...doc.findings];
    const sub = await checkSubresources(subresourcePaths(doc.originFeatures), node, origin, ctx.pageUrl, { history, site: t.siteHost, now: opts.now ?? Date.now });
    findings = [...findings, ...sub.findings];
    subresourcesChecked = sub.checked;
  }
  return { state: 'compared', reason: staleNote, findings, headersDiff: http.headersDiff, originSamples: samples, node: answer, isHtml: html, subresourcesChecked, documentContext: ctx, staleVersion };
}
