import { html, type SafeHtml } from './html.js';

/**
 * Marks what changed between two fragments: the common prefix and suffix stay plain, the middle
 * of each side is highlighted. Pure; the pieces are escaped by the html tag like any text.
 */
export function splitChange(a: string, b: string): { prefix: string; a: string; b: string; suffix: string } {
  let p = 0;
  const max = Math.min(a.length, b.length);
  while (p < max && a[p] === b[p]) p++;
  let s = 0;
  while (s < max - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return { prefix: a.slice(0, p), a: a.slice(p, a.length - s), b: b.slice(p, b.length - s), suffix: a.slice(a.length - s) };
}

export function highlightedPair(origin: string, node: string): { origin: SafeHtml; node: SafeHtml } {
  const c = splitChange(origin, node);
  return {
    origin: html`${c.prefix}${c.a ? html`<del>${c.a}</del>` : ''}${c.suffix}`,
    node: html`${c.prefix}${c.b ? html`<ins>${c.b}</ins>` : ''}${c.suffix}`,
  };
}
