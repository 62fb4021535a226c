import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { geoContains } from 'd3-geo';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import type { Feature, Geometry } from 'geojson';

// The country a node says it is in, from its declared coordinates and the bundled world map
// (the one the map page draws). Used where the node's address gives no country (loopback and
// private addresses, as in the demo), so the dashboard names a place instead of showing "??".

type Country = Feature<Geometry, { name?: string }>;
let countries: Country[] | null = null;
const cache = new Map<string, string | null>();

function load(): Country[] {
  if (countries) return countries;
  const require = createRequire(import.meta.url);
  const topo = JSON.parse(readFileSync(require.resolve('world-atlas/countries-110m.json'), 'utf8')) as Topology<{ countries: GeometryCollection<{ name?: string }> }>;
  countries = feature(topo, topo.objects.countries).features as Country[];
  return countries;
}

/** The name of the country containing (lat, lon), or null (sea, or too small for the map). */
export function countryAt(lat: number, lon: number): string | null {
  const key = `${lat.toFixed(3)},${lon.toFixed(3)}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const found = load().find((c) => geoContains(c, [lon, lat]))?.properties.name ?? null;
  if (cache.size > 10_000) cache.clear();
  cache.set(key, found);
  return found;
}
