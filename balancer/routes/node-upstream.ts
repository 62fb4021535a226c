import { isRoutable } from '../../common/domain/trust.js';
import { acceptsEncoding, decodeBody, sha256Hex } from '../integrity/decode.js';
import type { HashEntry } from '../integrity/hash-store.js';
import { statusForFailure, type UpstreamFailure } from '../proxy/upstream-error.js';
import type { RouteNode } from '../registry/types.js';
import { pickNode } from '../selection/pick.js';
import { probationGroup } from '../selection/probation-meter.js';
import type { Exchange } from './exchange.js';
import { serveMismatchFromOrigin } from './integrity-fallback.js';
import { tryNode, type AttemptResult } from './node-attempt.js';
import { serveFromOrigin } from './origin-upstream.js';

type Expected = Extract<HashEntry, { kind: 'hash' }> | null;

function choose(ex: Exchange, tried: ReadonlySet<string>): RouteNode | null {
  const { rt, site } = ex;
  const now = rt.now();
  return pickNode({
    index: rt.table.indexFor(site.id),
    client: ex.client,
    random: rt.random,
    outstanding: (n) => rt.outstanding.get(n.id) ?? 0,
    eligible: (n) => isRoutable(n.status) && !n.draining && !tried.has(n.id) && !rt.unhealthy.has(n.id) && !rt.outlier.isEjected(n.id, now)
      && (n.status !== 'probation' || rt.probation.allowed(site.id, probationGroup(n))),
  });
}

function onFailure(ex: Exchange, node: RouteNode, failure: UpstreamFailure): void {
  const { rt } = ex;
  if (rt.outlier.onFailure(node.id, rt.now(), rt.table.nodeCount)) {
    rt.metrics.ejections.inc();
    rt.log.warn({ nodeId: node.id, failure }, 'node ejected after consecutive failures');
  }
}

function canRetry(ex: Exchange, pinned: boolean, attempt: number): boolean {
  return !pinned && !ex.done && !ex.res.headersSent && (ex.method === 'GET' || ex.method === 'HEAD')
    && attempt + 1 < ex.rt.limits.maxAttempts && ex.rt.retryBudget.tryRetry(ex.rt.now());
}

/**
 * Public request: a node serves it, verified where we can, retried on another node on failure
 * before any byte went out. No eligible node → the origin (fail closed).
 */
export async function serveFromNodes(ex: Exchange, pinned: RouteNode | null, expected: Expected): Promise<void> {
  const { rt, site } = ex;
  const tried = new Set<string>();
  let last: UpstreamFailure = 'reset';
  for (let attempt = 0; ; attempt++) {
    const node = pinned ?? choose(ex, tried);
    if (!node) {
      if (attempt === 0) return serveFromOrigin(ex, { outcome: 'origin_no_node' });
      return ex.sendError(statusForFailure(last), 'BAL_ERR_NO_ELIGIBLE_NODE');
    }
    if (attempt === 0 && !pinned) rt.probation.record(site.id, node.status === 'probation' ? probationGroup(node) : null);
    if (attempt > 0) rt.metrics.retries.inc();
    tried.add(node.id);
    rt.outstanding.set(node.id, (rt.outstanding.get(node.id) ?? 0) + 1);
    let result: AttemptResult;
    try {
      result = await tryNode(ex, node, expected !== null);
    } finally {
      const left = (rt.outstanding.get(node.id) ?? 1) - 1;
      if (left <= 0) rt.outstanding.delete(node.id);
      else rt.outstanding.set(node.id, left);
    }
    if (result.kind === 'gone') return;
    if (result.kind !== 'failed') {
      rt.outlier.onSuccess(node.id);
      return deliver(ex, node, result, expected, pinned !== null);
    }
    last = result.failure;
    onFailure(ex, node, result.failure);
    if (!canRetry(ex, pinned !== null, attempt)) return ex.sendError(statusForFailure(last), 'BAL_ERR_UPSTREAM_FAILED');
  }
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

type Buffered = Extract<AttemptResult, { kind: 'buffered' }>;

function deliver(ex: Exchange, node: RouteNode, result: Exclude<AttemptResult, { kind: 'failed' | 'gone' }>, expected: Expected, pinned: boolean): Promise<void> | void {
  const { rt } = ex;
  const headers = result.verdict.headers;
  if (result.kind === 'empty') {
    ex.writeHead(result.status, headers, node.id);
    ex.res.end();
    rt.metrics.countRequest('node');
    return;
  }
  if (result.kind === 'stream') {
    ex.writeHead(result.status, headers, node.id);
    result.body.on('close', () => {
      // Cut by us (visitor left, deadline) is not the node's doing.
      if (result.body.complete || ex.clientGone || ex.expired) return;
      rt.metrics.strikes.inc({ kind: 'truncation_strike' });
      rt.strikes.push({ nodeId: node.id, kind: 'truncation_strike', reason: `streamed body cut at ${ex.url.slice(0, 300)}` });
      ex.res.destroy();
    });
    result.body.pipe(ex.res);
    rt.metrics.countRequest('node');
    return;
  }
  if (!expected) return send(ex, node, result, pinned, false);
  if (result.status !== 200) return serveFromOrigin(ex, { outcome: 'origin_unverifiable' });
  // Judged on content (decoded), as the origin's hash is. The encoded bytes go to visitors who
  // take that encoding; the others get the verified content itself.
  const decoded = decodeBody(result.body, result.contentEncoding, rt.limits.bufferLimit);
  // Bytes that do not even decode are judged as they are (a mismatch, with them as evidence).
  if (decoded === null) return serveMismatchFromOrigin(ex, node, result.body, sha256Hex(result.body), expected);
  const nodeSha = sha256Hex(decoded);
  if (nodeSha !== expected.sha256) return serveMismatchFromOrigin(ex, node, decoded, nodeSha, expected);
  const encoding = result.contentEncoding;
  if (decoded === result.body || (encoding && acceptsEncoding(headerString(ex.req.headers['accept-encoding']), encoding.toLowerCase()))) return send(ex, node, result, pinned, true);
  delete headers['content-encoding'];
  return send(ex, node, { ...result, body: decoded, contentEncoding: null }, pinned, true);
}

function send(ex: Exchange, node: RouteNode, result: Buffered, pinned: boolean, verified: boolean): void {
  const { rt } = ex;
  const headers = result.verdict.headers;
  delete headers['transfer-encoding'];
  headers['content-length'] = result.body.length;
  ex.writeHead(result.status, headers, node.id);
  ex.res.end(result.body);
  rt.metrics.countRequest(verified ? 'node_verified' : 'node');
  if (pinned) return;
  rt.samples.record(ex.site.id, ex.url);
  if (result.status === 200 && result.contentType.startsWith('text/html') && rt.random() < rt.limits.shadowShare) {
    rt.shadow.offer({ siteId: ex.site.id, nodeId: node.id, url: ex.url, host: ex.site.host, contentType: result.contentType, contentEncoding: result.contentEncoding, body: result.body });
  }
}
