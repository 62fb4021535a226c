import { etagMatches, httpDateMs, notModifiedSince } from '../../common/http/rfc9111.js';
import { ageSeconds, type Observation, type Publication } from '../publication/types.js';
import type { EncodingClass } from '../publication/variant.js';
import { bodyOf, type FetchedAnswer } from '../upstream/buffered-fetch.js';
import { recordVisit } from './choose.js';
import type { Visit } from './visit.js';

// Answers built from what the origin said about a URL: its headers (never a node's), our Age,
// and, for bytes, the exact length. Also the answers that need no bytes at all: 304 to a
// conditional request and HEAD.

const flat = new WeakMap<Observation, string[]>();
const VALIDATORS = new Set(['etag', 'last-modified']);

/** The origin's headers as a flat list (computed once per answer). */
function originHeaders(o: Observation): string[] {
  let list = flat.get(o);
  if (!list) {
    list = [];
    for (const [name, value] of Object.entries(o.headers)) {
      if (Array.isArray(value)) for (const v of value) list.push(name, v);
      else list.push(name, value);
    }
    flat.set(o, list);
  }
  return list;
}

/** Does a visitor of this encoding class take bytes in this content-encoding? */
export function acceptsEncoding(cls: EncodingClass, encoding: string | null): boolean {
  if (encoding === null) return true;
  if (encoding === 'gzip') return cls !== 'identity';
  if (encoding === 'br') return cls === 'br, gzip';
  return false;
}

/**
 * Per request: headers for a response carrying (part of) the origin's bytes. For a dynamic page
 * the validators (they name the origin's bytes) go, and `encoding` names the bytes sent.
 */
export function recordHeaders(o: Observation, now: number, opts: { dropValidators?: boolean; encoding?: string | null } = {}): string[] {
  const base = originHeaders(o);
  const out = base.slice();
  if (opts.dropValidators) for (let i = out.length - 2; i >= 0; i -= 2) if (VALIDATORS.has(out[i] ?? '')) out.splice(i, 2);
  if (opts.encoding !== undefined && opts.encoding !== o.encoding) {
    for (let i = out.length - 2; i >= 0; i -= 2) if (out[i] === 'content-encoding') out.splice(i, 2);
    if (opts.encoding !== null) out.push('content-encoding', opts.encoding);
  }
  out.push('age', String(ageSeconds(o, now)));
  return out;
}

/** Does the visitor's conditional request match what we know (RFC 9110 §13.2.2)? */
export function notModified(v: Visit, o: Observation): boolean {
  const inm = v.req.headers['if-none-match'];
  if (inm !== undefined) return etagMatches(inm, o.etag);
  const ims = v.req.headers['if-modified-since'];
  return ims !== undefined && notModifiedSince(ims, o.lastModified);
}

const NOT_MODIFIED_KEEP = new Set(['cache-control', 'content-location', 'etag', 'expires', 'vary', 'last-modified']);

/** 304 from the origin's metadata: no node involved. */
export function sendNotModified(v: Visit, pub: Publication): void {
  const o = pub.current;
  const out: string[] = [];
  const base = originHeaders(o);
  for (let i = 0; i < base.length; i += 2) if (NOT_MODIFIED_KEEP.has(base[i] ?? '')) out.push(base[i] ?? '', base[i + 1] ?? '');
  out.push('age', String(ageSeconds(o, v.rt.now())));
  v.writeHead(304, out, 'origin');
  v.res.end();
  v.rt.metrics.countRequest('published_304');
  // A returning visitor is part of the traffic audits imitate.
  recordVisit(v, null);
}

/** HEAD, or an answer with no bytes: the origin's metadata alone. */
export function sendMetadataOnly(v: Visit, pub: Publication): void {
  const headers = recordHeaders(pub.current, v.rt.now());
  headers.push('content-length', String(pub.current.size));
  v.writeHead(pub.current.status, headers, 'origin');
  v.res.end();
  v.rt.metrics.countRequest('published_metadata');
}

export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/**
 * The one range a visitor asked for (RFC 9110 §14.2), or null to send everything: no Range,
 * several ranges, a unit other than bytes, or an If-Range that does not match this version.
 */
export function requestedRange(v: Visit, o: Observation): ByteRange {
  const header = v.req.headers.range;
  if (header === undefined || o.status !== 200) return null;
  const ifRange = v.req.headers['if-range'];
  if (ifRange !== undefined && (typeof ifRange !== 'string' || !ifRangeMatches(ifRange, o))) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  const size = o.size;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return start >= size ? 'unsatisfiable' : null;
  return { start, end };
}

function ifRangeMatches(value: string, o: Observation): boolean {
  // A strong ETag match, or the exact Last-Modified date (RFC 9110 §13.1.5).
  if (value.startsWith('"')) return o.etag !== null && !o.etag.startsWith('W/') && o.etag === value;
  const date = httpDateMs(value);
  return date !== null && o.lastModified !== null && httpDateMs(o.lastModified) === date;
}

export function sendUnsatisfiable(v: Visit, pub: Publication): void {
  v.writeHead(416, ['content-range', `bytes */${pub.current.size}`, 'content-length', '0'], 'origin');
  v.res.end();
  v.rt.metrics.countRequest('416');
}

/**
 * Per request: a verified body (or the requested part of it) from a node, with the origin's
 * headers. The pieces go out as they came (one writev, no copy).
 */
export function sendVerified(v: Visit, pub: Publication, a: FetchedAnswer, nodeId: string, range: ByteRange): void {
  const o = pub.current;
  const headers = recordHeaders(o, v.rt.now());
  if (range !== null && range !== 'unsatisfiable') {
    headers.push('content-range', `bytes ${range.start}-${range.end}/${o.size}`, 'content-length', String(range.end - range.start + 1));
    v.writeHead(206, headers, nodeId);
    v.res.end(v.method === 'HEAD' ? undefined : bodyOf(a).subarray(range.start, range.end + 1));
    return;
  }
  headers.push('content-length', String(a.size));
  v.writeHead(o.status, headers, nodeId);
  if (v.method === 'HEAD' || a.chunks.length === 0) return void v.res.end();
  if (a.chunks.length === 1) return void v.res.end(a.chunks[0]);
  v.res.cork();
  for (const chunk of a.chunks) v.res.write(chunk);
  v.res.end();
}
