import type { DiskStore, StoredEntry } from './disk-store.js';
import { exchange, type CacheCore, type Exchange } from './exchange.js';
import { requestMayUseCache, usability, varyMatches } from './freshness.js';
import { parseCacheControl, requestHeader, type HeaderPairs, type RequestHeaders } from './http-headers.js';
import type { BufferBudget } from './pump.js';
import { parseRange, spanWithin, type ByteRangeSpec } from './range.js';
import { storedReply, type CacheReply } from './stored-reply.js';
import type { OriginRequest, OriginResponse } from '../origin-fetch.js';

// The shared cache in front of a site's origin: fresh hit, stale → conditional request → 304,
// miss → one origin request for all concurrent callers, storing only what RFC 9111 allows.
// stale-while-revalidate answers at once and revalidates in the background; stale-if-error
// answers with the stored response when the origin fails. Range requests are answered from a
// stored response or a stored part; otherwise the range goes to the origin and its 206 is kept.

export type { CacheReply, CacheStatus } from './stored-reply.js';

export interface CacheRequest {
  host: string;
  origin: string;
  method: 'GET' | 'HEAD';
  /** Path and query. */
  path: string;
  /** Requester's headers (lower-cased names). */
  headers: RequestHeaders;
  /** Requester's raw header pairs: the allowlisted ones (and those the origin varies on) go on. */
  rawHeaders: HeaderPairs;
  /** 1xx interim responses from the origin, to pass on. */
  onInterim?: ((status: number, headers: HeaderPairs) => void) | undefined;
}

export interface CacheCounters {
  hits: number;
  misses: number;
  revalidated: number;
  stale: number;
  bypass: number;
  originRequests: number;
}

export interface HttpCacheOptions {
  store: DiskStore;
  fetchOrigin: (req: OriginRequest) => Promise<OriginResponse>;
  now: () => number;
  originTimeoutMs: number;
  maxBodyBytes: number;
  budget: BufferBudget;
}

export interface HttpCache {
  handle(req: CacheRequest): Promise<CacheReply>;
  /** Drops every stored variant of these request targets of a site (RFC 9111 §4.4). */
  invalidate(host: string, targets: readonly string[]): Promise<number>;
  counters(): CacheCounters;
}

const VARY_MEMORY = 10_000;

export function keyOf(req: Pick<CacheRequest, 'host' | 'path'>): string {
  return `${req.host.toLowerCase()}${req.path}`;
}

class SharedCache implements HttpCache {
  private readonly stats: CacheCounters = { hits: 0, misses: 0, revalidated: 0, stale: 0, bypass: 0, originRequests: 0 };
  /** Fills in flight, by key and range: they settle once the body is stored (or not). */
  private readonly flights = new Map<string, Promise<StoredEntry | null>>();
  private readonly varyByKey = new Map<string, string[]>();
  private readonly core: CacheCore;

  constructor(private readonly opts: HttpCacheOptions) {
    this.core = {
      ...opts, stats: this.stats,
      // The Vary of the origin's latest answer; after a restart, that of the stored variants.
      varyFor: (key) => this.varyByKey.get(key) ?? [...new Set(opts.store.variants(key).flatMap((e) => Object.keys(e.varyValues)))],
      learn: (key, names) => {
        this.varyByKey.delete(key);
        this.varyByKey.set(key, names);
        if (this.varyByKey.size > VARY_MEMORY) this.varyByKey.delete(this.varyByKey.keys().next().value ?? '');
      },
    };
  }

  counters(): CacheCounters {
    return { ...this.stats };
  }

  async invalidate(host: string, targets: readonly string[]): Promise<number> {
    let dropped = 0;
    for (const path of targets) {
      const key = keyOf({ host, path });
      this.varyByKey.delete(key);
      dropped += await this.opts.store.removeKey(key);
    }
    return dropped;
  }

  async handle(req: CacheRequest): Promise<CacheReply> {
    const ex: Exchange = { ...req, key: keyOf(req), range: req.method === 'GET' ? parseRange(requestHeader(req.headers, 'range')) : null };
    if (!requestMayUseCache(req.method, req.headers).ok) return exchange(this.core, { ...ex, range: null }, null, { store: false, deliver: true, settle: () => undefined });
    let entry = this.pick(ex);
    if (entry) {
      const use = usability(entry, req.headers, this.opts.now());
      if (use !== 'stale') {
        const served = await this.reply(ex, entry, use === 'fresh' ? 'HIT' : 'STALE');
        if (served && use === 'stale-while-revalidate') this.revalidateInBackground(ex, entry);
        if (served) return served;
        entry = null;
      }
    }
    if (parseCacheControl(requestHeader(req.headers, 'cache-control')).has('only-if-cached')) {
      return { status: 504, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: null, length: 0, cacheStatus: 'MISS', ageS: null };
    }
    if (req.method === 'HEAD' && !entry) return exchange(this.core, ex, null, { store: false, deliver: true, settle: () => undefined });
    return this.fill(ex, entry);
  }

  /** The stored response that may answer: a complete one, or a part that holds the range asked for. */
  private pick(ex: Exchange): StoredEntry | null {
    const candidates = this.opts.store.candidates(ex.key, ex.headers);
    const whole = candidates.find((e) => !e.part);
    if (whole || !ex.range) return whole ?? null;
    const range = ex.range;
    return candidates.find((e) => e.part && spanWithin(range, e.part)) ?? null;
  }

  private async reply(ex: Exchange, entry: StoredEntry, cacheStatus: 'HIT' | 'STALE'): Promise<CacheReply | null> {
    const reply = await storedReply({ store: this.opts.store, entry, method: ex.method, headers: ex.headers, range: ex.range, cacheStatus, nowMs: this.opts.now() });
    if (reply) this.stats[cacheStatus === 'HIT' ? 'hits' : 'stale'] += 1;
    return reply;
  }

  private flightKey(ex: Exchange): string {
    return `${ex.key}\0${ex.range ? JSON.stringify(ex.range) : ''}`;
  }

  /** Registers a fill; it stays registered until told what it stored. */
  private startFlight(fk: string): (stored: StoredEntry | null) => void {
    let settle: (e: StoredEntry | null) => void = () => undefined;
    const done = new Promise<StoredEntry | null>((resolve) => (settle = resolve));
    this.flights.set(fk, done);
    void done.then(() => this.flights.delete(fk));
    return settle;
  }

  /** One origin request for concurrent misses; the others get what it stored, if it is for them. */
  private async fill(ex: Exchange, stale: StoredEntry | null): Promise<CacheReply> {
    const fk = this.flightKey(ex);
    const running = this.flights.get(fk);
    if (running) {
      const stored = await running;
      // Only a response this request could have been answered with from the store.
      const fits = stored && varyMatches(stored.varyValues, ex.headers) && (!stored.part || (ex.range && spanWithin(ex.range, stored.part)))
        && usability(stored, ex.headers, this.opts.now()) === 'fresh';
      const served = fits ? await this.reply(ex, stored, 'HIT') : null;
      if (served) return served;
      return exchange(this.core, ex, this.pick(ex), { store: true, deliver: true, settle: () => undefined });
    }
    const settle = this.startFlight(fk);
    try {
      return await exchange(this.core, ex, stale, { store: true, deliver: true, settle });
    } catch (err) {
      settle(null);
      throw err;
    }
  }

  /** stale-while-revalidate: the stored response answered; bring it up to date, once. */
  private revalidateInBackground(ex: Exchange, entry: StoredEntry): void {
    const range: ByteRangeSpec | null = entry.part ? { kind: 'from', start: entry.part.start, end: entry.part.end } : null;
    const bg: Exchange = { ...ex, method: 'GET', range, onInterim: undefined };
    const fk = this.flightKey(bg);
    if (this.flights.has(fk)) return;
    const settle = this.startFlight(fk);
    void exchange(this.core, bg, entry, { store: true, deliver: false, settle }).then((reply) => reply.body?.resume(), () => settle(null));
  }
}

export function createHttpCache(opts: HttpCacheOptions): HttpCache {
  return new SharedCache(opts);
}
