import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { failureOf, upstreamError, type UpstreamFailure } from './upstream-error.js';

// One request to a node whose whole answer is read before anyone decides anything: the bytes
// are checked first, so a truncated, oversized or failed answer can still be replaced cleanly.

export interface FetchedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The node sent more than the limit: `body` is what came before it (the connection is closed). */
  overflow: boolean;
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

  constructor(
    private readonly owner: BufferedOwner,
    /** Largest body accepted (more is a failure, and the connection is closed). */
    private readonly limit: number,
  ) {}

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
      this.chunks.push(chunk.subarray(0, this.limit - this.size));
      this.size = this.limit;
      this.deliver(true);
      controller.abort(upstreamError('too-large', `sent more than ${this.limit} bytes`));
      return;
    }
    this.size += chunk.length;
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.deliver(false);
  }

  private deliver(overflow: boolean): void {
    if (this.settled) return;
    this.settled = true;
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.owner.fetched({ status: this.status, headers: this.headers, body, overflow });
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
