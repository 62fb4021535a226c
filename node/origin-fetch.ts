import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Transform, pipeline, type Readable } from 'node:stream';
import { pairsFromRaw, type HeaderPairs } from './cache/http-headers.js';

// One request to a site's origin with node:http, which hands back the bytes exactly as sent
// (fetch would decompress them; the balancer checks the origin's bytes). The answer comes back
// as soon as its head has arrived, with the body as a stream, so a download of any size passes
// through in bounded memory. Bounded in time too: a deadline for the head, then an idle timer.

export interface OriginRequest {
  origin: string;
  /** The site's host: the Host header the origin gets, as it would from a visitor. */
  host: string;
  method: 'GET' | 'HEAD';
  /** Path and query of the visitor's request. */
  path: string;
  headers: HeaderPairs;
  timeoutMs: number;
  maxBodyBytes: number;
  /** 1xx interim responses (102, 103) as they arrive, to be passed on. */
  onInterim?: ((status: number, headers: HeaderPairs) => void) | undefined;
}

export interface OriginResponse {
  status: number;
  headers: HeaderPairs;
  /** The body, exactly as sent; whoever gets it must read it to the end or destroy it. */
  body: Readable;
  requestTimeMs: number;
  responseTimeMs: number;
}

export type OriginErrorKind = 'timeout' | 'too_large' | 'overlong' | 'failed';

export class OriginError extends Error {
  constructor(readonly kind: OriginErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Origin + request target, concatenated as text: `new URL('//evil.example/x', origin)` would
 * name another host, and a node must never be steered to fetch from anywhere but the origin.
 */
export function originUrl(origin: string, target: string): URL {
  const base = new URL(origin);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`origin ${origin} is not http(s)`);
  if (!target.startsWith('/')) throw new Error('request target must start with /');
  const prefix = base.href.endsWith('/') ? base.href.slice(0, -1) : base.href;
  const url = new URL(prefix + target);
  if (url.host !== base.host || url.protocol !== base.protocol) throw new Error('request target would leave the origin');
  return url;
}

export interface OriginFetcher {
  fetch(req: OriginRequest): Promise<OriginResponse>;
  close(): void;
}

/** Keep-alive agents toward the origins, so repeated misses do not pay a handshake each. */
export function createOriginFetcher(opts: { maxSockets: number; now?: () => number }): OriginFetcher {
  const http = new HttpAgent({ keepAlive: true, maxSockets: opts.maxSockets });
  const https = new HttpsAgent({ keepAlive: true, maxSockets: opts.maxSockets });
  return {
    fetch: (req) => fetchOrigin(req, { http, https }, opts.now ?? Date.now),
    close: () => {
      http.destroy();
      https.destroy();
    },
  };
}

/** Node's parser reports bytes after a complete message as a parse error on the request. */
function translate(err: Error & { code?: string }, responded: boolean): OriginError {
  if (err instanceof OriginError) return err;
  if (responded && err.code?.startsWith('HPE_')) return new OriginError('overlong', 'the origin sent more bytes than its Content-Length declared', { cause: err });
  if (err.code?.startsWith('HPE_')) return new OriginError('failed', `the origin's answer is not valid HTTP (${err.code})`, { cause: err });
  return new OriginError('failed', `origin request failed: ${err.message}`, { cause: err });
}

/** The body, capped: a longer one ends in an error (never in a short success); destroying it destroys the response. */
function capped(res: IncomingMessage, maxBodyBytes: number): Readable {
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBodyBytes) done(new OriginError('too_large', `origin body exceeds ${maxBodyBytes} bytes`));
      else done(null, chunk);
    },
  });
  pipeline(res, limit, () => undefined);
  return limit;
}

export function fetchOrigin(req: OriginRequest, agents: { http: HttpAgent; https: HttpsAgent }, now: () => number = Date.now): Promise<OriginResponse> {
  return new Promise((resolve, reject) => {
    let url: URL;
    try {
      url = originUrl(req.origin, req.path);
    } catch (err) {
      reject(new OriginError('failed', (err as Error).message, { cause: err }));
      return;
    }
    const requestTimeMs = now();
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    let responded = false;
    const fail = (err: OriginError) => {
      if (settled) return;
      settled = true;
      clearTimeout(headTimer);
      outgoing.destroy();
      reject(err);
    };
    const headers = [...req.headers.flat(), 'Host', req.host];
    const outgoing = send(url, { method: req.method, headers, agent: url.protocol === 'https:' ? agents.https : agents.http }, (res) => {
      responded = true;
      const declared = Number(res.headers['content-length'] ?? Number.NaN);
      if (declared > req.maxBodyBytes) return fail(new OriginError('too_large', `origin body of ${declared} bytes exceeds ${req.maxBodyBytes}`));
      const body = capped(res, req.maxBodyBytes);
      // A body longer than declared, in the same read as the head, surfaces as an error right
      // after this callback: wait one turn so it becomes a clear 502 instead of a cut response.
      setImmediate(() => {
        if (settled) return void body.destroy();
        settled = true;
        clearTimeout(headTimer);
        resolve({ status: res.statusCode ?? 502, headers: pairsFromRaw(res.rawHeaders), body, requestTimeMs, responseTimeMs: now() });
      });
    });
    outgoing.on('information', (info) => {
      if (info.statusCode === 102 || info.statusCode === 103) req.onInterim?.(info.statusCode, pairsFromRaw(info.rawHeaders));
    });
    // A deadline for the head, then an idle timer for the body (a large download may take long,
    // but an origin that stops sending is cut off).
    const headTimer = setTimeout(() => fail(new OriginError('timeout', `origin did not answer within ${req.timeoutMs} ms`)), req.timeoutMs);
    outgoing.setTimeout(req.timeoutMs, () => outgoing.destroy(new OriginError('timeout', `origin sent nothing for ${req.timeoutMs} ms`)));
    outgoing.on('error', (err) => fail(translate(err, responded)));
    outgoing.end();
  });
}
