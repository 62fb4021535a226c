import geoip from 'geoip-lite';

import type { GeoPoint } from '../../common/domain/geo.js';

export type { GeoPoint };

/** Address → location; null when unknown (loopback, private ranges, not in the database). */
export type GeoResolver = (ip: string) => GeoPoint | null;

const CACHED_ADDRESSES = 50_000;

/**
 * The geoip-lite database behind the resolver interface (lookups are in memory, synchronous),
 * with the answers for recent addresses kept: a visitor asks many times in a row.
 */
export function createGeoipResolver(): GeoResolver {
  const cache = new Map<string, GeoPoint | null>();
  return (ip) => {
    const known = cache.get(ip);
    if (known !== undefined) return known;
    const found = geoip.lookup(ip.startsWith('::ffff:') ? ip.slice(7) : ip);
    const [lat, lon] = found?.ll ?? [];
    const point = typeof lat !== 'number' || typeof lon !== 'number' || (lat === 0 && lon === 0) ? null : { lat, lon };
    if (cache.size >= CACHED_ADDRESSES) cache.clear();
    cache.set(ip, point);
    return point;
  };
}

/** What GeoIP knows about an address: position, country, its own accuracy radius. */
export interface GeoipAnswer {
  point: GeoPoint | null;
  country: string | null;
  accuracyKm: number | null;
  city: string | null;
}

/** Address → GeoIP answer; null when the address is not in the database at all. */
export type GeoLocator = (ip: string) => GeoipAnswer | null;

export function createGeoipLocator(): GeoLocator {
  return (ip) => {
    const found = geoip.lookup(ip.startsWith('::ffff:') ? ip.slice(7) : ip);
    if (!found) return null;
    const [lat, lon] = found.ll;
    const point = typeof lat === 'number' && typeof lon === 'number' && !(lat === 0 && lon === 0) ? { lat, lon } : null;
    const area = (found as { area?: unknown }).area;
    return { point, country: found.country || null, accuracyKm: typeof area === 'number' ? area : null, city: found.city || null };
  };
}

/** Address → country code (GeoIP), with recent answers kept. */
export function createCountryResolver(locate: GeoLocator = createGeoipLocator()): (ip: string) => string | null {
  const cache = new Map<string, string | null>();
  return (ip) => {
    const known = cache.get(ip);
    if (known !== undefined) return known;
    const country = locate(ip)?.country ?? null;
    if (cache.size >= CACHED_ADDRESSES) cache.clear();
    cache.set(ip, country);
    return country;
  };
}
