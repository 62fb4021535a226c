import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { failureOf, upstreamError, type UpstreamFailure } from './upstream-error.js';

// One request to a node whose whole answer is read before anyone decides anything: the bytes
// are checked first, so a truncated, oversized or failed answer can still be replaced cleanly.

export interface FetchedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as it came, in pieces (joined only where one buffer is needed). */
  chunks: Buffer[];
  size: number;
  /** sha256 (hex) of the body, when asked for (hashed as the chunks arrived). */
  sha256: string | null;
  /** The node sent more than the limit: the chunks are what came before it (the connection is closed). */
  overflow: boolean;
}

/** The body as one buffer. */
export function bodyOf(a: FetchedAnswer): Buffer {
  return a.chunks.length === 1 ? (a.chunks[0] as Buffer) : Buffer.concat(a.chunks, a.size);
}

/** The caller's side of a buffered fetch (one object, no closures per request). */
export interface BufferedOwner {
  fetched(answer: FetchedAnswer): void;
  fetchFailed(failure: UpstreamFailure, received: number, detail: string): void;
}

export class BufferedFetch implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private chunks: Buffer[] = [];
  private size = 0;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private settled = false;
  private readonly hash: Hash | null;

  constructor(
    private readonly owner: BufferedOwner,
    /** Largest body accepted (more is a failure, and the connection is closed). */
    private readonly limit: number,
    /** Hash the body as it arrives (the bytes are then judged without another pass). */
    hash: boolean,
  ) {
    this.hash = hash ? createHash('sha256') : null;
  }

  abort(reason: Error): void {
    if (this.settled) return;
    if (this.controller) this.controller.abort(reason);
    else this.fail('reset', reason.message);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    const declared = headers['content-length'];
    if (declared !== undefined && Number(declared) > this.limit) controller.abort(upstreamError('too-large', `declared ${String(declared)} bytes, more than ${this.limit}`));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.size + chunk.length > this.limit) {
      const head = chunk.subarray(0, this.limit - this.size);
      this.hash?.update(head);
      this.chunks.push(head);
      this.size = this.limit;
      this.deliver(true);
      controller.abort(upstreamError('too-large', `sent more than ${this.limit} bytes`));
      return;
    }
    this.size += chunk.length;
    this.hash?.update(chunk);
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.deliver(false);
  }

  private deliver(overflow: boolean): void {
    if (this.settled) return;
    this.settled = true;
    const chunks = this.chunks;
    this.chunks = [];
    this.owner.fetched({ status: this.status, headers: this.headers, chunks, size: this.size, sha256: this.hash ? this.hash.digest('hex') : null, overflow });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const failure = failureOf(err);
    // Cut after the answer started, for a reason that is not ours: a truncated body.
    this.fail(failure === 'reset' && this.status !== 0 ? 'truncated' : failure, err.message);
  }

  private fail(failure: UpstreamFailure, detail: string): void {
    if (this.settled) return;
    this.settled = true;
    this.chunks = [];
    this.owner.fetchFailed(failure, this.size, detail);
  }
}
