import geoip from 'geoip-lite';

import type { GeoPoint } from '../../common/domain/geo.js';

export type { GeoPoint };

/** Address → location; null when unknown (loopback, private ranges, not in the database). */
export type GeoResolver = (ip: string) => GeoPoint | null;

/** The geoip-lite database behind the resolver interface (lookups are in memory, synchronous). */
export function createGeoipResolver(): GeoResolver {
  return (ip) => {
    const found = geoip.lookup(ip.startsWith('::ffff:') ? ip.slice(7) : ip);
    if (!found) return null;
    const [lat, lon] = found.ll;
    if (typeof lat !== 'number' || typeof lon !== 'number' || (lat === 0 && lon === 0)) return null;
    return { lat, lon };
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
