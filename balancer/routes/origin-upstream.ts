import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { headersToOrigin } from '../proxy/request-headers.js';
import { extractPolicy, originResponseHeaders } from '../proxy/response-headers.js';
import { failureOf, statusForFailure, upstreamError } from '../proxy/upstream-error.js';
import type { Exchange } from './exchange.js';
import { upstreamUrl } from './upstream-url.js';

export interface OriginBodyReport {
  status: number;
  complete: boolean;
  sha256: string;
  size: number;
  etag: string | null;
  /** The origin's Content-Encoding, if any. */
  encoding: string | null;
  /** The first `collect` bytes, for evidence. */
  head: Buffer;
}

export interface OriginOptions {
  /** Hash the body as it streams by and report it (learning a static file's hash). */
  onBody?: (report: OriginBodyReport) => void;
  collect?: number;
  outcome: string;
}

function limitBody(req: Readable, limit: number): Readable {
  let seen = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(new Error('request body too large'));
      else cb(null, chunk);
    },
  });
  req.on('error', (err) => limiter.destroy(err));
  return req.pipe(limiter);
}

function hasBody(ex: Exchange): boolean {
  return ex.req.headers['content-length'] !== undefined || ex.req.headers['transfer-encoding'] !== undefined;
}

/** The origin serves this request: streamed both ways, the origin's headers kept. */
export async function serveFromOrigin(ex: Exchange, opts: OriginOptions): Promise<void> {
  const { rt, site } = ex;
  const declared = Number(ex.req.headers['content-length'] ?? 0);
  if (declared > rt.limits.bodyLimit) {
    ex.sendError(413, 'BAL_ERR_BODY_TOO_LARGE');
    return;
  }
  const started = rt.now();
  const body = hasBody(ex) ? limitBody(ex.req, rt.limits.bodyLimit) : undefined;
  const call = rt.forwarder.forward({
    req: ex.req, res: ex.res, target: upstreamUrl(site.origin, ex.url),
    headers: headersToOrigin(ex.req.headers, { host: site.host, clientIp: ex.clientIp }),
    body,
  });
  ex.current = call;
  // A body over the limit, or a visitor who stops sending it, ends the upstream request too.
  body?.on('error', (err) => {
    call.abort(upstreamError('protocol', err.message, err));
    if (!ex.res.headersSent && !ex.done) ex.sendError(413, 'BAL_ERR_BODY_TOO_LARGE');
  });
  let up;
  try {
    up = await call.response;
  } catch (err) {
    if (!ex.done) ex.sendError(statusForFailure(failureOf(err)), 'BAL_ERR_ORIGIN_FAILED');
    return;
  }
  rt.metrics.observeUpstream('origin', (rt.now() - started) / 1000);
  if (ex.done) {
    up.body.destroy();
    return;
  }
  if (up.status >= 200 && up.status < 400) {
    rt.policies.learn(site.id, extractPolicy(up.headers), rt.now(), String(up.headers['content-type'] ?? '').startsWith('text/html'));
  }
  ex.trustUpstream();
  ex.writeHead(up.status, originResponseHeaders(up.headers), 'origin');
  rt.metrics.countRequest(opts.outcome);
  const encoding = up.headers['content-encoding'];
  pipeOriginBody(ex, up.body, { status: up.status, etag: up.headers.etag ?? null, encoding: typeof encoding === 'string' ? encoding : null }, opts);
}

function pipeOriginBody(ex: Exchange, body: IncomingMessage, meta: Pick<OriginBodyReport, 'status' | 'etag' | 'encoding'>, opts: OriginOptions): void {
  const hash = opts.onBody ? createHash('sha256') : null;
  const head: Buffer[] = [];
  let size = 0;
  const collect = opts.collect ?? 0;
  body.on('data', (chunk: Buffer) => {
    if (!hash) return;
    hash.update(chunk);
    if (size < collect) head.push(chunk.subarray(0, collect - size));
    size += chunk.length;
  });
  body.on('error', () => undefined);
  body.on('close', () => {
    // A cut origin body must not look complete to the visitor.
    if (!body.complete) ex.res.destroy();
    if (hash && opts.onBody) opts.onBody({ ...meta, complete: body.complete, sha256: hash.digest('hex'), size, head: Buffer.concat(head) });
  });
  body.pipe(ex.res);
  ex.res.on('finish', () => ex.finish());
}
