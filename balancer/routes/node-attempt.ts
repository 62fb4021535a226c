import type { IncomingMessage } from 'node:http';
import { AUDIT_PIN_HEADER } from '../../common/protocol/audit-pin.js';
import { headersToNode } from '../proxy/request-headers.js';
import { nodeResponseHeaders, type HeaderVerdict } from '../proxy/response-headers.js';
import { failureOf, upstreamError, type UpstreamFailure } from '../proxy/upstream-error.js';
import type { UpstreamResponse } from '../proxy/forwarder.js';
import type { RouteNode } from '../registry/types.js';
import type { Exchange } from './exchange.js';
import { readBody } from './read-body.js';
import { upstreamUrl } from './upstream-url.js';

// One try at one node, up to the point where its response is known good (or not). Nothing is
// sent to the visitor here unless the body is too large to hold; the caller decides.

export type AttemptResult =
  | { kind: 'buffered'; status: number; verdict: HeaderVerdict; body: Buffer; contentType: string; contentEncoding: string | null }
  | { kind: 'empty'; status: number; verdict: HeaderVerdict }
  | { kind: 'stream'; status: number; verdict: HeaderVerdict; body: IncomingMessage }
  | { kind: 'failed'; failure: UpstreamFailure }
  | { kind: 'gone' };

function declaredLength(up: UpstreamResponse): number | null {
  const raw = up.headers['content-length'];
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

async function awaitHeaders(ex: Exchange, node: RouteNode, verify: boolean): Promise<UpstreamResponse | UpstreamFailure> {
  const { rt } = ex;
  const call = rt.forwarder.forward({
    req: ex.req, res: ex.res, target: upstreamUrl(node.publicUrl, ex.url),
    headers: headersToNode(ex.req.headers, { host: ex.site.host, forVerification: verify }), toNode: true,
  });
  ex.current = call;
  const timer = setTimeout(() => call.abort(upstreamError('timeout', 'node sent no response headers in time')), rt.limits.attemptTimeoutMs);
  const started = rt.now();
  try {
    const up = await call.response;
    rt.metrics.observeUpstream('node', (rt.now() - started) / 1000);
    return up;
  } catch (err) {
    return failureOf(err);
  } finally {
    clearTimeout(timer);
  }
}

/** One try, counted in the node's traffic (dashboard) once its response is complete or failed. */
export async function tryNode(ex: Exchange, node: RouteNode, verify: boolean): Promise<AttemptResult> {
  const started = ex.rt.now();
  const result = await attempt(ex, node, verify);
  countTraffic(ex, node, started, result);
  return result;
}

function countTraffic(ex: Exchange, node: RouteNode, started: number, result: AttemptResult): void {
  const { rt } = ex;
  if (result.kind === 'gone') return;
  // serve.ts answers 403 to a request whose pin does not verify, so one that reached a node with the header is an audit.
  const audit = ex.req.headers[AUDIT_PIN_HEADER] !== undefined;
  if (result.kind !== 'stream') return rt.traffic.observe(node.id, rt.now() - started, result.kind === 'failed', audit);
  const body = result.body;
  // Cut by us (visitor left, deadline) is not the node's doing.
  body.once('close', () => rt.traffic.observe(node.id, rt.now() - started, !body.complete && !ex.clientGone && !ex.expired, audit));
}

async function attempt(ex: Exchange, node: RouteNode, verify: boolean): Promise<AttemptResult> {
  const { rt } = ex;
  const up = await awaitHeaders(ex, node, verify);
  if (typeof up === 'string') return ex.done ? { kind: 'gone' } : { kind: 'failed', failure: up };
  if (ex.done) {
    up.body.destroy();
    return { kind: 'gone' };
  }
  up.body.on('error', () => undefined);
  if (up.status >= 500) {
    up.body.destroy();
    return { kind: 'failed', failure: 'status' };
  }
  const verdict = nodeResponseHeaders(up.headers, ex.site.host, rt.policies.get(ex.site.id));
  if (verdict.violations.length > 0) {
    if (rt.strikes.push({ nodeId: node.id, kind: 'header_strike', reason: `response headers: ${verdict.violations.join('; ')}`.slice(0, 1000) })) {
      rt.metrics.strikes.inc({ kind: 'header_strike' });
    }
  }
  const length = declaredLength(up);
  if (ex.method === 'HEAD' || up.status === 204 || up.status === 304 || up.status < 200) {
    up.body.resume();
    return { kind: 'empty', status: up.status, verdict };
  }
  if (length !== null && length > rt.limits.maxResponseSize) {
    up.body.destroy();
    return { kind: 'failed', failure: 'too-large' };
  }
  if (length !== null && length > rt.limits.bufferLimit && !verify) return { kind: 'stream', status: up.status, verdict, body: up.body };
  const read = await readBody(up.body, rt.limits.bufferLimit);
  if (ex.done) return { kind: 'gone' };
  if (!read.ok) {
    if (read.failure === 'truncated') {
      rt.strikes.push({ nodeId: node.id, kind: 'truncation_strike', reason: `body cut after ${read.received} of ${length ?? 'unknown'} bytes at ${ex.url.slice(0, 300)}` });
      rt.metrics.strikes.inc({ kind: 'truncation_strike' });
    }
    return { kind: 'failed', failure: read.failure };
  }
  const contentType = String(up.headers['content-type'] ?? '');
  const encoding = up.headers['content-encoding'];
  return { kind: 'buffered', status: up.status, verdict, body: read.body, contentType, contentEncoding: typeof encoding === 'string' ? encoding : null };
}
