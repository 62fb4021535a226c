import { AUDIT_PIN_HEADER, signAuditPin } from '../../common/protocol/audit-pin.js';
import { headerValue, type HttpClient, type HttpResult } from './http-client.js';
import { browserHeaders } from './request-headers.js';
import type { Destination, VisitorProfile } from './visitor-profile.js';

// Where an audit's requests go. The node is reached through the balancer's public address with
// a signed pin (production), or directly (tests before the balancer exists); the origin directly.
// Every fetcher sends the same visitor's browser headers.

export interface FetchedResource extends HttpResult {
  /** X-Verity-Node of the answer, when a balancer answered. */
  servedBy: string | null;
  /** The node answered a returning visitor's conditional request with 304: the body is the origin's. */
  notModified?: boolean;
}

/** What the audit's visitor brings to each request beyond its browser: where it came from, what it has cached. */
export interface VisitContext {
  /** Referer of the page navigation (a page of the site, for a visitor clicking through it). */
  documentReferer?: string | null;
  /** Validators of copies a returning visitor holds (subresources only). */
  validators?: (path: string) => { etag?: string; lastModified?: string } | null;
}

function shape(profile: VisitorProfile, host: string, destination: Destination, transportSecure: boolean, referer: string | undefined, ctx: VisitContext, path: string) {
  const conditional = profile.returning && destination !== 'document' ? (ctx.validators?.(path) ?? null) : null;
  return { host, destination, secure: profile.secure ?? transportSecure, referer: referer ?? (destination === 'document' ? (ctx.documentReferer ?? undefined) : undefined), conditional };
}

/** Fetches a path of the site as the audit's visitor would (destination picks the Accept set). */
export type PageFetcher = (path: string, destination: Destination, referer?: string) => Promise<FetchedResource>;

export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
}

function hostOf(url: string): string {
  return new URL(url).host;
}

export function createOriginFetcher(client: HttpClient, originUrl: string, profile: VisitorProfile, limits: FetchLimits): PageFetcher {
  const host = hostOf(originUrl);
  const secure = originUrl.startsWith('https:');
  // Never conditional: the origin's answer is the reference, and must come whole.
  const plain: VisitorProfile = { ...profile, returning: false };
  return async (path, destination, referer) => {
    const headers = browserHeaders(plain, shape(plain, host, destination, secure, referer, {}, path));
    const res = await client.get({ url: new URL(path, originUrl).href, headers, ...limits });
    return { ...res, servedBy: 'origin' };
  };
}

export interface BalancerTarget {
  balancerUrl: string;
  siteHost: string;
  nodeId: string;
  auditSecret: string;
  /** Whether visitors reach the site over https (shapes the header set). */
  secure: boolean;
  now?: () => number;
}

export function createBalancerFetcher(client: HttpClient, t: BalancerTarget, profile: VisitorProfile, limits: FetchLimits, ctx: VisitContext = {}): PageFetcher {
  const now = t.now ?? Date.now;
  return async (path, destination, referer) => {
    const headers = browserHeaders(profile, shape(profile, t.siteHost, destination, t.secure, referer, ctx, path));
    const pin = signAuditPin(t.auditSecret, { nodeId: t.nodeId, host: t.siteHost, path, clientIp: profile.clientIp }, now());
    headers.push([AUDIT_PIN_HEADER, pin]);
    const res = await client.get({ url: new URL(path, t.balancerUrl).href, headers, ...limits });
    return { ...res, servedBy: headerValue(res.headers, 'x-verity-node') ?? null };
  };
}

/** Straight to a node's own address with the site's Host (tests, and nodes reached without a balancer). */
export function createDirectNodeFetcher(client: HttpClient, nodeUrl: string, siteHost: string, profile: VisitorProfile, limits: FetchLimits, ctx: VisitContext = {}): PageFetcher {
  return async (path, destination, referer) => {
    const headers = browserHeaders(profile, shape(profile, siteHost, destination, false, referer, ctx, path));
    const res = await client.get({ url: new URL(path, nodeUrl).href, headers, ...limits });
    return { ...res, servedBy: null };
  };
}

/**
 * A returning visitor's 304 means "your copy is current": the browser shows its cached copy. The
 * audit shows the origin's (it holds no other), and compares nothing for that file.
 */
export function withCachedCopies(node: PageFetcher, origin: PageFetcher): PageFetcher {
  return async (path, destination, referer) => {
    const r = await node(path, destination, referer);
    if (r.status !== 304) return r;
    const o = await origin(path, destination, referer);
    return { ...o, servedBy: r.servedBy, notModified: true };
  };
}

/**
 * One answer per path for the whole audit: the HTTP checks and the browser share it, so the
 * node sees one page load (document, then its resources), like a visitor's.
 */
export function memoize(fetcher: PageFetcher): PageFetcher {
  const cache = new Map<string, Promise<FetchedResource>>();
  return (path, destination, referer) => {
    const hit = cache.get(path);
    if (hit) return hit;
    const p = fetcher(path, destination, referer);
    cache.set(path, p);
    return p;
  };
}
