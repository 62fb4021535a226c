import ipaddr from 'ipaddr.js';

/**
 * The network a registration came from, for Sybil grouping: the /24 of an IPv4 address, the
 * /48 of an IPv6 one (IPv4-mapped IPv6 counts as IPv4). Null for something that is not an address.
 */
export function subnetOf(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return null;
  }
  if (parsed.kind() === 'ipv4') {
    const o = (parsed as ipaddr.IPv4).octets;
    return `${o[0]}.${o[1]}.${o[2]}.0/24`;
  }
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 3);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0, 0]).toString()}/48`;
}

/** The address in canonical form (IPv4-mapped IPv6 unwrapped), or null. */
export function canonicalAddress(address: string): string | null {
  try {
    return ipaddr.process(address).toString();
  } catch {
    return null;
  }
}
