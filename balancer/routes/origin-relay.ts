import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { VerityError } from '../../common/errors.js';
import { PieceHasher } from '../integrity/pieces.js';
import { encodingClass } from '../publication/variant.js';
import { failureOf, statusForFailure } from '../upstream/upstream-error.js';
import { originRequestHeaders } from '../upstream/request-headers.js';
import type { Abortable, Visit } from './visit.js';

// The origin serves this request: its answer goes to the visitor as it sent it, status, headers
// (minus hop-by-hop ones) and body, streamed with backpressure and no deadline once it answered
// (long downloads and server-sent events are the origin's business). When the answer may teach
// us something about the URL, its bytes are hashed as they pass.

/** What the relay reports when it is done (for learning and for judging a node that failed). */
export interface OriginOutcome {
  status: number;
  headers: IncomingHttpHeaders;
  /** Complete and hashed (only when asked to observe). */
  digest: { sha256: string; size: number; pieces: Buffer | null } | null;
  /** The first bytes, for evidence. */
  head: Buffer | null;
  requestTimeMs: number;
  responseTimeMs: number;
}

export interface RelayHooks {
  /** The origin answered completely. */
  finished(v: Visit, outcome: OriginOutcome): void;
  /** The origin failed (no answer, or its body was cut). */
  failed(v: Visit, failure: string, headersMs: number | null): void;
}

/**
 * A stale publication asked again with its validators (RFC 9111 §4.3): a 304 goes to
 * `notModified` instead of the visitor, anything else reaches the visitor as usual.
 */
export interface Revalidation {
  etag: string | null;
  lastModified: string | null;
  notModified(v: Visit, headers: IncomingHttpHeaders, requestTimeMs: number, responseTimeMs: number): void;
}

export interface RelayOptions {
  outcome: string;
  revalidation?: Revalidation;
  /** Hash the body (a GET whose answer may be published, or a fallback being judged). */
  observe: boolean;
  /** Keep this many first bytes for evidence. */
  keepHead: number;
  /** Send the visitor's encoding class instead of their Accept-Encoding (publishable requests). */
  normaliseEncoding: boolean;
  hooks: RelayHooks | null;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate']);

/** The origin's own response headers, minus hop-by-hop ones (its Set-Cookie included: it is the origin's). */
function relayedHeaders(headers: IncomingHttpHeaders): string[] {
  const named = headers.connection === undefined ? null : new Set(String(headers.connection).split(',').map((s) => s.trim().toLowerCase()));
  const out: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || (named !== null && named.has(name))) continue;
    if (Array.isArray(value)) for (const x of value) out.push(name, x);
    else out.push(name, value);
  }
  return out;
}

function interimHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function resume(this: { controller: Dispatcher.DispatchController }): void {
  this.controller.resume();
}

/** The visitor's body, counted: more than `limit` bytes ends the upstream request. */
async function* limited(body: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > limit) throw new VerityError('BAL_ERR_BODY_TOO_LARGE', `request body over ${limit} bytes`);
    yield chunk;
  }
}

export class OriginRelay implements Dispatcher.DispatchHandler, Abortable {
  controller: Dispatcher.DispatchController | null = null;
  private hasher: PieceHasher | null = null;
  private head: Buffer[] | null = null;
  private headLength = 0;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private requestTimeMs = 0;
  private headersAt = 0;
  private settled = false;

  constructor(private readonly v: Visit, private readonly o: RelayOptions) {}

  start(): void {
    const { v } = this;
    const { rt, site } = v;
    this.requestTimeMs = rt.now();
    v.current = this;
    const req = v.req;
    const declared = req.headers['content-length'];
    const hasBody = (declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (declared !== undefined && Number(declared) > rt.limits.bodyLimit) {
      v.sendError(413, 'BAL_ERR_BODY_TOO_LARGE');
      req.resume();
      return;
    }
    const headers = originRequestHeaders(req.headers, {
      host: site.host, clientIp: v.clientIp, proto: v.proto, encoding: this.o.normaliseEncoding ? encodingClass(req.headers['accept-encoding']) : null,
    });
    if (hasBody && declared !== undefined) headers.push('content-length', declared);
    const r = this.o.revalidation;
    if (r?.etag) headers.push('if-none-match', r.etag);
    if (r?.lastModified) headers.push('if-modified-since', r.lastModified);
    const base = site.origin.pathname === '/' ? '' : site.origin.pathname.replace(/\/$/, '');
    rt.upstreams.origin(site.origin).dispatch({
      path: base + v.url, method: v.method, headers,
      body: hasBody ? Readable.from(limited(req, rt.limits.bodyLimit)) : null,
    }, this);
  }

  abort(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    const { v } = this;
    if (status < 200) {
      // Interim answers go ahead of the final one, as the origin sent them (102, 103 with all
      // its headers); 100 and 101 are about our own connection to the origin.
      if (!v.res.headersSent && status === 102) v.res.writeProcessing();
      else if (!v.res.headersSent && status === 103) v.res.writeEarlyHints(interimHeaders(headers));
      return;
    }
    this.headersAt = v.rt.now();
    v.rt.metrics.observeUpstream('origin', (this.headersAt - this.requestTimeMs) / 1000);
    if (v.done) {
      controller.abort(new Error('visitor gone'));
      return;
    }
    this.status = status;
    this.headers = headers;
    // Our own conditional request was answered 304: the visitor gets the bytes we know, not this.
    if (status === 304 && this.o.revalidation) return;
    if (this.o.observe) this.hasher = new PieceHasher();
    if (this.o.keepHead > 0) this.head = [];
    v.clearDeadline();
    v.writeHead(status, relayedHeaders(headers), 'origin');
    v.rt.metrics.countRequest(this.o.outcome);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.status === 304 && this.o.revalidation) return;
    this.hasher?.update(chunk);
    if (this.head !== null && this.headLength < this.o.keepHead) {
      this.head.push(chunk.subarray(0, this.o.keepHead - this.headLength));
      this.headLength += Math.min(chunk.length, this.o.keepHead - this.headLength);
    }
    if (!this.v.res.write(chunk)) {
      controller.pause();
      this.v.res.once('drain', resume.bind(this as { controller: Dispatcher.DispatchController }));
    }
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    const { v } = this;
    if (this.status === 304 && this.o.revalidation) return this.o.revalidation.notModified(v, this.headers, this.requestTimeMs, this.headersAt);
    v.res.end();
    if (!this.o.hooks) return;
    const digest = this.hasher ? { ...this.hasher.finish(), size: this.hasher.size } : null;
    this.o.hooks.finished(v, {
      status: this.status, headers: this.headers, digest, head: this.head ? Buffer.concat(this.head) : null,
      requestTimeMs: this.requestTimeMs, responseTimeMs: this.headersAt,
    });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) return;
    this.settled = true;
    const { v } = this;
    const failure = failureOf(err);
    if (!v.res.headersSent && !v.done) {
      if (err instanceof VerityError && err.code === 'BAL_ERR_BODY_TOO_LARGE') v.sendError(413, 'BAL_ERR_BODY_TOO_LARGE');
      else v.sendError(statusForFailure(failure), 'BAL_ERR_ORIGIN_FAILED');
    } else if (!v.res.writableEnded) {
      // A cut origin body must not look complete to the visitor.
      v.res.destroy();
    }
    this.o.hooks?.failed(v, failure, this.headersAt === 0 ? null : this.headersAt - this.requestTimeMs);
  }
}
