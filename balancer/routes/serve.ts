import type { IncomingMessage, ServerResponse } from 'node:http';
import { AUDIT_PIN_HEADER, verifyAuditPin } from '../../common/protocol/audit-pin.js';
import { isStaticPath } from '../integrity/hash-store.js';
import type { RouteNode, RouteSite } from '../registry/types.js';
import { classifyRequest, splitTarget } from './classify.js';
import { clientAddress, normalizeIp } from './client-address.js';
import { Exchange } from './exchange.js';
import { serveAndLearn } from './integrity-fallback.js';
import { serveFromNodes } from './node-upstream.js';
import { serveFromOrigin } from './origin-upstream.js';
import type { Runtime } from './runtime.js';

// Per request: no database, no await on anything but the upstream.

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

export function serveRequest(rt: Runtime, req: IncomingMessage, res: ServerResponse, site: RouteSite): Promise<void> {
  const url = req.url ?? '/';
  const pin = checkPin(rt, req, site, url);
  const ip = pin.ok && pin.clientIp ? pin.clientIp : clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], rt.trustedProxies);
  const ex = new Exchange(rt, req, res, site, url, ip, rt.geo(ip));
  rt.retryBudget.onRequest(rt.now());
  if (!pin.ok) {
    ex.sendError(403, 'BAL_ERR_AUDIT_PIN_INVALID');
    return Promise.resolve();
  }
  const cls = classifyRequest(ex.method, url, req.headers, site.isPrivate);
  if (cls.route === 'origin') return serveFromOrigin(ex, { outcome: `origin_${cls.reason}` });
  const { path } = splitTarget(url);
  if (!isStaticPath(path) || ex.method !== 'GET') return serveFromNodes(ex, pin.node, null);
  const entry = rt.hashes.lookup(site.id, url, rt.now());
  // An audit pin must reach its node even for a file whose hash we do not know yet: the
  // auditor compares it with the origin itself. Visitors get such files from the origin.
  if (!entry || entry.kind === 'too-large') {
    if (pin.node) return serveFromNodes(ex, pin.node, null);
    return entry ? serveFromOrigin(ex, { outcome: 'origin_unverifiable' }) : serveAndLearn(ex);
  }
  return serveFromNodes(ex, pin.node, entry);
}
