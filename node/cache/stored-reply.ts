import type { Readable } from 'node:stream';
import type { DiskStore, StoredEntry } from './disk-store.js';
import { currentAgeMs } from './freshness.js';
import { getHeader, type HeaderPairs, type RequestHeaders } from './http-headers.js';
import { contentRange, resolveRange, spanWithin, type ByteRangeSpec } from './range.js';

// Answers from the disk cache: the whole stored response, or the byte range asked for (a 206
// cut from a stored complete response or from a stored part that holds the whole range).

export type CacheStatus = 'HIT' | 'MISS' | 'REVALIDATED' | 'STALE' | 'BYPASS';

export interface CacheReply {
  status: number;
  headers: HeaderPairs;
  /** The body to send; null for HEAD and bodiless answers. */
  body: Readable | null;
  /** Body length when the node knows it (stored answers); null: the origin's framing stands. */
  length: number | null;
  cacheStatus: CacheStatus;
  /** Age in seconds to send, for stored responses. */
  ageS: number | null;
}

const FRAMING = new Set(['content-length', 'content-range']);

/** If-Range (RFC 9110 §13.1.5): a range applies only to the representation the requester has. */
function ifRangeHolds(value: string | null, entry: StoredEntry): boolean {
  if (value === null) return true;
  const v = value.trim();
  if (v.startsWith('"')) return getHeader(entry.headers, 'etag') === v;
  return getHeader(entry.headers, 'last-modified') === v;
}

export interface StoredReplyInput {
  store: DiskStore;
  entry: StoredEntry;
  method: 'GET' | 'HEAD';
  headers: RequestHeaders;
  range: ByteRangeSpec | null;
  cacheStatus: CacheStatus;
  nowMs: number;
}

/** The reply for a request from a stored entry; null when the entry cannot answer it (or its body is gone). */
export async function storedReply(i: StoredReplyInput): Promise<CacheReply | null> {
  const { store, entry } = i;
  store.touch(entry.id);
  const base = { cacheStatus: i.cacheStatus, ageS: Math.floor(currentAgeMs(entry.headers, entry, i.nowMs) / 1000) };
  const unframed = entry.headers.filter(([n]) => !FRAMING.has(n.toLowerCase()));
  const ifRange = i.headers['if-range'];
  if (i.range && i.method === 'GET' && ifRangeHolds(typeof ifRange === 'string' ? ifRange : null, entry)) {
    const complete = entry.part ? entry.part.complete : entry.size;
    const offset = entry.part?.start ?? 0;
    const span = entry.part ? spanWithin(i.range, entry.part) : resolveRange(i.range, entry.size);
    if (!span && !entry.part) {
      return { ...base, status: 416, headers: [['Content-Range', `bytes */${entry.size}`]], body: null, length: 0 };
    }
    if (!span) return null;
    const body = await store.open(entry, { start: span.start - offset, end: span.end - offset });
    if (!body) return null;
    return { ...base, status: 206, headers: [...unframed, ['Content-Range', contentRange(span, complete)]], body, length: span.end - span.start + 1 };
  }
  // A stored part answers only ranges it holds.
  if (entry.part) return null;
  if (i.method === 'HEAD') return { ...base, status: entry.status, headers: entry.headers, body: null, length: entry.size };
  const body = await store.open(entry);
  if (!body) return null;
  return { ...base, status: entry.status, headers: entry.headers, body, length: entry.size };
}
