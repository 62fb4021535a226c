import type { IncomingHttpHeaders } from 'node:http';

// Which variant of a URL a request is for. The origin names the request headers its answer
// depends on (Vary); Accept-Encoding is first folded into one of three classes, so a handful of
// browsers' spellings make three variants, not hundreds (the same normalisation CDNs do). The
// class is what the origin and nodes are sent, so the bytes they return match the variant.

export type EncodingClass = 'br, gzip' | 'gzip' | 'identity';

function accepted(value: string, coding: string): boolean {
  let star: boolean | null = null;
  for (const part of value.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = (rawName ?? '').trim().toLowerCase();
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (name === coding) return ok;
    if (name === '*') star = ok;
  }
  return star ?? false;
}

/** Per request: no I/O. */
export function encodingClass(acceptEncoding: string | string[] | undefined): EncodingClass {
  if (acceptEncoding === undefined) return 'identity';
  const v = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  const gzip = accepted(v, 'gzip');
  if (!gzip) return 'identity';
  return accepted(v, 'br') ? 'br, gzip' : 'gzip';
}

function normalise(v: string | string[] | undefined): string {
  if (v === undefined) return '';
  return (Array.isArray(v) ? v.join(',') : v).split(',').map((s) => s.trim()).join(',');
}

/** Per request: the variant key of a request for a URL whose answers vary on `varyNames`. */
export function variantKey(varyNames: readonly string[], headers: IncomingHttpHeaders, encoding: EncodingClass): string {
  if (varyNames.length === 0) return '';
  let key = '';
  for (const name of varyNames) key += `${name === 'accept-encoding' ? encoding : normalise(headers[name])}\n`;
  return key;
}
