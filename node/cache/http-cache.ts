import { createSingleFlight } from './coalesce.js';
import type { DiskStore, StoredEntry } from './disk-store.js';
import {
  currentAgeMs, hasValidator, isFresh, requestMayUseCache, responseIsStorable, varyMatches, varyNames, varyValues, worthStoring,
} from './freshness.js';
import { getHeader, mergeNotModified, withoutHopByHop, type HeaderPairs, type RequestHeaders } from './http-headers.js';
import type { OriginRequest, OriginResponse } from '../origin-fetch.js';

// The shared cache in front of a site's origin: fresh hit, stale → conditional request → 304,
// miss → one origin request for all concurrent callers, storing only what RFC 9111 allows.

export type CacheStatus = 'HIT' | 'MISS' | 'REVALIDATED' | 'BYPASS';

export interface CacheRequest {
  host: string;
  origin: string;
  method: 'GET' | 'HEAD';
  /** Path and query. */
  path: string;
  /** Visitor's request headers (lower-cased names). */
  headers: RequestHeaders;
  /** Visitor's raw header pairs, forwarded to the origin minus hop-by-hop ones. */
  rawHeaders: HeaderPairs;
}

export interface CacheReply {
  status: number;
  headers: HeaderPairs;
  body: Buffer;
  cacheStatus: CacheStatus;
  /** Age in seconds to send, for stored responses. */
  ageS: number | null;
}

export interface CacheCounters {
  hits: number;
  misses: number;
  revalidated: number;
  bypass: number;
  originRequests: number;
}

export interface HttpCacheOptions {
  store: DiskStore;
  fetchOrigin: (req: OriginRequest) => Promise<OriginResponse>;
  now: () => number;
  originTimeoutMs: number;
  maxBodyBytes: number;
}

export interface HttpCache {
  handle(req: CacheRequest): Promise<CacheReply>;
  counters(): CacheCounters;
}

const CONDITIONAL = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range']);

interface Filled {
  reply: CacheReply;
  /** May callers other than the leader use it (storable, and which vary values it is for). */
  shareable: boolean;
  varyValues: Record<string, string>;
}

export function createHttpCache(opts: HttpCacheOptions): HttpCache {
  const counters: CacheCounters = { hits: 0, misses: 0, revalidated: 0, bypass: 0, originRequests: 0 };
  const flights = createSingleFlight<Filled>();

  const forwardHeaders = (req: CacheRequest, keepConditionals: boolean): HeaderPairs =>
    withoutHopByHop(req.rawHeaders).filter(([n]) => {
      const lower = n.toLowerCase();
      return lower !== 'host' && (keepConditionals || !CONDITIONAL.has(lower));
    });

  const origin = (req: CacheRequest, method: 'GET' | 'HEAD', headers: HeaderPairs) => {
    counters.originRequests += 1;
    return opts.fetchOrigin({ origin: req.origin, method, path: req.path, headers, timeoutMs: opts.originTimeoutMs, maxBodyBytes: opts.maxBodyBytes });
  };

  const bypass = async (req: CacheRequest): Promise<CacheReply> => {
    counters.bypass += 1;
    const res = await origin(req, req.method, forwardHeaders(req, true));
    return { status: res.status, headers: res.headers, body: res.body, cacheStatus: 'BYPASS', ageS: null };
  };

  const revalidate = async (req: CacheRequest, entry: StoredEntry): Promise<Filled | null> => {
    const validators: HeaderPairs = [];
    const etag = getHeader(entry.headers, 'etag');
    const lastModified = getHeader(entry.headers, 'last-modified');
    if (etag !== null) validators.push(['If-None-Match', etag]);
    if (lastModified !== null) validators.push(['If-Modified-Since', lastModified]);
    const res = await origin(req, 'GET', [...forwardHeaders(req, false), ...validators]);
    if (res.status !== 304) return store(req, res);
    const headers = mergeNotModified(entry.headers, res.headers);
    const refreshed = await opts.store.refresh(entry, headers, { requestTimeMs: res.requestTimeMs, responseTimeMs: res.responseTimeMs });
    const body = await opts.store.readBody(refreshed).catch(() => null);
    if (!body) return null;
    counters.revalidated += 1;
    return { reply: { status: entry.status, headers, body, cacheStatus: 'REVALIDATED', ageS: ageOf(refreshed) }, shareable: true, varyValues: entry.varyValues };
  };

  const store = async (req: CacheRequest, res: OriginResponse): Promise<Filled> => {
    counters.misses += 1;
    const reply: CacheReply = { status: res.status, headers: res.headers, body: res.body, cacheStatus: 'MISS', ageS: null };
    const vary = varyNames(res.headers);
    const storable = responseIsStorable(res.status, res.headers);
    if (!storable.ok || vary === '*' || !worthStoring(res.headers)) return { reply, shareable: false, varyValues: {} };
    const values = varyValues(vary, req.headers);
    await opts.store.put({ key: keyOf(req), varyValues: values, status: res.status, headers: res.headers, requestTimeMs: res.requestTimeMs, responseTimeMs: res.responseTimeMs }, res.body);
    return { reply, shareable: true, varyValues: values };
  };

  const ageOf = (e: StoredEntry) => Math.floor(currentAgeMs(e.headers, e, opts.now()) / 1000);

  /** The leader's work: revalidate the stale entry it found, or fetch anew. */
  const fill = async (req: CacheRequest, stale: StoredEntry | null): Promise<Filled> => {
    if (stale && hasValidator(stale.headers)) {
      const revalidated = await revalidate(req, stale);
      if (revalidated) return revalidated;
    }
    return store(req, await origin(req, 'GET', forwardHeaders(req, false)));
  };

  const hit = async (entry: StoredEntry): Promise<CacheReply | null> => {
    const body = await opts.store.readBody(entry).catch(() => null);
    if (!body) {
      await opts.store.remove(entry.id);
      return null;
    }
    counters.hits += 1;
    return { status: entry.status, headers: entry.headers, body, cacheStatus: 'HIT', ageS: ageOf(entry) };
  };

  return {
    async handle(req) {
      if (!requestMayUseCache(req.method, req.headers).ok) return bypass(req);
      const key = keyOf(req);
      const entry = opts.store.find(key, req.headers);
      if (entry && isFresh(entry.headers, entry, opts.now(), req.headers)) {
        const served = await hit(entry);
        if (served) return served;
      }
      if (req.method === 'HEAD' && !entry) return bypass(req);
      const { value, leader } = await flights.run(key, () => fill(req, entry));
      if (leader || (value.shareable && varyMatches(value.varyValues, req.headers))) return value.reply;
      // The leader's response is not for this caller (not storable, or another variant).
      return (await fill(req, opts.store.find(key, req.headers))).reply;
    },
    counters: () => ({ ...counters }),
  };
}

export function keyOf(req: Pick<CacheRequest, 'host' | 'path'>): string {
  return `${req.host.toLowerCase()}${req.path}`;
}
