import { distanceKm, formatPoint, type GeoPoint } from './geo.js';

// A node's declared location is a claim. It is compared with what the balancer can see for
// itself: GeoIP of the address the node registered from and of the addresses its public URL
// resolves to, and the round-trip time measured from a balancer whose own location is known
// (light in fibre covers about 200 km per ms one way, so an RTT of R ms puts the node within
// R × 100 km). A claim that fails is ignored: the node is routed by its GeoIP position. Pure.

/** What GeoIP says about one address the node uses. */
export interface GeoFact {
  address: string;
  /** Loopback, RFC 1918, link-local…: GeoIP knows nothing there. */
  private: boolean;
  point: GeoPoint | null;
  country: string | null;
  /** GeoIP's own accuracy radius. */
  accuracyKm: number | null;
  city?: string | null;
}

export interface LocationFacts {
  /** The address the node registered from. */
  connect: GeoFact | null;
  /** The addresses its public URL resolves to. */
  url: GeoFact[];
}

/** The smallest round-trip time a balancer at `vantage` measured to the node's public URL. */
export interface RttFact {
  vantage: GeoPoint;
  minRttMs: number;
  samples: number;
}

export interface LocationPolicy {
  /** How far a claim may be from a GeoIP position (plus GeoIP's accuracy radius) and still agree. */
  toleranceKm: number;
  /** Distance one ms of round trip allows (200 km per ms one way in fibre). */
  kmPerRttMs: number;
  /** Below this RTT on a loopback or private address the node is on this machine or LAN: nothing to compare. */
  nearZeroRttMs: number;
  /** A node proven (by RTT) to be this close to a balancer can be routed at the balancer's position. */
  nearBalancerKm: number;
}

export const defaultLocationPolicy: LocationPolicy = { toleranceKm: 300, kmPerRttMs: 100, nearZeroRttMs: 1, nearBalancerKm: 500 };

export type CheckResult = 'agrees' | 'disagrees' | 'skipped';

export interface LocationCheckLine {
  check: 'geoip-address' | 'geoip-url' | 'rtt';
  result: CheckResult;
  detail: string;
}

export type LocationStatus = 'passed' | 'failed' | 'skipped' | 'undeclared';

export interface LocationCheck {
  status: LocationStatus;
  /** Where the node is routed. */
  effective: GeoPoint | null;
  source: 'declared' | 'geoip' | 'rtt' | 'none';
  country: string | null;
  /** One line for the admin and the volunteer. */
  reason: string;
  lines: LocationCheckLine[];
}

function geoLine(check: 'geoip-address' | 'geoip-url', fact: GeoFact, declared: GeoPoint | null, policy: LocationPolicy): LocationCheckLine {
  if (fact.private) return { check, result: 'skipped', detail: `${fact.address} is a loopback or private address: GeoIP knows nothing there` };
  if (!fact.point) return { check, result: 'skipped', detail: `${fact.address} is not in the GeoIP database` };
  const where = `${fact.country ?? '??'}${fact.city ? `, ${fact.city}` : ''} (${formatPoint(fact.point)})`;
  if (!declared) return { check, result: 'skipped', detail: `GeoIP puts ${fact.address} in ${where}; no location was declared` };
  const d = distanceKm(declared, fact.point);
  const allowed = policy.toleranceKm + (fact.accuracyKm ?? 0);
  const result = d <= allowed ? 'agrees' : 'disagrees';
  return { check, result, detail: `GeoIP puts ${fact.address} in ${where}, ${Math.round(d)} km from the claim (allowed ${Math.round(allowed)} km)` };
}

function rttBoundKm(r: RttFact, policy: LocationPolicy): number {
  return r.minRttMs * policy.kmPerRttMs;
}

function rttLine(r: RttFact, declared: GeoPoint | null, onPrivate: boolean, policy: LocationPolicy): LocationCheckLine {
  const rtt = `RTT ${r.minRttMs.toFixed(1)} ms from the balancer at ${formatPoint(r.vantage)}`;
  if (onPrivate && r.minRttMs < policy.nearZeroRttMs) return { check: 'rtt', result: 'skipped', detail: `${rtt}: near zero on a loopback or private address, nothing to compare` };
  if (!declared) return { check: 'rtt', result: 'skipped', detail: `${rtt}; no location was declared` };
  const d = distanceKm(r.vantage, declared);
  const bound = rttBoundKm(r, policy);
  const result = d <= bound ? 'agrees' : 'disagrees';
  return { check: 'rtt', result, detail: `${rtt} puts the node within ${Math.round(bound)} km of it; the claim is ${Math.round(d)} km away` };
}

function consistentWithRtt(p: GeoPoint, rtt: RttFact[], policy: LocationPolicy): boolean {
  return rtt.every((r) => distanceKm(r.vantage, p) <= rttBoundKm(r, policy));
}

/** Where to route a node whose claim is absent or failed: GeoIP (if RTT allows it), else a balancer it is proven near. */
function fallback(facts: LocationFacts, rtt: RttFact[], onPrivate: boolean, policy: LocationPolicy): { point: GeoPoint; source: 'geoip' | 'rtt'; fact?: GeoFact } | null {
  const measured = onPrivate ? rtt.filter((r) => r.minRttMs >= policy.nearZeroRttMs) : rtt;
  for (const fact of [facts.connect, ...facts.url]) {
    if (fact && !fact.private && fact.point && consistentWithRtt(fact.point, measured, policy)) return { point: fact.point, source: 'geoip', fact };
  }
  const near = measured.filter((r) => rttBoundKm(r, policy) <= policy.nearBalancerKm).sort((a, b) => a.minRttMs - b.minRttMs)[0];
  return near ? { point: near.vantage, source: 'rtt' } : null;
}

function statusOf(declared: GeoPoint | null, lines: LocationCheckLine[]): LocationStatus {
  if (!declared) return 'undeclared';
  if (lines.some((l) => l.result === 'disagrees')) return 'failed';
  return lines.some((l) => l.result === 'agrees') ? 'passed' : 'skipped';
}

function summary(status: LocationStatus, lines: LocationCheckLine[], routed: string): string {
  const pick = (r: CheckResult) => lines.filter((l) => l.result === r).map((l) => l.detail);
  switch (status) {
    case 'failed': return `declared location ignored: ${pick('disagrees').join('; ')}; routed ${routed}`;
    case 'passed': return `declared location confirmed: ${pick('agrees').join('; ')}`;
    case 'skipped': return `check skipped, declared location used as given: ${pick('skipped').join('; ') || 'nothing to compare with yet'}`;
    case 'undeclared': return `no location declared; routed ${routed}`;
  }
}

/** Judges a declared location against the facts. `countryOf` names the country of a point (offline lookup). */
export function checkLocation(
  input: { declared: GeoPoint | null; facts: LocationFacts; rtt: RttFact[] },
  countryOf: (p: GeoPoint) => string | null,
  policy: LocationPolicy = defaultLocationPolicy,
): LocationCheck {
  const { declared, facts } = input;
  const onPrivate = facts.url.length > 0 && facts.url.every((f) => f.private);
  const lines: LocationCheckLine[] = [
    ...(facts.connect ? [geoLine('geoip-address', facts.connect, declared, policy)] : []),
    ...facts.url.map((f) => geoLine('geoip-url', f, declared, policy)),
    ...input.rtt.map((r) => rttLine(r, declared, onPrivate, policy)),
  ];
  const status = statusOf(declared, lines);
  if (declared && status !== 'failed') {
    return { status, effective: declared, source: 'declared', country: countryOf(declared), reason: summary(status, lines, 'at the declared location'), lines };
  }
  const alt = fallback(facts, input.rtt, onPrivate, policy);
  const geoCountry = [facts.connect, ...facts.url].find((f) => f?.country)?.country ?? null;
  if (!alt) return { status, effective: null, source: 'none', country: geoCountry, reason: summary(status, lines, 'without a position (no GeoIP position to use)'), lines };
  const routed = alt.source === 'geoip' ? `at the GeoIP position of ${alt.fact?.address ?? ''} (${formatPoint(alt.point)})` : `at the position of the balancer it is proven near (${formatPoint(alt.point)})`;
  return { status, effective: alt.point, source: alt.source, country: alt.fact?.country ?? countryOf(alt.point) ?? geoCountry, reason: summary(status, lines, routed), lines };
}
