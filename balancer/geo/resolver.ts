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
