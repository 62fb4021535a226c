import ipaddr from 'ipaddr.js';

// The visitor's address: the socket peer, unless the peer is one of our own trusted proxies, in
// which case the right-most X-Forwarded-For hop that is not itself a trusted proxy. Left-most
// hops are whatever the visitor typed, so they are never believed.

export type TrustedProxies = (ip: string) => boolean;

function parse(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    const addr = ipaddr.parse(ip.trim());
    return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
  } catch {
    return null;
  }
}

export function compileTrustedProxies(cidrs: readonly string[]): TrustedProxies {
  const ranges = cidrs.map((c) => (c.includes('/') ? ipaddr.parseCIDR(c) : ipaddr.parseCIDR(`${c}/${c.includes(':') ? 128 : 32}`)));
  if (ranges.length === 0) return () => false;
  return (ip) => {
    const addr = parse(ip);
    if (!addr) return false;
    return ranges.some(([range, bits]) => addr.kind() === range.kind() && addr.match(range, bits));
  };
}

/** Throws on a CIDR that does not parse, so a bad setting fails at start. */
export function validateCidrs(cidrs: readonly string[]): string[] {
  const problems: string[] = [];
  for (const c of cidrs) {
    try {
      compileTrustedProxies([c]);
    } catch {
      problems.push(`--trusted-proxies: "${c}" is not an address or CIDR`);
    }
  }
  return problems;
}

export function normalizeIp(ip: string): string {
  const addr = parse(ip);
  return addr ? addr.toString() : ip;
}

/** Per request: no I/O. */
export function clientAddress(peer: string, xForwardedFor: string | string[] | undefined, trusted: TrustedProxies): string {
  const socketIp = normalizeIp(peer);
  if (!trusted(socketIp) || xForwardedFor === undefined) return socketIp;
  const hops = (Array.isArray(xForwardedFor) ? xForwardedFor.join(',') : xForwardedFor).split(',').map((h) => h.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? '';
    if (!parse(hop)) return socketIp;
    const ip = normalizeIp(hop);
    if (!trusted(ip)) return ip;
  }
  return socketIp;
}
