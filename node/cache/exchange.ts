import { PassThrough } from 'node:stream';
import type { StoredEntry } from './disk-store.js';
import { forwardHeaders, isAllowlisted, mayForwardForVary } from './forward-headers.js';
import { hasValidator, mayServeOnError, responseIsStorable, varyNames, varyValues, worthStoring } from './freshness.js';
import { getHeader, mergeNotModified, requestHeader, type HeaderPairs } from './http-headers.js';
import type { CacheCounters, CacheRequest, HttpCacheOptions } from './http-cache.js';
import { pump } from './pump.js';
import { parseContentRange, type ByteRangeSpec } from './range.js';
import { storedReply, type CacheReply } from './stored-reply.js';
import { OriginError, type OriginResponse } from '../origin-fetch.js';

// One request to the origin on behalf of the cache: the requester's allowlisted headers (and
// those the origin varies on), the stored response's validators, the range asked for; then the
// answer: a 304 refreshes the stored response, a 5xx or a failure may be covered by
// stale-if-error, anything else streams to the requester and, when a shared cache may keep it,
// into the store at the same time.

export interface CacheCore extends HttpCacheOptions {
  stats: CacheCounters;
  /** Request headers the origin varied on for this key, as far as the node knows. */
  varyFor(key: string): string[];
  learn(key: string, names: string[]): void;
}

export interface Exchange extends CacheRequest {
  key: string;
  range: ByteRangeSpec | null;
  /** Already asked again with the headers the origin turned out to vary on. */
  refetched?: boolean;
}

export interface ExchangeMode {
  /** Use and fill the store (false: pass through, as for a request with credentials). */
  store: boolean;
  /** Someone waits for the body (false: a background revalidation). */
  deliver: boolean;
  /** Told what the exchange stored, once the body is in (null: nothing). */
  settle: (e: StoredEntry | null) => void;
}

function rangeValue(r: ByteRangeSpec): string {
  return r.kind === 'suffix' ? `bytes=-${r.length}` : `bytes=${r.start}-${r.end ?? ''}`;
}

function validators(e: StoredEntry): HeaderPairs {
  const out: HeaderPairs = [];
  const etag = getHeader(e.headers, 'etag');
  const lastModified = getHeader(e.headers, 'last-modified');
  if (etag !== null) out.push(['If-None-Match', etag]);
  if (lastModified !== null) out.push(['If-Modified-Since', lastModified]);
  return out;
}

function stored(core: CacheCore, ex: Exchange, entry: StoredEntry, cacheStatus: 'STALE' | 'REVALIDATED'): Promise<CacheReply | null> {
  return storedReply({ store: core.store, entry, method: ex.method, headers: ex.headers, range: ex.range, cacheStatus, nowMs: core.now() });
}

/** stale-if-error: the origin failed, and the stored response may stand in for it. */
async function coverError(core: CacheCore, ex: Exchange, stale: StoredEntry | null, mode: ExchangeMode, disconnected: boolean): Promise<CacheReply | null> {
  if (!stale || !mode.deliver || !mayServeOnError(stale, ex.headers, core.now(), disconnected)) return null;
  const reply = await stored(core, ex, stale, 'STALE');
  if (reply) core.stats.stale += 1;
  return reply;
}

export async function exchange(core: CacheCore, ex: Exchange, stale: StoredEntry | null, mode: ExchangeMode): Promise<CacheReply> {
  const learned = core.varyFor(ex.key);
  const headers = forwardHeaders(ex.rawHeaders, learned);
  if (mode.store && stale && hasValidator(stale.headers)) headers.push(...validators(stale));
  // A stored complete response is revalidated whole; otherwise the origin gets the range.
  if (ex.range && !(stale && !stale.part)) headers.push(['Range', rangeValue(ex.range)]);
  core.stats.originRequests += 1;
  let res: OriginResponse;
  try {
    res = await core.fetchOrigin({
      origin: ex.origin, host: ex.host, method: ex.method === 'HEAD' && !stale ? 'HEAD' : 'GET', path: ex.path, headers,
      timeoutMs: core.originTimeoutMs, maxBodyBytes: core.maxBodyBytes, onInterim: mode.deliver ? ex.onInterim : undefined,
    });
  } catch (err) {
    // Unreachable (refused, reset, timed out); a malformed or oversized answer is the origin's word.
    const disconnected = err instanceof OriginError && (err.kind === 'failed' || err.kind === 'timeout');
    const covered = await coverError(core, ex, stale, mode, disconnected);
    if (!covered) throw err;
    mode.settle(null);
    return covered;
  }
  if (res.status >= 500) {
    const covered = await coverError(core, ex, stale, mode, false);
    if (covered) {
      res.body.destroy();
      mode.settle(null);
      return covered;
    }
  }
  if (res.status === 304 && stale && mode.store) return revalidated(core, ex, stale, res, mode);
  const names = varyNames(res.headers);
  if (names !== '*') core.learn(ex.key, names);
  // The origin varies on a header the requester sent but the node did not forward (it had not
  // seen this Vary yet): that answer is for another variant; ask again, forwarding it.
  const missed = names !== '*' && names.some((n) => !isAllowlisted(n) && mayForwardForVary(n) && !learned.includes(n) && requestHeader(ex.headers, n) !== null);
  if (missed && !ex.refetched) {
    res.body.destroy();
    return exchange(core, { ...ex, refetched: true }, stale, mode);
  }
  // A header that went to the origin but is no longer in its Vary may have shaped an answer that
  // other requests would then get from the store (cache poisoning): such an answer is never kept.
  const sent = new Set(headers.map(([n]) => n.toLowerCase()));
  const unkeyed = names !== '*' && learned.some((n) => sent.has(n) && !isAllowlisted(n) && !names.includes(n));
  return relay(core, ex, res, names, unkeyed ? { ...mode, store: false } : mode);
}

async function revalidated(core: CacheCore, ex: Exchange, stale: StoredEntry, res: OriginResponse, mode: ExchangeMode): Promise<CacheReply> {
  res.body.resume();
  const headers = mergeNotModified(stale.headers, res.headers);
  const timing = { requestTimeMs: res.requestTimeMs, responseTimeMs: res.responseTimeMs };
  const refreshed = await core.store.refresh(stale, headers, timing).catch(() => ({ ...stale, headers, ...timing }));
  mode.settle(refreshed);
  core.stats.revalidated += 1;
  if (!mode.deliver) return { status: 304, headers: [], body: null, length: 0, cacheStatus: 'REVALIDATED', ageS: null };
  const reply = await stored(core, ex, refreshed, 'REVALIDATED');
  // The stored body vanished meanwhile (evicted): ask for the whole response.
  return reply ?? exchange(core, ex, null, { ...mode, settle: () => undefined });
}

function relay(core: CacheCore, ex: Exchange, res: OriginResponse, names: string[] | '*', mode: ExchangeMode): CacheReply {
  const part = res.status === 206 ? parseContentRange(getHeader(res.headers, 'content-range')) : null;
  const vary = names === '*' ? null : names;
  // A body declared larger than the whole cache would only push everything else out.
  const fits = Number(getHeader(res.headers, 'content-length') ?? 0) < core.store.stats().capBytes;
  const storable = mode.store && vary !== null && fits && responseIsStorable(res.status, res.headers).ok
    && worthStoring(res.status, res.headers, res.responseTimeMs) && (res.status !== 206 || part !== null);
  core.stats[mode.store ? 'misses' : 'bypass'] += 1;
  const writer = storable && vary
    ? core.store.writer({ key: ex.key, varyValues: varyValues(vary, ex.headers), status: res.status, headers: res.headers, requestTimeMs: res.requestTimeMs, responseTimeMs: res.responseTimeMs, part })
    : null;
  const sink = mode.deliver && ex.method === 'GET' ? new PassThrough({ highWaterMark: 64 * 1024 }) : null;
  if (!sink && !writer) {
    res.body.resume();
    mode.settle(null);
  } else {
    void pump(res.body, sink, writer, core.budget).then(async (entry) => {
      // A part must hold exactly the bytes its Content-Range names.
      if (entry?.part && entry.size !== entry.part.end - entry.part.start + 1) {
        await core.store.remove(entry.id);
        return mode.settle(null);
      }
      mode.settle(entry);
    }, () => mode.settle(null));
  }
  return { status: res.status, headers: res.headers, body: sink, length: null, cacheStatus: mode.store ? 'MISS' : 'BYPASS', ageS: null };
}
