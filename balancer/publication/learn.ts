import type { IncomingHttpHeaders } from 'node:http';
import { freshnessLifetimeMs, initialAgeMs, sharedCacheMayStore, varyNames, type HeaderGetter } from '../../common/http/rfc9111.js';
import type { Observation, ResponseHeaders } from './types.js';

// Turns one complete origin answer into what nodes may serve, or says why not. The rule is the
// origin's own: only what a shared cache may store (RFC 9111 §3: no private, no-store,
// Set-Cookie, Vary on credentials), and only while it is fresh by the origin's word.

/** Headers about one connection (RFC 9110 §7.6.1) or that we compute ourselves per response. */
const NOT_RELAYED = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate',
  'date', 'age', 'content-length', 'x-verity-node',
]);

export function headerGetter(headers: IncomingHttpHeaders): HeaderGetter {
  return (name) => {
    const v = headers[name];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  };
}

/** The origin's response headers as every visitor of this URL gets them. */
export function visitorHeaders(headers: IncomingHttpHeaders): ResponseHeaders {
  const named = new Set(String(headers.connection ?? '').split(',').map((s) => s.trim().toLowerCase()));
  const out: ResponseHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_RELAYED.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export function normaliseEncoding(value: string | string[] | undefined): string | null {
  const v = (Array.isArray(value) ? value.join(',') : (value ?? '')).split(',').map((s) => s.trim().toLowerCase()).filter((s) => s && s !== 'identity').join(', ');
  return v === '' ? null : v;
}

export interface OriginAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  sha256: string;
  size: number;
  pieces: Buffer | null;
  requestTimeMs: number;
  responseTimeMs: number;
}

export type Learned = { ok: true; obs: Observation; varyNames: string[] } | { ok: false; reason: string };

/** Final answers only, never partial or not-modified ones. */
function servable(status: number): boolean {
  return status >= 200 && status < 600 && status !== 206 && status !== 304;
}

export function learn(a: OriginAnswer): Learned {
  if (!servable(a.status)) return { ok: false, reason: `status ${a.status}` };
  const get = headerGetter(a.headers);
  const may = sharedCacheMayStore(a.status, get);
  if (!may.ok) return { ok: false, reason: may.reason };
  const lifetimeMs = freshnessLifetimeMs(a.status, get);
  if (lifetimeMs <= 0) return { ok: false, reason: 'not fresh (no-cache, max-age=0, no freshness information)' };
  const vary = varyNames(get);
  if (vary === '*') return { ok: false, reason: 'Vary: *' };
  const timing = { requestTimeMs: a.requestTimeMs, responseTimeMs: a.responseTimeMs };
  return {
    ok: true,
    varyNames: vary,
    obs: {
      status: a.status, headers: visitorHeaders(a.headers), encoding: normaliseEncoding(a.headers['content-encoding']),
      sha256: a.sha256, size: a.size, pieces: a.pieces, etag: get('etag'), lastModified: get('last-modified'),
      lifetimeMs, initialAgeMs: initialAgeMs(get, timing), receivedAt: a.responseTimeMs,
    },
  };
}
