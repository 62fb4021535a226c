import type { GeoPoint } from '../geo/resolver.js';
import type { RouteNode } from '../registry/types.js';

// A bucket index of nodes by location (CELL_DEG-degree cells), so a decision looks at a few
// nearby cells instead of every node of the site: fast at 100k nodes.

export const CELL_DEG = 2;
const ROWS = Math.ceil(180 / CELL_DEG);
const COLS = Math.ceil(360 / CELL_DEG);

export interface GridIndex {
  readonly all: readonly RouteNode[];
  readonly cells: ReadonlyMap<number, readonly RouteNode[]>;
}

function rowOf(lat: number): number {
  return Math.min(ROWS - 1, Math.max(0, Math.floor((lat + 90) / CELL_DEG)));
}

function colOf(lon: number): number {
  const c = Math.floor((((lon + 180) % 360) + 360) % 360 / CELL_DEG);
  return Math.min(COLS - 1, c);
}

export function buildGridIndex(nodes: readonly RouteNode[]): GridIndex {
  const cells = new Map<number, RouteNode[]>();
  for (const n of nodes) {
    if (!n.location) continue;
    const key = rowOf(n.location.lat) * COLS + colOf(n.location.lon);
    const cell = cells.get(key);
    if (cell) cell.push(n);
    else cells.set(key, [n]);
  }
  return { all: nodes, cells };
}

export interface ScanOptions {
  /** Stop once this many accepted nodes were found (and one more ring was looked at). */
  want: number;
  /** Never gather more than this many (bounds the work in dense areas). */
  cap?: number;
  /** Most nodes examined per cell (a random window), so one dense cell stays cheap. */
  perCell: number;
  maxRing: number;
  random: () => number;
  accept: (n: RouteNode) => boolean;
}

function scanCell(cell: readonly RouteNode[], opts: ScanOptions, out: RouteNode[]): void {
  const n = cell.length;
  const count = Math.min(n, opts.perCell);
  const start = n > count ? Math.floor(opts.random() * n) : 0;
  const cap = opts.cap ?? Number.POSITIVE_INFINITY;
  for (let i = 0; i < count && out.length < cap; i++) {
    const node = cell[(start + i) % n] as RouteNode;
    if (opts.accept(node)) out.push(node);
  }
}

function scanRing(index: GridIndex, row0: number, col0: number, ring: number, opts: ScanOptions, out: RouteNode[]): void {
  for (let dr = -ring; dr <= ring; dr++) {
    const row = row0 + dr;
    if (row < 0 || row >= ROWS) continue;
    const edge = Math.abs(dr) === ring;
    const step = edge ? 1 : 2 * ring;
    for (let dc = -ring; dc <= ring; dc += step === 0 ? 1 : step) {
      const col = (((col0 + dc) % COLS) + COLS) % COLS;
      const cell = index.cells.get(row * COLS + col);
      if (cell) scanCell(cell, opts, out);
    }
  }
}

/** Accepted nodes near `point`, nearest rings first. Per request: no I/O. */
export function nearbyNodes(index: GridIndex, point: GeoPoint, opts: ScanOptions): RouteNode[] {
  const out: RouteNode[] = [];
  const row0 = rowOf(point.lat);
  const col0 = colOf(point.lon);
  let extra = -1;
  for (let ring = 0; ring <= opts.maxRing; ring++) {
    scanRing(index, row0, col0, ring, opts, out);
    if (out.length >= opts.want && extra < 0) extra = 1;
    else if (extra > 0) break;
  }
  return out;
}

/** A random sample of accepted nodes (visitor location unknown). Per request: no I/O. */
export function sampleNodes(nodes: readonly RouteNode[], opts: Pick<ScanOptions, 'want' | 'random' | 'accept'> & { tries: number }): RouteNode[] {
  const out: RouteNode[] = [];
  const n = nodes.length;
  if (n === 0) return out;
  if (n <= opts.tries) {
    for (const node of nodes) if (opts.accept(node)) out.push(node);
    return out;
  }
  const seen = new Set<number>();
  for (let t = 0; t < opts.tries && out.length < opts.want; t++) {
    const i = Math.floor(opts.random() * n);
    if (seen.has(i)) continue;
    seen.add(i);
    const node = nodes[i] as RouteNode;
    if (opts.accept(node)) out.push(node);
  }
  return out;
}
