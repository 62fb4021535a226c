import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

// A node's public URL is where the balancer will send visitor traffic. Without this check a
// node could register http://169.254.169.254/ or http://127.0.0.1:5432/ and turn the balancer
// into a proxy toward its own network. Only global unicast addresses pass.

export type UrlCheck = { ok: true } | { ok: false; reason: string };

export interface NodeUrlCheckOptions {
  allowPrivate: boolean;
  /** Name → addresses; default dns.lookup with all: true (what a connect would use). */
  resolve?: (host: string) => Promise<string[]>;
}

export const ALLOW_PRIVATE_ENV = 'VERITY_ALLOW_PRIVATE_NODE_URLS';

/**
 * Why an address must not be connected to, or null when it is a global unicast address.
 * Synchronous and cheap, so the proxy can call it at connect time (e.g. in a lookup hook).
 */
export function forbiddenAddressReason(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return `"${address}" is not an IP address`;
  }
  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return forbiddenAddressReason(v6.toIPv4Address().toString());
  }
  const range = parsed.range();
  // ipaddr.js names every special range (loopback, private, linkLocal, carrierGradeNat,
  // uniqueLocal, multicast, unspecified, reserved, 6to4, teredo, rfc6052...); global is 'unicast'.
  return range === 'unicast' ? null : `${address} is a ${range} address`;
}

export async function defaultResolve(host: string): Promise<string[]> {
  const answers = await lookup(host, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * Checks a node's public URL: the literal address, or every address its name resolves to,
 * must be global unicast unless private addresses are allowed (VERITY_ALLOW_PRIVATE_NODE_URLS=1).
 */
export async function checkNodeUrl(url: string, opts: NodeUrlCheckOptions): Promise<UrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: `"${url}" is not a URL` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: `${url} is not an http:// or https:// URL` };
  if (parsed.username || parsed.password) return { ok: false, reason: `${url} must not carry credentials` };
  if (opts.allowPrivate) return { ok: true };
  const host = hostOf(parsed);
  let addresses: string[];
  if (ipaddr.isValid(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await (opts.resolve ?? defaultResolve)(host);
    } catch (err) {
      return { ok: false, reason: `${host} does not resolve (${(err as Error).message})` };
    }
    if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve` };
  }
  for (const address of addresses) {
    const why = forbiddenAddressReason(address);
    if (why) {
      const via = address === host ? '' : ` (${host} resolves to it)`;
      return { ok: false, reason: `${why}${via}; nodes must have a public address (a balancer setting allows private ones for local trials: start the balancer with ${ALLOW_PRIVATE_ENV}=1)` };
    }
  }
  if (parsed.protocol === 'http:') {
    return { ok: false, reason: `${url} is plain HTTP: nodes serve TLS (an https:// URL and the key they register), so nobody on the way can alter their bytes and have an honest volunteer blamed (a balancer setting allows plain HTTP for local trials: ${ALLOW_PRIVATE_ENV}=1)` };
  }
  return { ok: true };
}
