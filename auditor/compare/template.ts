// Learning what changes on its own. A value seen in several origin fetches becomes a template:
// tokens that differ between fetches are masked; if most tokens differ (a rotating quote) the
// whole value is "any". Only unmasked tokens count as evidence. Pure.

export type Template = { any: true } | { any: false; tokens: Array<string | null> };

const splitter = /(\s+|[;,="'()<>{}[\]])/;

// Dates and clock times vary on their own on most sites (a "generated at" line, a stale cache);
// they are masked before comparing, so a stale copy is not mistaken for an edit.
const timeLike = [
  /\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?(?:[+-]\d{2}:?\d{2})?)?/g,
  /\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]m)?\b/gi,
  /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} \w{3} \d{4}\b/g,
];

export function maskTimes(value: string): string {
  return timeLike.reduce((v, re) => v.replace(re, '⟨time⟩'), value);
}

export function tokenize(value: string): string[] {
  return value.split(splitter).filter((t) => t !== '');
}

export function exact(value: string): Template {
  return { any: false, tokens: tokenize(value) };
}

/** The most specific template that matches both `t` and `value`. */
export function generalize(t: Template, value: string, maxMaskedShare = 0.5): Template {
  if (t.any) return t;
  const tokens = tokenize(value);
  if (tokens.length !== t.tokens.length) return { any: true };
  const merged = t.tokens.map((tok, i) => (tok !== null && tok === tokens[i] ? tok : null));
  const words = merged.filter((tok, i) => !splitter.test(tokens[i] ?? '') || tok === null);
  const masked = merged.filter((tok) => tok === null).length;
  if (words.length > 0 && masked / Math.max(1, words.length) > maxMaskedShare) return { any: true };
  return { any: false, tokens: merged };
}

export function matches(t: Template, value: string): boolean {
  if (t.any) return true;
  const tokens = tokenize(value);
  if (tokens.length !== t.tokens.length) return false;
  return t.tokens.every((tok, i) => tok === null || tok === tokens[i]);
}

export function isExact(t: Template): boolean {
  return !t.any && t.tokens.every((tok) => tok !== null);
}

export function render(t: Template): string {
  return t.any ? '⟨varies⟩' : t.tokens.map((tok) => tok ?? '⟨varies⟩').join('');
}
