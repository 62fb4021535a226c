import type { IncomingHttpHeaders } from 'node:http';
import { AUDIT_PIN_HEADER } from '../../common/protocol/audit-pin.js';
import { NODE_REQUEST_AUTH_HEADER, signNodeRequest } from '../../common/protocol/node-request-auth.js';

// What each upstream learns of a visitor's request.
// - A node: an allowlist (a header nobody thought of, a session token in a custom header, the
//   visitor's address in a proxy header, never reaches a node), plus the headers the origin said
//   its answer varies on (never credentials), our encoding class, and our signature.
// - The origin: everything but hop-by-hop headers and forwarding claims, which are replaced by
//   our own clean ones.

const TO_NODE = [
  'accept', 'accept-language', 'user-agent', 'dnt', 'upgrade-insecure-requests', 'priority',
  'sec-fetch-dest', 'sec-fetch-mode', 'sec-fetch-site', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform',
];
const NEVER_TO_NODE = new Set(['cookie', 'authorization', 'proxy-authorization', 'host', 'range', 'if-range', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'accept-encoding']);

/** Headers that describe one connection, never the message (RFC 9110 §7.6.1), plus proxy-only ones. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'expect', 'host', 'http2-settings',
]);

/** Headers a visitor could forge to claim another address. */
const FORWARDING = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'via']);

/** Names listed in `Connection` are hop-by-hop too. */
export function connectionNamed(headers: IncomingHttpHeaders): Set<string> | null {
  const value = headers.connection;
  if (value === undefined) return null;
  const named = new Set<string>();
  for (const n of String(value).split(',')) named.add(n.trim().toLowerCase());
  return named;
}

function push(out: string[], name: string, v: string | string[] | undefined): void {
  if (v === undefined) return;
  out.push(name, Array.isArray(v) ? v.join(', ') : v);
}

export interface NodeRequest {
  host: string;
  target: string;
  method: 'GET' | 'HEAD';
  /** Accept-Encoding class to send (identity for bodies verified piece by piece). */
  encoding: string;
  /** Request headers the origin's answer varies on. */
  varyNames: readonly string[];
  /** `bytes=a-b`, piece-aligned, for part of a large body. */
  range: string | null;
  nodeKey: string;
  now: number;
}

/** Per request: the exact header list a node gets. */
export function nodeRequestHeaders(incoming: IncomingHttpHeaders, r: NodeRequest): string[] {
  const out = ['host', r.host, 'accept-encoding', r.encoding];
  const named = connectionNamed(incoming);
  for (const name of TO_NODE) if (named === null || !named.has(name)) push(out, name, incoming[name]);
  for (const name of r.varyNames) {
    if (NEVER_TO_NODE.has(name) || TO_NODE.includes(name) || name.startsWith('x-verity-') || FORWARDING.has(name) || HOP_BY_HOP.has(name)) continue;
    push(out, name, incoming[name]);
  }
  if (r.range !== null) out.push('range', r.range);
  out.push(NODE_REQUEST_AUTH_HEADER, signatures.get(r));
  return out;
}

/**
 * Signatures are by the second: one per (node key, method, host, target) and second serves every
 * request for it in that second (an HMAC costs more than the rest of the headers together).
 */
class SignatureCache {
  private second = -1;
  private byRequest = new Map<string, string>();

  get(r: NodeRequest): string {
    const second = Math.floor(r.now / 1000);
    if (second !== this.second || this.byRequest.size > 10_000) {
      this.second = second;
      this.byRequest.clear();
    }
    const key = `${r.nodeKey}\n${r.method}\n${r.host}\n${r.target}`;
    let sig = this.byRequest.get(key);
    if (sig === undefined) {
      sig = signNodeRequest(r.nodeKey, { method: r.method, host: r.host, target: r.target }, second * 1000);
      this.byRequest.set(key, sig);
    }
    return sig;
  }
}

const signatures = new SignatureCache();

export interface OriginHeaderOptions {
  host: string;
  clientIp: string;
  proto: 'http' | 'https';
  /** Replaces the visitor's Accept-Encoding (requests whose answer may be published). */
  encoding: string | null;
}

/** Per request: what the origin gets (it is the owner's own server). */
export function originRequestHeaders(incoming: IncomingHttpHeaders, o: OriginHeaderOptions): string[] {
  const out = ['host', o.host];
  const named = connectionNamed(incoming);
  for (const name in incoming) {
    // Framing is set by the caller, exactly as the body arrived.
    if (HOP_BY_HOP.has(name) || FORWARDING.has(name) || name === AUDIT_PIN_HEADER || name === 'content-length' || (named !== null && named.has(name))) continue;
    if (name === 'accept-encoding' && o.encoding !== null) continue;
    push(out, name, incoming[name]);
  }
  if (o.encoding !== null) out.push('accept-encoding', o.encoding);
  const forIp = o.clientIp.includes(':') ? `"[${o.clientIp}]"` : o.clientIp;
  out.push('x-forwarded-for', o.clientIp, 'x-forwarded-host', o.host, 'x-forwarded-proto', o.proto, 'forwarded', `for=${forIp};host=${o.host};proto=${o.proto}`);
  return out;
}
