import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { maskTimes } from './template.js';
import type { Shape } from './value-template.js';

// What of a document can carry tampering, as a flat list of features keyed by a stable path.
// Pure: parse5 in, features out.

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

export const featureKinds = ['script', 'iframe', 'object', 'form', 'link', 'resource', 'meta_refresh', 'meta', 'base', 'handler', 'style', 'style_attr', 'text', 'attr', 'noscript'] as const;
export type FeatureKind = (typeof featureKinds)[number];

export interface Feature {
  kind: FeatureKind;
  /** Where in the document: tag#id.class chain with an index among look-alike siblings. */
  path: string;
  value: string;
  /** How the origin's variance is learned for it (code and hosts are never masked). */
  shape: Shape;
}

const urlKinds = new Set<FeatureKind>(['iframe', 'object', 'form', 'link', 'base', 'resource']);
const codeKinds = new Set<FeatureKind>(['handler', 'style', 'style_attr']);

export function shapeOf(kind: FeatureKind, value: string): Shape {
  if (kind === 'script') return value.startsWith('inline:') ? 'code' : 'url';
  if (urlKinds.has(kind)) return 'url';
  return codeKinds.has(kind) ? 'code' : 'text';
}

export interface DocumentContext {
  /**
   * 'signature' keys elements by tag#id.classes (robust to inserted elements); 'tags' by tag and
   * position only (robust to scripts toggling classes, for rendered DOMs).
   */
  pathMode?: 'signature' | 'tags';
  /** The page's URL as visitors see it (site host), so relative and absolute URLs normalize alike. */
  pageUrl: string;
  /** Hosts that are the site itself (the site host, the origin host). */
  siteHosts: string[];
}

// Their text is a feature of its own (script and style as code, noscript as markup) or nothing (head).
const hidden = new Set(['script', 'style', 'noscript', 'head']);

function attr(el: Element, name: string): string | undefined {
  return el.attrs.find((a) => a.name === name)?.value;
}

export function normalizeUrl(raw: string, ctx: DocumentContext): string {
  const trimmed = raw.trim();
  try {
    const u = new URL(trimmed, ctx.pageUrl);
    if ((u.protocol === 'http:' || u.protocol === 'https:') && ctx.siteHosts.includes(u.host.toLowerCase())) return `${u.pathname}${u.search}${u.hash}`;
    return u.href;
  } catch {
    return trimmed;
  }
}

/** True when a normalized URL points away from the site. */
export function isForeign(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(value) && !value.startsWith('data:');
}

function signature(el: Element, mode: DocumentContext['pathMode']): string {
  if (mode === 'tags') return el.tagName;
  const id = attr(el, 'id');
  const cls = (attr(el, 'class') ?? '').split(/\s+/).filter(Boolean).sort().join('.');
  return `${el.tagName}${id ? `#${id}` : ''}${cls ? `.${cls}` : ''}`;
}

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Attributes an element-specific feature already carries (and id/class, which key the element). */
function consumedAttributes(tag: string): Set<string> {
  const names = new Set(['style', 'formaction']);
  const byTag: Record<string, string[]> = {
    script: ['src'], iframe: ['src', 'srcdoc'], frame: ['src', 'srcdoc'], object: ['data', 'src', 'code'], embed: ['data', 'src', 'code'], applet: ['data', 'src', 'code'],
    form: ['action', 'method'], a: ['href'], area: ['href'], base: ['href'], link: ['rel', 'href'],
    img: ['src', 'srcset'], source: ['src', 'srcset'], video: ['src', 'srcset'], audio: ['src', 'srcset'], track: ['src', 'srcset'], input: ['src', 'srcset'],
  };
  for (const n of byTag[tag] ?? []) names.add(n);
  return names;
}

function elementFeatures(el: Element, path: string, ctx: DocumentContext, out: Feature[]): void {
  const url = (v: string | undefined) => (v === undefined ? undefined : normalizeUrl(v, ctx));
  const push = (kind: FeatureKind, value: string | undefined, at = path) => {
    if (value !== undefined) out.push({ kind, path: at, value, shape: shapeOf(kind, value) });
  };
  const tag = el.tagName;
  const consumed = consumedAttributes(tag);
  const keyed = ctx.pathMode === 'tags' ? [] : ['id', 'class'];
  for (const a of el.attrs) {
    if (/^on[a-z]+$/i.test(a.name)) push('handler', `${a.name}=${collapse(a.value)}`);
    // Every other attribute counts too: input values, data-* payloads, script types, meta content.
    else if (!consumed.has(a.name) && !keyed.includes(a.name) && !(tag === 'meta' && a.name === 'content' && attr(el, 'http-equiv'))) push('attr', collapse(a.value), `${path}@${a.name}`);
  }
  if (attr(el, 'style') !== undefined) push('style_attr', collapse(attr(el, 'style') ?? ''));
  if (tag === 'script') {
    const src = attr(el, 'src');
    push('script', src !== undefined ? url(src) : `inline:${collapse(textOf(el))}`);
  } else if (tag === 'iframe' || tag === 'frame') push('iframe', url(attr(el, 'src') ?? attr(el, 'srcdoc') ?? ''));
  else if (tag === 'object' || tag === 'embed' || tag === 'applet') push('object', url(attr(el, 'data') ?? attr(el, 'src') ?? attr(el, 'code') ?? ''));
  else if (tag === 'form') push('form', `${(attr(el, 'method') ?? 'get').toLowerCase()} ${url(attr(el, 'action') ?? '') ?? ''}`);
  else if (tag === 'a' || tag === 'area') push('link', url(attr(el, 'href')));
  else if (tag === 'base') push('base', url(attr(el, 'href') ?? ''));
  else if (tag === 'style') push('style', collapse(textOf(el)));
  else if (tag === 'noscript') push('noscript', collapse(textOf(el)));
  else if (tag === 'meta') metaFeatures(el, push);
  else if (tag === 'link') push('resource', `${(attr(el, 'rel') ?? '').toLowerCase()} ${url(attr(el, 'href') ?? '') ?? ''}`);
  if (['img', 'source', 'video', 'audio', 'track', 'input'].includes(tag)) {
    push('resource', url(attr(el, 'src')));
    const srcset = attr(el, 'srcset');
    if (srcset) for (const s of srcset.split(',')) push('resource', `srcset ${url(s.trim().split(/\s+/)[0] ?? '') ?? ''}`);
  }
  if (attr(el, 'formaction') !== undefined) push('form', `formaction ${url(attr(el, 'formaction')) ?? ''}`);
}

function metaFeatures(el: Element, push: (kind: FeatureKind, value: string | undefined) => void): void {
  const equiv = (attr(el, 'http-equiv') ?? '').toLowerCase();
  if (equiv === 'refresh') push('meta_refresh', collapse(attr(el, 'content') ?? ''));
  else if (equiv) push('meta', `${equiv}: ${collapse(attr(el, 'content') ?? '')}`);
}

function textOf(el: Element): string {
  let s = '';
  for (const c of el.childNodes) if (c.nodeName === '#text') s += (c as DefaultTreeAdapterMap['textNode']).value;
  return s;
}

function walk(parent: Node, path: string, ctx: DocumentContext, out: Feature[], textHidden: boolean): void {
  if (!('childNodes' in parent)) return;
  const seen = new Map<string, number>();
  let textIndex = 0;
  for (const child of parent.childNodes) {
    if (child.nodeName === '#text') {
      const text = collapse((child as DefaultTreeAdapterMap['textNode']).value);
      if (text && !textHidden) out.push({ kind: 'text', path: `${path}/#${textIndex++}`, value: maskTimes(text), shape: 'text' });
      continue;
    }
    if (!('tagName' in child)) continue;
    const el = child as Element;
    const sig = signature(el, ctx.pathMode);
    const n = seen.get(sig) ?? 0;
    seen.set(sig, n + 1);
    const childPath = `${path}>${sig}${n ? `[${n}]` : ''}`;
    elementFeatures(el, childPath, ctx, out);
    const inner = el.tagName === 'template' ? (el as DefaultTreeAdapterMap['template']).content : el;
    walk(inner, childPath, ctx, out, hidden.has(el.tagName));
  }
}

export function extractFeatures(html: string, ctx: DocumentContext): Feature[] {
  const out: Feature[] = [];
  walk(parse(html), '', ctx, out, false);
  return out;
}

/** Same-site scripts, stylesheets and images a document loads: the subresources to hash. */
export function subresourcePaths(features: readonly Feature[]): Array<{ path: string; destination: 'script' | 'style' | 'image' }> {
  const out = new Map<string, 'script' | 'style' | 'image'>();
  for (const f of features) {
    if (f.kind === 'script' && f.value.startsWith('/')) out.set(f.value, 'script');
    if (f.kind === 'resource') {
      const space = f.value.lastIndexOf(' ');
      const rel = space === -1 ? '' : f.value.slice(0, space);
      const href = f.value.slice(space + 1);
      if (rel === 'stylesheet' && href.startsWith('/')) out.set(href, 'style');
      else if ((rel === '' || rel === 'srcset') && href.startsWith('/')) out.set(href, 'image');
      else if (rel.includes('icon') && href.startsWith('/')) out.set(href, 'image');
    }
  }
  // Browsers ask for /favicon.ico when the page names no icon: so does the audit, to look the same.
  const namesIcon = features.some((f) => f.kind === 'resource' && /^\S*icon\S* /.test(f.value));
  if (!namesIcon) out.set('/favicon.ico', 'image');
  return [...out].map(([path, destination]) => ({ path, destination }));
}
