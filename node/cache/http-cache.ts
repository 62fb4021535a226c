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
  /** Responses that could not be written to disk (full or failing disk). */
  storeErrors: number;
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

class SharedCache implements HttpCache {
  private readonly stats: CacheCounters = { hits: 0, misses: 0, revalidated: 0, bypass: 0, originRequests: 0, storeErrors: 0 };
  private readonly flights = createSingleFlight<Filled>();

  constructor(private readonly opts: HttpCacheOptions) {}

  counters(): CacheCounters {
    return { ...this.stats };
  }

  async handle(req: CacheRequest): Promise<CacheReply> {
    if (!requestMayUseCache(req.method, req.headers).ok) return this.bypass(req);
    const key = keyOf(req);
    const entry = this.opts.store.find(key, req.headers);
    if (entry && isFresh(entry.headers, entry, this.opts.now(), req.headers)) {
      const served = await this.hit(entry);
      if (served) return served;
    }
    if (req.method === 'HEAD' && !entry) return this.bypass(req);
    const { value, leader } = await this.flights.run(key, () => this.fill(req, entry));
    if (leader || (value.shareable && varyMatches(value.varyValues, req.headers))) return value.reply;
    // The leader's response is not for this caller (not storable, or another variant).
    return (await this.fill(req, this.opts.store.find(key, req.headers))).reply;
  }

  private forwardHeaders(req: CacheRequest, keepConditionals: boolean): HeaderPairs {
    return withoutHopByHop(req.rawHeaders).filter(([n]) => {
      const lower = n.toLowerCase();
      return lower !== 'host' && (keepConditionals || !CONDITIONAL.has(lower));
    });
  }

  private origin(req: CacheRequest, method: 'GET' | 'HEAD', headers: HeaderPairs): Promise<OriginResponse> {
    this.stats.originRequests += 1;
    return this.opts.fetchOrigin({ origin: req.origin, method, path: req.path, headers, timeoutMs: this.opts.originTimeoutMs, maxBodyBytes: this.opts.maxBodyBytes });
  }

  private async bypass(req: CacheRequest): Promise<CacheReply> {
    this.stats.bypass += 1;
    const res = await this.origin(req, req.method, this.forwardHeaders(req, true));
    return { status: res.status, headers: res.headers, body: res.body, cacheStatus: 'BYPASS', ageS: null };
  }

  private ageOf(e: StoredEntry): number {
    return Math.floor(currentAgeMs(e.headers, e, this.opts.now()) / 1000);
  }

  private async hit(entry: StoredEntry): Promise<CacheReply | null> {
    const body = await this.opts.store.readBody(entry).catch(() => null);
    if (!body) {
      await this.opts.store.remove(entry.id);
      return null;
    }
    this.stats.hits += 1;
    return { status: entry.status, headers: entry.headers, body, cacheStatus: 'HIT', ageS: this.ageOf(entry) };
  }

  /** The leader's work: revalidate the stale entry it found, or fetch anew. */
  private async fill(req: CacheRequest, stale: StoredEntry | null): Promise<Filled> {
    if (stale && hasValidator(stale.headers)) {
      const revalidated = await this.revalidate(req, stale);
      if (revalidated) return revalidated;
    }
    return this.store(req, await this.origin(req, 'GET', this.forwardHeaders(req, false)));
  }

  private async revalidate(req: CacheRequest, entry: StoredEntry): Promise<Filled | null> {
    const validators: HeaderPairs = [];
    const etag = getHeader(entry.headers, 'etag');
    const lastModified = getHeader(entry.headers, 'last-modified');
    if (etag !== null) validators.push(['If-None-Match', etag]);
    if (lastModified !== null) validators.push(['If-Modified-Since', lastModified]);
    const res = await this.origin(req, 'GET', [...this.forwardHeaders(req, false), ...validators]);
    if (res.status !== 304) return this.store(req, res);
    const headers = mergeNotModified(entry.headers, res.headers);
    const timing = { requestTimeMs: res.requestTimeMs, responseTimeMs: res.responseTimeMs };
    const refreshed = await this.opts.store.refresh(entry, headers, timing).catch(() => ({ ...entry, headers, ...timing }));
    const body = await this.opts.store.readBody(refreshed).catch(() => null);
    if (!body) return null;
    this.stats.revalidated += 1;
    return { reply: { status: entry.status, headers, body, cacheStatus: 'REVALIDATED', ageS: this.ageOf(refreshed) }, shareable: true, varyValues: entry.varyValues };
  }

  private async store(req: CacheRequest, res: OriginResponse): Promise<Filled> {
    this.stats.misses += 1;
    const reply: CacheReply = { status: res.status, headers: res.headers, body: res.body, cacheStatus: 'MISS', ageS: null };
    const vary = varyNames(res.headers);
    if (!responseIsStorable(res.status, res.headers).ok || vary === '*' || !worthStoring(res.headers)) return { reply, shareable: false, varyValues: {} };
    const values = varyValues(vary, req.headers);
    const entry = { key: keyOf(req), varyValues: values, status: res.status, headers: res.headers, requestTimeMs: res.requestTimeMs, responseTimeMs: res.responseTimeMs };
    // A full or failing disk costs the cache, never the visitor's response.
    await this.opts.store.put(entry, res.body).catch(() => (this.stats.storeErrors += 1));
    return { reply, shareable: true, varyValues: values };
  }
}

export function createHttpCache(opts: HttpCacheOptions): HttpCache {
  return new SharedCache(opts);
}

export function keyOf(req: Pick<CacheRequest, 'host' | 'path'>): string {
  return `${req.host.toLowerCase()}${req.path}`;
}
