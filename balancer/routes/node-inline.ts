import { DecodeError, decodeBody } from '../../common/http/decode.js';
import type { RouteNode } from '../registry/types.js';
import type { Publication } from '../publication/types.js';
import { normaliseEncoding } from '../publication/learn.js';
import { BufferedFetch, bodyOf, type BufferedOwner, type FetchedAnswer } from '../upstream/buffered-fetch.js';
import { nodeRequestHeaders } from '../upstream/request-headers.js';
import { statusForFailure, type UpstreamFailure } from '../upstream/upstream-error.js';
import { attemptEnded, attemptStarted, chooseNode, countFailure, mayRetry, recordVisit } from './choose.js';
import { fallBackToOrigin } from './fallback.js';
import { headerViolations } from './node-headers.js';
import { acceptsEncoding } from './respond.js';
import { recordHeaders, sendVerified, type ByteRange } from './respond.js';
import type { Visit } from './visit.js';

// A published body small enough to hold: a node sends it whole, the balancer hashes it, and
// only bytes equal to the origin's reach the visitor, under the origin's headers. For a dynamic
// page the site lets nodes serve (--dynamic sampled) there is nothing to hash against: the
// node's bytes go out under the origin's headers, and a share is compared in the background.
//
// Per request: no I/O but the node's connection; one attempt object, no closures.

export type InlineMode = 'verified' | 'sampled';

const OVERFLOW_SLACK = 64 * 1024;
/** A sampled page may inflate to this many times the buffer limit (HTML compresses ~10×). */
const DECODED_CAP_FACTOR = 16;

class InlineAttempt implements BufferedOwner {
  private readonly startedAt: number;
  private readonly fetch: BufferedFetch;

  constructor(private readonly v: Visit, private readonly pub: Publication, private readonly node: RouteNode, private readonly mode: InlineMode, private readonly range: ByteRange) {
    this.startedAt = v.rt.now();
    // A few bytes more than the origin's are read, so a node that added some is judged on them.
    this.fetch = new BufferedFetch(this, mode === 'verified' ? pub.current.size + OVERFLOW_SLACK : v.rt.limits.bufferLimit, mode === 'verified');
  }

  start(): void {
    const { v, node } = this;
    const { rt, site } = v;
    attemptStarted(v, node);
    v.current = this.fetch;
    // The visitor's own encoding class, as for the origin: a node cannot tell verified fetches
    // (or audits) from other requests by it.
    const headers = nodeRequestHeaders(v.req.headers, {
      host: site.host, target: v.url, method: 'GET', encoding: v.encoding, varyNames: rt.publications.family(site.id, v.url)?.varyNames ?? [], range: null,
      nodeKey: rt.nodeKey(node.id), now: rt.now(),
    });
    rt.upstreams.node(node.publicUrl).dispatch({
      path: v.url, method: 'GET', headers, headersTimeout: rt.limits.attemptTimeoutMs, bodyTimeout: rt.limits.attemptTimeoutMs,
    }, this.fetch);
  }

  fetched(a: FetchedAnswer): void {
    const { v, pub, node } = this;
    if (v.done) return attemptEnded(v, node, this.startedAt, false);
    const o = pub.current;
    if (a.status >= 500) return this.fetchFailed('status', a.size, `status ${a.status}`);
    const encoding = normaliseEncoding(a.headers['content-encoding']);
    // A dynamic page has no bytes to check: another encoding the visitor takes will do.
    const encodingOk = encoding === o.encoding || (this.mode === 'sampled' && acceptsEncoding(v.encoding, encoding));
    if (a.status !== o.status || !encodingOk) {
      // Another answer than the origin's: not bytes we can check, so not served (nor punished as tampering).
      return this.otherAnswer(a, encoding);
    }
    if (a.overflow && this.mode === 'sampled') return this.fetchFailed('too-large', a.size, 'over the buffer limit');
    attemptEnded(v, node, this.startedAt, false);
    if (this.mode === 'sampled') return encoding === null ? this.sendSampled(bodyOf(a), encoding) : this.checkDecodes(bodyOf(a), encoding);
    if (a.sha256 !== o.sha256 || a.size !== o.size) return this.mismatch(a, a.sha256 ?? '', encoding);
    sendVerified(v, pub, a, node.id, this.range);
    v.rt.metrics.countRequest('node_verified');
    strikeHeaders(v, node, headerViolations(a.headers, pub, v.site.host));
    recordVisit(v, node.id);
  }

  fetchFailed(failure: UpstreamFailure, received: number, detail: string): void {
    const { v, node } = this;
    attemptEnded(v, node, this.startedAt, true);
    if (v.done) return;
    if (failure === 'truncated') {
      v.rt.strikes.push({ nodeId: node.id, kind: 'truncation_strike', reason: `body cut after ${received} bytes at ${v.url.slice(0, 300)}` });
      v.rt.metrics.strikes.inc({ kind: 'truncation_strike' });
    }
    v.rt.log.debug({ nodeId: node.id, failure, detail }, 'node attempt failed');
    if (v.pinned) {
      // An audit asked for this node: its failure is the audit's finding, not hidden by the origin.
      countFailure(v, node, failure);
      return v.sendError(statusForFailure(failure), 'BAL_ERR_UPSTREAM_FAILED', node.id);
    }
    v.noteFailure(node, failure);
    if (mayRetry(v)) return serveInline(v, this.pub, this.mode, this.range);
    fallBackToOrigin(v, 'origin_after_node_failure');
  }

  /** Not the origin's status or encoding: the origin answers; an audit learns the node was not the one. */
  private otherAnswer(a: FetchedAnswer, encoding: string | null): void {
    const { v, node, pub } = this;
    if (!v.pinned) return this.fetchFailed('status', a.size, `answered ${a.status} ${encoding ?? 'identity'}, origin ${pub.current.status} ${pub.current.encoding ?? 'identity'}`);
    attemptEnded(v, node, this.startedAt, false);
    fallBackToOrigin(v, 'origin_other_answer');
  }

  private mismatch(a: FetchedAnswer, sha256: string, encoding: string | null): void {
    const { v, pub, node } = this;
    v.rt.metrics.integrityMismatches.inc();
    v.judging = { node, status: a.status, encoding, sha256, body: bodyOf(a), expected: pub };
    fallBackToOrigin(v, 'origin_integrity');
  }

  /**
   * Unchecked bytes must at least be what their encoding says, within reason: a 6 KiB brotli bomb
   * that inflates to gigabytes never reaches a visitor's browser. Decoded off the event loop.
   */
  private checkDecodes(body: Buffer, encoding: string): void {
    const { v, node } = this;
    decodeBody(body, encoding, DECODED_CAP_FACTOR * v.rt.limits.bufferLimit).then(
      () => {
        if (!v.done) this.sendSampled(body, encoding);
      },
      (err: unknown) => {
        if (v.done) return;
        if (err instanceof DecodeError && err.reason === 'too-large') {
          v.rt.strikes.push({ nodeId: node.id, kind: 'integrity_mismatch', reason: `${encoding} body of ${v.url.slice(0, 300)} inflates past ${DECODED_CAP_FACTOR * v.rt.limits.bufferLimit} bytes (a decompression bomb)` });
          v.rt.metrics.strikes.inc({ kind: 'integrity_mismatch' });
        }
        fallBackToOrigin(v, 'origin_undecodable');
      },
    );
  }

  private sendSampled(body: Buffer, encoding: string | null): void {
    const { v, pub, node } = this;
    const { rt } = v;
    // A dynamic page's validators are for the origin's bytes, not these.
    const headers = recordHeaders(pub.current, rt.now(), { dropValidators: true, encoding });
    headers.push('content-length', String(body.length));
    v.writeHead(pub.current.status, headers, node.id);
    v.res.end(v.method === 'HEAD' ? undefined : body);
    rt.metrics.countRequest('node_sampled');
    if (v.pinned !== null) return;
    recordVisit(v, node.id);
    if (rt.random() < rt.limits.shadowShare) {
      rt.shadow.offer({ siteId: v.site.id, nodeId: node.id, url: v.url, host: v.site.host, contentType: pub.current.headers['content-type'], encoding, body });
    }
  }
}

/** A node that tried to set headers it could not have got from the origin (coalesced per node). */
export function strikeHeaders(v: Visit, node: RouteNode, violations: string[]): void {
  if (violations.length === 0) return;
  if (v.rt.strikes.push({ nodeId: node.id, kind: 'header_strike', reason: `response headers the origin never sent for ${v.url.slice(0, 200)}: ${violations.join('; ')}`.slice(0, 1000) })) {
    v.rt.metrics.strikes.inc({ kind: 'header_strike' });
  }
}

/** Serves a published body through a node, or through the origin when no node can. */
export function serveInline(v: Visit, pub: Publication, mode: InlineMode, range: ByteRange): void {
  const node = chooseNode(v);
  if (!node) {
    if (v.tried === null) return fallBackToOrigin(v, 'origin_no_node');
    return fallBackToOrigin(v, 'origin_after_node_failure');
  }
  if (v.tried !== null) v.rt.metrics.retries.inc();
  new InlineAttempt(v, pub, node, mode, range).start();
}
