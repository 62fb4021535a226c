import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pairsFromRaw, type HeaderPairs } from './cache/http-headers.js';

// One request to a site's origin with node:http, which hands back the bytes exactly as sent
// (fetch would decompress them; the balancer's integrity checks need the origin's bytes).
// Bounded: one overall deadline, a body size cap, and a budget for all bodies being read at once.

export interface OriginRequest {
  origin: string;
  method: 'GET' | 'HEAD';
  /** Path and query of the visitor's request. */
  path: string;
  headers: HeaderPairs;
  timeoutMs: number;
  maxBodyBytes: number;
}

export interface OriginResponse {
  status: number;
  headers: HeaderPairs;
  body: Buffer;
  requestTimeMs: number;
  responseTimeMs: number;
}

export class OriginError extends Error {
  constructor(readonly kind: 'timeout' | 'too_large' | 'failed', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bytes held by all origin responses being read at once, against one budget. */
export interface BufferBudget {
  take(bytes: number): boolean;
  give(bytes: number): void;
  held(): number;
}

export function createBufferBudget(maxBytes: number): BufferBudget {
  let held = 0;
  return {
    take(bytes) {
      if (held + bytes > maxBytes) return false;
      held += bytes;
      return true;
    },
    give(bytes) {
      held = Math.max(0, held - bytes);
    },
    held: () => held,
  };
}

function collect(res: IncomingMessage, limits: { maxBodyBytes: number; budget: BufferBudget }, fail: (e: OriginError) => void, done: (body: Buffer) => void): () => void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    if (size + chunk.length > limits.maxBodyBytes) {
      res.destroy();
      fail(new OriginError('too_large', `origin body exceeds ${limits.maxBodyBytes} bytes`));
      return;
    }
    // Many large responses at once must not exhaust the volunteer's memory.
    if (!limits.budget.take(chunk.length)) {
      res.destroy();
      fail(new OriginError('too_large', 'the node is holding too many response bytes at once'));
      return;
    }
    size += chunk.length;
    chunks.push(chunk);
  });
  res.on('end', () => done(Buffer.concat(chunks, size)));
  res.on('aborted', () => fail(new OriginError('failed', 'origin response aborted')));
  res.on('error', (err) => fail(new OriginError('failed', `origin response failed: ${err.message}`, { cause: err })));
  return () => limits.budget.give(size);
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
export function createOriginFetcher(opts: { maxSockets: number; maxBufferedBytes?: number; now?: () => number }): OriginFetcher {
  const http = new HttpAgent({ keepAlive: true, maxSockets: opts.maxSockets });
  const https = new HttpsAgent({ keepAlive: true, maxSockets: opts.maxSockets });
  const budget = createBufferBudget(opts.maxBufferedBytes ?? 256 * 1024 * 1024);
  return {
    fetch: (req) => fetchOrigin(req, { http, https, budget }, opts.now ?? Date.now),
    close: () => {
      http.destroy();
      https.destroy();
    },
  };
}

export function fetchOrigin(req: OriginRequest, agents: { http: HttpAgent; https: HttpsAgent; budget: BufferBudget }, now: () => number = Date.now): Promise<OriginResponse> {
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
    // Bytes go back to the budget once the response is handed on (or abandoned).
    let release: () => void = () => undefined;
    const fail = (err: OriginError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      release();
      reject(err);
    };
    const headers = [...req.headers.flat(), 'host', url.host];
    const outgoing = send(url, { method: req.method, headers, agent: url.protocol === 'https:' ? agents.https : agents.http }, (res) => {
      release = collect(res, { maxBodyBytes: req.maxBodyBytes, budget: agents.budget }, fail, (body) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        release();
        resolve({ status: res.statusCode ?? 502, headers: pairsFromRaw(res.rawHeaders), body, requestTimeMs, responseTimeMs: now() });
      });
    });
    // An overall deadline, not an idle timer: an origin dripping bytes is cut off too.
    const timer = setTimeout(() => fail(new OriginError('timeout', `origin did not answer within ${req.timeoutMs} ms`)), req.timeoutMs);
    outgoing.on('error', (err) => fail(new OriginError('failed', `origin request failed: ${err.message}`, { cause: err })));
    outgoing.end();
  });
}
