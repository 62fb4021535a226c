import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { CACHE_STATUS_HEADER } from '../common/protocol/node-api.js';
import type { CacheReply } from './cache/http-cache.js';
import { etagMatches } from './cache/freshness.js';
import { getHeader, httpDateMs, withoutHopByHop, type HeaderPairs } from './cache/http-headers.js';

// Writing a cache reply to the requester: the origin's headers as sent (minus hop-by-hop ones),
// our Age for stored responses, the body streamed; a requester's own conditional request
// answered with 304 from a stored response.

const NOT_MODIFIED_KEEP = new Set(['etag', 'cache-control', 'content-location', 'date', 'expires', 'vary', 'last-modified']);

export function responseHeaders(pairs: HeaderPairs, extra: HeaderPairs, bodyLength: number | null): string[] {
  const replaced = new Set(extra.map(([n]) => n.toLowerCase()));
  const out = withoutHopByHop(pairs).filter(([n]) => {
    const lower = n.toLowerCase();
    // Our own Age (for stored responses) replaces the origin's; on a miss the origin's stands.
    return !replaced.has(lower) && lower !== CACHE_STATUS_HEADER && (bodyLength === null || lower !== 'content-length');
  });
  if (bodyLength !== null) out.push(['Content-Length', String(bodyLength)]);
  return [...out, ...extra].flat();
}

/** The requester's If-None-Match / If-Modified-Since hold for a stored 200 (RFC 9110 §13.1). */
function notModified(req: IncomingMessage, reply: CacheReply): boolean {
  if (reply.status !== 200 || reply.cacheStatus === 'MISS' || reply.cacheStatus === 'BYPASS') return false;
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return etagMatches(inm, getHeader(reply.headers, 'etag'));
  const since = httpDateMs(typeof req.headers['if-modified-since'] === 'string' ? req.headers['if-modified-since'] : null);
  const modified = httpDateMs(getHeader(reply.headers, 'last-modified')) ?? httpDateMs(getHeader(reply.headers, 'date'));
  return since !== null && modified !== null && modified <= since;
}

const bodiless = (status: number) => status === 204 || status === 304 || status < 200;

/** Sends the reply; resolves with the body bytes sent once the response is over. */
export function sendReply(req: IncomingMessage, res: ServerResponse, reply: CacheReply): Promise<number> {
  const extra: HeaderPairs = [[CACHE_STATUS_HEADER, reply.cacheStatus]];
  if (reply.ageS !== null) extra.unshift(['Age', String(reply.ageS)]);
  if (notModified(req, reply)) {
    reply.body?.destroy();
    res.writeHead(304, responseHeaders(reply.headers.filter(([n]) => NOT_MODIFIED_KEEP.has(n.toLowerCase())), extra, null));
    res.end();
    return Promise.resolve(0);
  }
  res.writeHead(reply.status, responseHeaders(reply.headers, extra, bodiless(reply.status) ? null : reply.length));
  const body = reply.body;
  if (!body || req.method === 'HEAD' || bodiless(reply.status)) {
    body?.destroy();
    res.end();
    return Promise.resolve(0);
  }
  let sent = 0;
  body.on('data', (c: Buffer) => (sent += c.length));
  return new Promise((resolve) => {
    // A body cut short (origin failure, disk error) cuts the response: never a short success.
    pipeline(body, res, (err) => {
      if (err) res.destroy();
      resolve(sent);
    });
  });
}
