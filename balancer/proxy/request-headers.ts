import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// What a node may learn about a visitor: an allowlist, so a header nobody thought of (a session
// token in a custom header, the visitor's address in a proxy header) never reaches a node.
const toNodeAllowed = new Set([
  'accept', 'accept-encoding', 'accept-language', 'cache-control', 'pragma', 'if-none-match', 'if-modified-since',
  'range', 'if-range', 'user-agent', 'dnt', 'upgrade-insecure-requests', 'priority',
  'sec-fetch-dest', 'sec-fetch-mode', 'sec-fetch-site', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform',
]);

/** Headers that describe one connection, never the message (RFC 9110 §7.6.1), plus proxy-only ones. */
const hopByHop = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'expect', 'host',
]);

/** Headers a visitor could forge to claim another address. */
const forwardingHeaders = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-real-ip', 'x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'via']);

/** Names listed in `Connection` are hop-by-hop too. */
export function connectionNamed(headers: IncomingHttpHeaders): Set<string> {
  const named = new Set<string>();
  const value = headers.connection;
  if (typeof value === 'string') for (const n of value.split(',')) named.add(n.trim().toLowerCase());
  return named;
}

export interface NodeHeaderOptions {
  host: string;
  /** Verified assets are fetched whole and unencoded, so the bytes can be hashed. */
  forVerification: boolean;
}

export function headersToNode(incoming: IncomingHttpHeaders, opts: NodeHeaderOptions): OutgoingHttpHeaders {
  const named = connectionNamed(incoming);
  const out: OutgoingHttpHeaders = { host: opts.host };
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || !toNodeAllowed.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  if (opts.forVerification) {
    out['accept-encoding'] = 'identity';
    delete out.range;
    delete out['if-range'];
    delete out['if-none-match'];
    delete out['if-modified-since'];
  }
  return out;
}

export interface OriginHeaderOptions {
  host: string;
  clientIp: string;
}

/**
 * Toward the origin everything the visitor sent goes (it is the owner's own server), except
 * hop-by-hop headers and forwarding claims, which are replaced by our own clean ones.
 */
export function headersToOrigin(incoming: IncomingHttpHeaders, opts: OriginHeaderOptions): OutgoingHttpHeaders {
  const named = connectionNamed(incoming);
  const out: OutgoingHttpHeaders = { host: opts.host };
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || hopByHop.has(name) || forwardingHeaders.has(name) || named.has(name) || name === 'x-verity-audit-pin') continue;
    out[name] = value;
  }
  out['x-forwarded-for'] = opts.clientIp;
  out['x-forwarded-host'] = opts.host;
  out['x-forwarded-proto'] = 'http';
  const forIp = opts.clientIp.includes(':') ? `"[${opts.clientIp}]"` : opts.clientIp;
  out.forwarded = `for=${forIp};host=${opts.host};proto=http`;
  return out;
}

/** Headers of an upstream response that are about the connection and are never relayed. */
export function isHopByHopResponseHeader(name: string, named: Set<string>): boolean {
  return hopByHop.has(name) || named.has(name);
}
