import { exactCode, generalizeCode, isExactCode, matchesCode, renderCode, skeletonOf, codeTokens, type CodeTemplate } from './code-template.js';
import { exact, generalize, isExact, matches, render, type Template } from './template.js';
import { exactUrl, generalizeUrl, isExactUrl, matchesUrl, renderUrl, sameUrlFamily, type UrlTemplate } from './url-template.js';

// One template per feature value, by the value's shape: text (words; a rotating quote may vary
// as a whole), code (never masked beyond data tokens) or url (hosts never masked). Pure.

export type Shape = 'text' | 'code' | 'url';
export type ValueTemplate = { shape: 'text'; text: Template } | CodeTemplate | UrlTemplate;

export function exactValue(value: string, shape: Shape): ValueTemplate {
  if (shape === 'code') return exactCode(value);
  if (shape === 'url') return exactUrl(value);
  return { shape: 'text', text: exact(value) };
}

export function generalizeValue(t: ValueTemplate, value: string): ValueTemplate {
  if (t.shape === 'code') return generalizeCode(t, value);
  if (t.shape === 'url') return generalizeUrl(t, value);
  return { shape: 'text', text: generalize(t.text, value) };
}

export function matchesValue(t: ValueTemplate, value: string): boolean {
  if (t.shape === 'code') return matchesCode(t, value);
  if (t.shape === 'url') return matchesUrl(t, value);
  return matches(t.text, value);
}

export function renderValue(t: ValueTemplate): string {
  if (t.shape === 'code') return renderCode(t);
  if (t.shape === 'url') return renderUrl(t);
  return render(t.text);
}

export function isExactValue(t: ValueTemplate): boolean {
  if (t.shape === 'code') return isExactCode(t);
  if (t.shape === 'url') return isExactUrl(t);
  return isExact(t.text);
}

/** Only text may vary as a whole (a rotating quote); code and URLs never do. */
export function variesWholly(t: ValueTemplate): boolean {
  return t.shape === 'text' && t.text.any;
}

function sameFamily(t: ValueTemplate, value: string): boolean {
  if (t.shape === 'code') return t.skeletons.includes(skeletonOf(codeTokens(value)));
  if (t.shape === 'url') return sameUrlFamily(t, value);
  return true;
}

/**
 * Every value the origin put at one place that comes and goes (positions shift when the origin
 * inserts a varying number of elements): a node's value there must match one of them. Variants
 * of one script or one URL merge; anything else stays apart. Bounded.
 */
export function addToPool(pool: ValueTemplate[], value: string, shape: Shape, max = 50): ValueTemplate[] {
  if (pool.some((t) => matchesValue(t, value))) return pool;
  const i = pool.findIndex((t) => sameFamily(t, value));
  if (i !== -1) return pool.map((t, j) => (j === i ? generalizeValue(t, value) : t));
  return pool.length >= max ? pool : [...pool, exactValue(value, shape)];
}

/** Two pools of one key, from two audits: every template of both, once, bounded. */
export function mergePools(a: readonly ValueTemplate[], b: readonly ValueTemplate[], max = 50): ValueTemplate[] {
  const seen = new Set(a.map((t) => JSON.stringify(t)));
  const out = [...a];
  for (const t of b) {
    const key = JSON.stringify(t);
    if (seen.has(key) || out.length >= max) continue;
    seen.add(key);
    out.push(t);
  }
  return out;
}
