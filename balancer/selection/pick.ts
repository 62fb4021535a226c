import type { GeoPoint } from '../../common/domain/geo.js';
import type { RouteNode } from '../registry/types.js';
import { nearbyNodes, sampleNodes, type GridIndex } from './grid-index.js';

// The routing decision: among eligible nodes, the nearest ones (within a distance band of the
// nearest), two drawn by trust weight (integrity × availability), the one with fewer requests
// in flight wins (power of two choices). Pure: randomness and load are handed in.

export interface PickInput {
  index: GridIndex;
  client: GeoPoint | null;
  random: () => number;
  /** Status, draining, ejection, health, probation cap, already-tried: the caller's rules. */
  eligible: (n: RouteNode) => boolean;
  outstanding: (n: RouteNode) => number;
}

export interface PickOptions {
  /** Candidates gathered before choosing. */
  want: number;
  /** Nodes this much farther than the nearest candidate still compete. */
  bandKm: number;
  perCell: number;
  maxRing: number;
}

export const defaultPickOptions: PickOptions = { want: 8, bandKm: 500, perCell: 48, maxRing: 12 };


const rad = Math.PI / 180;

function weightOf(n: RouteNode): number {
  return Math.max(1e-3, n.integrity * n.availability);
}

function candidates(input: PickInput, opts: PickOptions): RouteNode[] {
  const scan = { want: opts.want, cap: opts.want * 3, perCell: opts.perCell, maxRing: opts.maxRing, random: input.random, accept: input.eligible };
  if (input.client) {
    const near = nearbyNodes(input.index, input.client, scan);
    if (near.length > 0) return withinBand(near, input.client, opts.bandKm);
  }
  return sampleNodes(input.index.all, { ...scan, tries: opts.want * 4 });
}

/** Equirectangular approximation: plenty for ranking nodes a few cells apart, and no trig per node. */
function approxKm(a: GeoPoint, b: GeoPoint, cosLat: number): number {
  let dLon = Math.abs(b.lon - a.lon);
  if (dLon > 180) dLon = 360 - dLon;
  const x = dLon * cosLat;
  const y = b.lat - a.lat;
  return Math.sqrt(x * x + y * y) * 111.195;
}

function withinBand(nodes: RouteNode[], client: GeoPoint, bandKm: number): RouteNode[] {
  const cosLat = Math.cos(client.lat * rad);
  const dist = nodes.map((n) => (n.location ? approxKm(client, n.location, cosLat) : Number.POSITIVE_INFINITY));
  const nearest = Math.min(...dist);
  const limit = nearest + bandKm;
  return nodes.filter((_, i) => (dist[i] ?? Number.POSITIVE_INFINITY) <= limit);
}

function drawWeighted(nodes: readonly RouteNode[], total: number, random: () => number): RouteNode {
  let r = random() * total;
  for (const n of nodes) {
    r -= weightOf(n);
    if (r <= 0) return n;
  }
  return nodes[nodes.length - 1] as RouteNode;
}

/** Per request: no I/O, no await. null → no eligible node (the caller fails closed to the origin). */
export function pickNode(input: PickInput, opts: PickOptions = defaultPickOptions): RouteNode | null {
  const list = candidates(input, opts);
  if (list.length === 0) return null;
  if (list.length === 1) return list[0] as RouteNode;
  let total = 0;
  for (const n of list) total += weightOf(n);
  const a = drawWeighted(list, total, input.random);
  const b = drawWeighted(list, total, input.random);
  const la = input.outstanding(a);
  const lb = input.outstanding(b);
  if (la !== lb) return la < lb ? a : b;
  return weightOf(a) >= weightOf(b) ? a : b;
}
