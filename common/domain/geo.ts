// Points on the Earth and the distance between them. Pure.

export interface GeoPoint {
  lat: number;
  lon: number;
}

const EARTH_KM = 6371;
const rad = Math.PI / 180;

/** Great-circle distance (haversine). */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function formatPoint(p: GeoPoint): string {
  return `${p.lat.toFixed(2)},${p.lon.toFixed(2)}`;
}
