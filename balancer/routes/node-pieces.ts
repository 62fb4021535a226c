import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { PieceSink, type PieceWriter } from '../integrity/piece-sink.js';
import { normaliseEncoding } from '../publication/learn.js';
import { PIECE_SIZE, piecesOf, type Publication } from '../publication/types.js';
import type { RouteNode } from '../registry/types.js';
import { nodeRequestHeaders } from '../upstream/request-headers.js';
import { failureOf, statusForFailure, upstreamError } from '../upstream/upstream-error.js';
import { attemptEnded, attemptStarted, chooseNode, countFailure, mayRetry, recordVisit } from './choose.js';
import { fallBackToOrigin } from './fallback.js';
import { headerViolations } from './node-headers.js';
import { strikeHeaders } from './node-inline.js';
import { recordHeaders } from './respond.js';
import type { Abortable, Visit } from './visit.js';

// A published body too large to hold (downloads, video): a node streams it, and every piece
// is checked against the origin's digest before it is released to the visitor. A Range request
// fetches just the pieces that cover it. If a piece does not match, or the node fails after the
// visitor got the first bytes, the origin finishes the response from that piece on (with
// If-Range, so it is the same version), through the same piece checks: the visitor gets a
// complete and correct file, or a cut one, never a wrong one.

/** One stream of verified pieces into the visitor's response, from a node or (to finish) the origin. */
abstract class PieceStream implements Dispatcher.DispatchHandler, Abortable, PieceWriter {
  controller: Dispatcher.DispatchController | null = null;
  protected sink: PieceSink;
  protected settled = false;

  constructor(protected readonly v: Visit, protected readonly pub: Publication, fromPiece: number, protected readonly start: number, protected readonly end: number) {
    this.sink = new PieceSink(piecesOf(pub.current), pub.current.size, start, end, fromPiece, this);
  }

  abort(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  /** Whole-piece range to ask for: from the piece being received to the one holding `end`. */
  protected rangeHeader(): string {
    return `bytes=${this.sink.pos}-${this.sink.fetchEnd}`;
  }

  /** 206 for exactly our range, or 200 with everything (then the head is skipped). */
  protected acceptStart(status: number, headers: IncomingHttpHeaders): boolean {
    if (normaliseEncoding(headers['content-encoding']) !== null) return false;
    if (status === 200) {
      this.sink.skip = this.sink.pos;
      return true;
    }
    return status === 206 && headers['content-range'] === `bytes ${this.sink.pos}-${this.sink.fetchEnd}/${this.pub.current.size}`;
  }

  write(bytes: Buffer): boolean {
    const { v } = this;
    if (!v.res.headersSent) this.sendHeaders();
    return v.res.write(bytes);
  }

  private sendHeaders(): void {
    const { v, pub } = this;
    const o = pub.current;
    const headers = recordHeaders(o, v.rt.now());
    const partial = this.start !== 0 || this.end !== o.size - 1;
    if (partial) headers.push('content-range', `bytes ${this.start}-${this.end}/${o.size}`);
    headers.push('content-length', String(this.end - this.start + 1));
    v.writeHead(partial ? 206 : o.status, headers, this.servedBy());
  }

  protected abstract servedBy(): string;

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    const result = this.sink.feed(chunk);
    if (result !== 'ok') {
      // Settle first: aborting reports an error synchronously, which must not count as a failure.
      this.badBytes(result === 'mismatch');
      controller.abort(upstreamError(result === 'mismatch' ? 'protocol' : 'too-large', `piece ${this.sink.index} ${result}`));
      return;
    }
    if (this.sink.backlogged) {
      this.sink.backlogged = false;
      controller.pause();
      this.v.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.settled) return;
    if (!this.sink.complete) return this.failed('truncated');
    this.settled = true;
    this.v.res.end();
    this.succeeded();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) return;
    const failure = failureOf(err);
    this.failed(failure === 'reset' && this.sink.pos > 0 ? 'truncated' : failure);
  }

  protected abstract badBytes(mismatch: boolean): void;
  protected abstract failed(failure: string): void;
  protected abstract succeeded(): void;
}

class NodePieces extends PieceStream {
  private readonly startedAt: number;
  private etag: string | null = null;

  constructor(v: Visit, pub: Publication, private readonly node: RouteNode, fromPiece: number, start: number, end: number) {
    super(v, pub, fromPiece, start, end);
    this.startedAt = v.rt.now();
  }

  protected servedBy(): string {
    return this.node.id;
  }

  go(): void {
    const { v, node } = this;
    const { rt, site } = v;
    attemptStarted(v, node);
    v.current = this;
    const whole = this.sink.pos === 0 && this.sink.fetchEnd === this.pub.current.size - 1;
    const headers = nodeRequestHeaders(v.req.headers, {
      host: site.host, target: v.url, method: 'GET', encoding: 'identity', varyNames: rt.publications.family(site.id, v.url)?.varyNames ?? [],
      range: whole ? null : this.rangeHeader(), nodeKey: rt.nodeKey(node.id), now: rt.now(),
    });
    rt.upstreams.node(node.publicUrl).dispatch({ path: v.url, method: 'GET', headers, headersTimeout: rt.limits.attemptTimeoutMs, bodyTimeout: rt.limits.attemptTimeoutMs }, this);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return;
    this.etag = typeof headers.etag === 'string' ? headers.etag : typeof headers['last-modified'] === 'string' ? headers['last-modified'] : null;
    if (this.v.done) return controller.abort(new Error('visitor gone'));
    if (!this.acceptStart(status, headers)) {
      controller.abort(upstreamError('status', `answered ${status}`));
      this.failed('status');
      return;
    }
    strikeHeaders(this.v, this.node, headerViolations(headers, this.pub, this.v.site.host));
  }

  protected succeeded(): void {
    const { v, node } = this;
    attemptEnded(v, node, this.startedAt, false);
    v.rt.metrics.countRequest('node_verified_pieces');
    recordVisit(v, node.id);
  }

  protected failed(failure: string): void {
    if (this.settled) return;
    this.settled = true;
    const { v, node } = this;
    attemptEnded(v, node, this.startedAt, true);
    if (v.done) return;
    if (failure === 'truncated') {
      v.rt.strikes.push({ nodeId: node.id, kind: 'truncation_strike', reason: `download cut at byte ${this.sink.pos} of ${v.url.slice(0, 300)}` });
      v.rt.metrics.strikes.inc({ kind: 'truncation_strike' });
    }
    if (v.pinned && !v.res.headersSent) {
      countFailure(v, node, failure);
      return v.sendError(statusForFailure(failure === 'timeout' ? 'timeout' : 'reset'), 'BAL_ERR_UPSTREAM_FAILED', node.id);
    }
    v.noteFailure(node, failure);
    this.takeOver();
  }

  protected badBytes(): void {
    if (this.settled) return;
    this.settled = true;
    const { v, node, pub } = this;
    attemptEnded(v, node, this.startedAt, false);
    v.rt.metrics.integrityMismatches.inc();
    const o = pub.current;
    // An honest node sends a version's bytes under that version's validator. Other bytes under
    // the very validator we verify against are no stale copy: they were altered.
    const validator = o.etag ?? o.lastModified;
    if (validator !== null && this.etag === validator) {
      v.rt.strikes.push({
        nodeId: node.id, kind: 'integrity_mismatch',
        reason: `piece ${this.sink.index} of ${v.url.slice(0, 300)} does not match the origin's (same validator ${validator.slice(0, 80)})`,
        evidence: { kind: 'integrity_mismatch', contentType: 'application/json', body: Buffer.from('{}'), meta: { url: v.url, host: v.site.host, piece: this.sink.index, validator } },
      });
      v.rt.metrics.strikes.inc({ kind: 'integrity_mismatch' });
    } else {
      v.rt.invalidator.push(v.site, [v.url], [node]);
    }
    this.takeOver();
  }

  /** Another node, or the origin, carries on. */
  private takeOver(): void {
    const { v, pub } = this;
    if (!v.res.headersSent) {
      if (mayRetry(v)) return servePieces(v, pub, { start: this.start, end: this.end });
      return fallBackToOrigin(v, 'origin_after_node_failure');
    }
    new OriginFinish(v, pub, this.sink.index, this.start, this.end).go();
  }
}

/** The origin sends the rest, from the piece the node failed on, through the same checks. */
class OriginFinish extends PieceStream {
  protected servedBy(): string {
    return 'origin';
  }

  go(): void {
    const { v, pub } = this;
    const { rt, site } = v;
    v.current = this;
    const validator = pub.current.etag !== null && !pub.current.etag.startsWith('W/') ? pub.current.etag : pub.current.lastModified;
    const headers = ['host', site.host, 'accept-encoding', 'identity', 'range', this.rangeHeader()];
    if (validator !== null) headers.push('if-range', validator);
    const base = site.origin.pathname === '/' ? '' : site.origin.pathname.replace(/\/$/, '');
    rt.metrics.countRequest('origin_finished_download');
    rt.upstreams.origin(site.origin).dispatch({ path: base + v.url, method: 'GET', headers }, this);
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return;
    if (!this.acceptStart(status, headers)) {
      controller.abort(upstreamError('status', `origin answered ${status}`));
      this.failed();
    }
  }

  protected succeeded(): void {
    // The download is complete and every byte was checked.
  }

  protected badBytes(): void {
    this.failed();
  }

  protected failed(): void {
    if (this.settled) return;
    this.settled = true;
    // The origin no longer has the version the visitor got the start of: cutting the download
    // is the only honest answer (a retry fetches the new version).
    this.v.rt.log.warn({ url: this.v.url.slice(0, 300), piece: this.sink.index }, 'could not finish a download from the origin: cut');
    this.v.res.destroy();
  }
}

/** Serves a large published body (or a range of it) through a node, piece by piece. */
export function servePieces(v: Visit, pub: Publication, range: { start: number; end: number }): void {
  const node = chooseNode(v);
  if (!node) return fallBackToOrigin(v, v.tried === null ? 'origin_no_node' : 'origin_after_node_failure');
  if (v.tried !== null) v.rt.metrics.retries.inc();
  new NodePieces(v, pub, node, Math.floor(range.start / PIECE_SIZE), range.start, range.end).go();
}
