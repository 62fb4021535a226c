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
  return async (path, destination, referer) => {
    const headers = browserHeaders(profile, { host, destination, secure, referer });
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

export function createBalancerFetcher(client: HttpClient, t: BalancerTarget, profile: VisitorProfile, limits: FetchLimits): PageFetcher {
  const now = t.now ?? Date.now;
  return async (path, destination, referer) => {
    const headers = browserHeaders(profile, { host: t.siteHost, destination, secure: t.secure, referer });
    const pin = signAuditPin(t.auditSecret, { nodeId: t.nodeId, host: t.siteHost, path, clientIp: profile.clientIp }, now());
    headers.push([AUDIT_PIN_HEADER, pin]);
    const res = await client.get({ url: new URL(path, t.balancerUrl).href, headers, ...limits });
    return { ...res, servedBy: headerValue(res.headers, 'x-verity-node') ?? null };
  };
}

/** Straight to a node's own address with the site's Host (tests, and nodes reached without a balancer). */
export function createDirectNodeFetcher(client: HttpClient, nodeUrl: string, siteHost: string, profile: VisitorProfile, limits: FetchLimits): PageFetcher {
  return async (path, destination, referer) => {
    const headers = browserHeaders(profile, { host: siteHost, destination, secure: false, referer });
    const res = await client.get({ url: new URL(path, nodeUrl).href, headers, ...limits });
    return { ...res, servedBy: null };
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
