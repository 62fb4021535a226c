import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { geoNaturalEarth1, geoPath, type GeoProjection } from 'd3-geo';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import type { NodeRow } from '../routes/node-rows.js';
import { emptyState, location, pct, trustClass } from './format.js';
import { html, seg, trusted, type SafeHtml } from './html.js';
import { page } from './layout.js';

// The world map is drawn here, on the server, as SVG: no map tiles, no request elsewhere.

const WIDTH = 960;
const HEIGHT = 500;

interface Basemap {
  projection: GeoProjection;
  countries: SafeHtml;
}

let basemap: Basemap | null = null;

function loadBasemap(): Basemap {
  if (basemap) return basemap;
  const require = createRequire(import.meta.url);
  const topo = JSON.parse(readFileSync(require.resolve('world-atlas/countries-110m.json'), 'utf8')) as Topology<{ countries: GeometryCollection }>;
  const land = feature(topo, topo.objects.countries);
  const projection = geoNaturalEarth1().fitExtent([[8, 8], [WIDTH - 8, HEIGHT - 8]], { type: 'Sphere' });
  const path = geoPath(projection);
  // Numbers only: the path strings come from our own projection of a bundled file.
  const countries = land.features.map((f) => `<path class="country" d="${path(f) ?? ''}"/>`).join('');
  const sphere = `<path class="sphere" d="${path({ type: 'Sphere' }) ?? ''}"/>`;
  basemap = { projection, countries: trusted(sphere + countries) };
  return basemap;
}

function marker(r: NodeRow, projection: GeoProjection): SafeHtml {
  const loc = r.node.location;
  if (!loc) return html``;
  const xy = projection([loc.lon, loc.lat]);
  if (!xy) return html``;
  const radius = 6 + Math.sqrt(r.trafficShare ?? 0) * 26;
  const flagged = ['banned', 'quarantined', 'offline'].includes(r.node.status);
  const cls = flagged ? `${trustClass(r.node.integrity)} ${r.node.status}` : trustClass(r.node.integrity);
  return html`<a href="/nodes/${seg(r.node.id)}" class="marker-link"><circle class="marker ${cls}" cx="${xy[0].toFixed(1)}" cy="${xy[1].toFixed(1)}" r="${radius.toFixed(1)}" data-node-id="${r.node.id}"><title>${`${r.node.name} — ${r.node.status}, integrity ${r.node.integrity.toFixed(2)}, traffic ${pct(r.trafficShare, 1)}`}</title></circle></a>`;
}

export function mapPage(rows: NodeRow[], csrf: string | null): SafeHtml {
  const { projection, countries } = loadBasemap();
  const placed = rows.filter((r) => r.node.location);
  const unplaced = rows.filter((r) => !r.node.location);
  // Big circles first so small ones stay clickable on top.
  const markers = [...placed].sort((a, b) => (b.trafficShare ?? 0) - (a.trafficShare ?? 0)).map((r) => marker(r, projection));
  const body = html`<h1>Map</h1>
<section class="card map-card">
<svg class="world" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="nodes on a world map, coloured by integrity, sized by traffic">${countries}<g class="markers">${markers}</g></svg>
<p class="legend small"><span class="key good"></span>integrity ≥ 0.75 <span class="key warn"></span>0.35 – 0.75 <span class="key bad"></span>&lt; 0.35 · ringed: quarantined or banned · grey: offline · size: share of traffic</p>
</section>
${rows.length === 0 ? emptyState('No nodes to place yet.', html`Nodes appear here once they join with <code>verity node --location LAT,LON</code> (or are located from their address).`) : ''}
${unplaced.length ? html`<section class="card"><h2>Without a location</h2><ul class="plain">${unplaced.map((r) => html`<li><a href="/nodes/${seg(r.node.id)}">${r.node.name}</a> — ${location(null)}</li>`)}</ul></section>` : ''}`;
  return page({ title: 'Map', nav: 'map', csrfToken: csrf, body });
}
