import type { IncomingHttpHeaders } from 'node:http';
import { PieceHasher } from '../integrity/pieces.js';
import type { RouteSite } from '../registry/types.js';
import type { Upstreams } from '../upstream/pools.js';
import type { OriginAnswer } from './learn.js';

// A background request of ours to a site's origin (confirming, revalidating or learning a
// published URL): its body is hashed as it streams, never held, and capped in size and time.

export type Probe = { kind: 'answer'; answer: OriginAnswer } | { kind: 'not-modified'; headers: IncomingHttpHeaders; requestTimeMs: number; responseTimeMs: number } | { kind: 'other'; status: number };

export interface ProbeOptions {
  upstreams: Upstreams;
  now: () => number;
  maxBytes: number;
  timeoutMs: number;
}

export async function probeOrigin(o: ProbeOptions, site: RouteSite, url: string, headers: string[]): Promise<Probe> {
  const base = site.origin.pathname === '/' ? '' : site.origin.pathname.replace(/\/$/, '');
  const requestTimeMs = o.now();
  const res = await o.upstreams.origin(site.origin).request({
    path: base + url, method: 'GET', headers: ['host', site.host, 'user-agent', 'verity-balancer', ...headers],
    headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs, signal: AbortSignal.timeout(Math.max(o.timeoutMs, 60_000)),
  });
  const responseTimeMs = o.now();
  if (res.statusCode === 304) {
    await res.body.dump();
    return { kind: 'not-modified', headers: res.headers, requestTimeMs, responseTimeMs };
  }
  if (res.statusCode < 200 || res.statusCode === 206 || res.statusCode >= 500) {
    await res.body.dump();
    return { kind: 'other', status: res.statusCode };
  }
  const hasher = new PieceHasher();
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    hasher.update(chunk);
    if (hasher.size > o.maxBytes) {
      res.body.destroy();
      return { kind: 'other', status: res.statusCode };
    }
  }
  const digest = hasher.finish();
  return { kind: 'answer', answer: { status: res.statusCode, headers: res.headers, ...digest, size: hasher.size, requestTimeMs, responseTimeMs } };
}
