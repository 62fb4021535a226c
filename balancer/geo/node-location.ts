import { isIP } from 'node:net';
import type { Queryable } from '../../common/db/pool.js';
import { loadLocationInputs, saveLocationCheck } from '../../common/db/queries/node-location.js';
import { checkLocation, type GeoFact, type LocationCheck, type LocationFacts, type RttFact } from '../../common/domain/location-check.js';
import type { GeoPoint } from '../../common/domain/geo.js';
import { forbiddenAddressReason } from '../control/ssrf.js';
import { countryOfPoint } from './country.js';
import { createGeoipLocator, type GeoLocator } from './resolver.js';

// The I/O around the pure location check: GeoIP lookups of the addresses a node uses, and the
// stored facts and RTTs when a balancer measured something new.

const defaultLocator = createGeoipLocator();

export function geoFact(address: string, locate: GeoLocator = defaultLocator): GeoFact {
  if (forbiddenAddressReason(address)) return { address, private: true, point: null, country: null, accuracyKm: null };
  const answer = locate(address);
  return { address, private: false, point: answer?.point ?? null, country: answer?.country ?? null, accuracyKm: answer?.accuracyKm ?? null, city: answer?.city ?? null };
}

/** GeoIP of the registering address and of (at most four of) the addresses the public URL resolves to. */
export async function gatherLocationFacts(
  connectAddress: string | null, publicUrl: string, resolve: (host: string) => Promise<string[]>, locate: GeoLocator = defaultLocator,
): Promise<LocationFacts> {
  let host = '';
  try {
    host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
  } catch {
    host = '';
  }
  const addresses = isIP(host) ? [host] : await resolve(host).catch(() => [] as string[]);
  return { connect: connectAddress ? geoFact(connectAddress, locate) : null, url: addresses.slice(0, 4).map((a) => geoFact(a, locate)) };
}

export function judgeLocation(declared: GeoPoint | null, facts: LocationFacts, rtt: RttFact[]): LocationCheck {
  return checkLocation({ declared, facts, rtt }, countryOfPoint);
}

/** Judges a node's stored claim again with every RTT measured so far; returns the verdict stored. */
export async function recheckNodeLocation(db: Queryable, nodeId: string, now: Date): Promise<LocationCheck | null> {
  const inputs = await loadLocationInputs(db, nodeId);
  if (!inputs) return null;
  const check = judgeLocation(inputs.declared, inputs.facts, inputs.rtt);
  await saveLocationCheck(db, nodeId, check, now);
  return check;
}
