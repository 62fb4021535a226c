import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { requestWantsOrigin } from '../../common/http/rfc9111.js';
import { AUDIT_PIN_HEADER, verifyAuditPin } from '../../common/protocol/audit-pin.js';
import { learn, visitorHeaders } from '../publication/learn.js';
import { isFresh, PIECE_SIZE, type Publication } from '../publication/types.js';
import { encodingClass } from '../publication/variant.js';
import type { RouteNode, RouteSite } from '../registry/types.js';
import { classifyRequest } from './classify.js';
import { clientAddress, normalizeIp } from './client-address.js';
import { servePieces } from './node-pieces.js';
import { serveInline } from './node-inline.js';
import { OriginRelay } from './origin-relay.js';
import { acceptsEncoding, notModified, requestedRange, sendMetadataOnly, sendNotModified, sendUnsatisfiable } from './respond.js';
import type { Runtime } from './runtime.js';
import { changeHooks, teachingHooks } from './teach.js';
import { Visit } from './visit.js';

// Per request: no database, no await. Decides who answers a vetted visitor request:
// - the origin, for anything that is not an anonymous GET/HEAD of a URL the origin published
//   (never seen, private, credentials, pending confirmation, no longer fresh, dynamic unless the
//   owner chose sampling), and for anything we cannot verify;
// - the balancer itself, from the origin's metadata, for 304s and HEAD;
// - a node, whose bytes are verified against the origin's before the visitor sees them.

type PinResult = { ok: true; node: RouteNode | null; clientIp: string | null } | { ok: false };

function checkPin(rt: Runtime, req: IncomingMessage, site: RouteSite, url: string): PinResult {
  const header = req.headers[AUDIT_PIN_HEADER];
  if (header === undefined) return { ok: true, node: null, clientIp: null };
  if (typeof header !== 'string') return { ok: false };
  const check = verifyAuditPin(rt.auditSecret, header, site.host, url, rt.now(), rt.pinNonces);
  if (!check.ok) return { ok: false };
  const node = rt.table.node(check.pin.nodeId);
  if (!node) return { ok: false };
  return { ok: true, node, clientIp: normalizeIp(check.pin.clientIp) };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * The origin answers. `teach`: a complete answer to a plain GET may publish the URL (a range
 * answer may have it learned whole); an unsafe request that succeeds makes the URL change.
 */
function toOrigin(v: Visit, outcome: string, teach: boolean, candidate = true): void {
  const hooks = !SAFE_METHODS.has(v.method) ? changeHooks : candidate && v.method === 'GET' ? teachingHooks : null;
  new OriginRelay(v, { outcome, observe: teach, keepHead: 0, normaliseEncoding: candidate, hooks }).start();
}

export function handleVisitor(rt: Runtime, req: IncomingMessage, res: ServerResponse, site: RouteSite, hasBody: boolean): void {
  const url = req.url ?? '/';
  const pin = checkPin(rt, req, site, url);
  const ip = pin.ok && pin.clientIp ? pin.clientIp : clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], rt.trustedProxies);
  const method = req.method ?? 'GET';
  const v = new Visit(rt, req, res, site, url, method, ip, encodingClass(req.headers['accept-encoding']), pin.ok ? pin.node : null);
  rt.retryBudget.onRequest(rt.now());
  if (!pin.ok) return v.sendError(403, 'BAL_ERR_AUDIT_PIN_INVALID');
  const cls = classifyRequest(method, url, req.headers, site);
  if (cls.route === 'origin') return toOrigin(v, `origin_${cls.reason}`, false, false);
  // Nodes never receive a body: a GET or HEAD that carries one is refused, not forwarded.
  if (hasBody) return v.sendError(400, 'BAL_ERR_BODY_NOT_ALLOWED', 'origin', true);
  const plain = req.headers.range === undefined && req.headers['if-none-match'] === undefined && req.headers['if-modified-since'] === undefined
    && req.headers['if-match'] === undefined && req.headers['if-unmodified-since'] === undefined;
  const teach = method === 'GET' && plain;
  // A reload that asks the origin (no-cache, max-age=0) is the origin's to answer, and teaches.
  if (requestWantsOrigin(stringOf(req.headers['cache-control']), stringOf(req.headers.pragma))) return toOrigin(v, 'origin_reload', teach);
  const now = rt.now();
  const pub = rt.publications.lookup(site.id, url, req.headers, v.encoding, now);
  if (pub === undefined) {
    rt.publicationSync.recall(site.id, url);
    return toOrigin(v, 'origin_unpublished', teach);
  }
  if (!isFresh(pub.current, now)) {
    if (pub.mode === 'stable' && plain && (pub.current.etag !== null || pub.current.lastModified !== null)) return revalidateThen(v, pub);
    rt.revalidator.kick(pub);
    return toOrigin(v, 'origin_stale', teach);
  }
  rt.revalidator.ahead(pub, now);
  if (pub.mode === 'pending' || (pub.mode === 'dynamic' && site.dynamicPolicy === 'origin') || !acceptsEncoding(v.encoding, pub.current.encoding)) {
    return toOrigin(v, `origin_${pub.mode}`, teach);
  }
  if (pub.mode === 'dynamic') return serveDynamic(v, pub);
  serveStable(v, pub);
}

/**
 * A stale stable URL with validators: the origin is asked with them (RFC 9111 §4.3.1). A 304
 * makes it fresh again and a node serves it, verified; any other answer reaches the visitor from
 * the origin, and teaches.
 */
function revalidateThen(v: Visit, pub: Publication): void {
  const notModified = (visit: Visit, headers: IncomingHttpHeaders, requestTimeMs: number, responseTimeMs: number): void => {
    const { rt } = visit;
    const merged = { ...pub.current.headers, ...headers };
    const fresh = learn({ status: pub.current.status, headers: merged, sha256: pub.current.sha256, size: pub.current.size, pieces: pub.current.pieces, requestTimeMs, responseTimeMs });
    const next = fresh.ok ? rt.publications.revalidate(pub, visitorHeaders(headers), fresh.obs) : undefined;
    if (!next) {
      if (!fresh.ok) rt.publications.forget(visit.site.id, visit.url);
      return toOrigin(visit, 'origin_stale', visit.method === 'GET');
    }
    rt.metrics.countRequest('revalidated');
    serveStable(visit, next);
  };
  new OriginRelay(v, {
    outcome: 'origin_changed', observe: v.method === 'GET', keepHead: 0, normaliseEncoding: true, hooks: teachingHooks,
    revalidation: { etag: pub.current.etag, lastModified: pub.current.lastModified, notModified },
  }).start();
}

function stringOf(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

/** The origin published these bytes and they do not change: answered from metadata, or verified bytes from a node. */
function serveStable(v: Visit, pub: Publication): void {
  const { rt } = v;
  const o = pub.current;
  if (notModified(v, o)) return sendNotModified(v, pub);
  if (v.method === 'HEAD' || o.size === 0) return sendMetadataOnly(v, pub);
  const range = requestedRange(v, o);
  if (range === 'unsatisfiable') return sendUnsatisfiable(v, pub);
  if (o.size <= rt.limits.bufferLimit) {
    if (!rt.budget.take(o.size)) return overBudget(v);
    v.reserved = o.size;
    v.armDeadline();
    return serveInline(v, pub, 'verified', range);
  }
  // Large bodies are checked piece by piece; an encoded one has no pieces we could check.
  if (o.encoding !== null || o.size > rt.limits.maxResponseSize) return toOrigin(v, 'origin_unverifiable', false, true);
  // One piece is held at a time.
  if (!rt.budget.take(PIECE_SIZE)) return overBudget(v);
  v.reserved = PIECE_SIZE;
  servePieces(v, pub, range ?? { start: 0, end: o.size - 1 });
}

/** A page whose bytes change on their own, which the owner lets nodes serve (--dynamic sampled). */
function serveDynamic(v: Visit, pub: Publication): void {
  const { rt } = v;
  if (v.method === 'HEAD' || v.req.headers.range !== undefined || pub.current.size > rt.limits.bufferLimit) return toOrigin(v, 'origin_dynamic', false);
  if (!rt.budget.take(rt.limits.bufferLimit)) return overBudget(v);
  v.reserved = rt.limits.bufferLimit;
  v.armDeadline();
  serveInline(v, pub, 'sampled', null);
}

function overBudget(v: Visit): void {
  v.rt.metrics.budgetRefusals.inc();
  toOrigin(v, 'origin_over_budget', false);
}
