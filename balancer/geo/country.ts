import { iso1A2Code } from '@rapideditor/country-coder';
import type { GeoPoint } from '../../common/domain/geo.js';

/** The ISO 3166-1 alpha-2 code of the country a point lies in (offline borders), or null at sea. */
export function countryOfPoint(p: GeoPoint): string | null {
  return iso1A2Code([p.lon, p.lat]) ?? null;
}
