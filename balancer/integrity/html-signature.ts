import { createHash } from 'node:crypto';

// A structural fingerprint of an HTML page for shadow sampling: what a doctoring node would
// have to change to run code or send visitors elsewhere (scripts, frames, forms, outside hosts,
// refreshes), with volatile parts (digits, long tokens, nonces) masked. Visible text is left to
// the auditor's deep audits: pages rotate text on their own (quotes, news) and a cached copy
// may legitimately show yesterday's, which would make a text check cry wolf. Cheap regexes: a
// mismatch only queues a deep audit, it is not itself proof.

export type SignaturePart = 'scripts' | 'iframes' | 'forms' | 'hosts' | 'refresh';
export type HtmlSignature = Record<SignaturePart, string>;

const mask = (s: string): string => s.replace(/[A-Za-z0-9+/_-]{24,}={0,2}/g, '~').replace(/\d+/g, '0');
const digest = (items: string[]): string => createHash('sha256').update(items.join('\n')).digest('hex').slice(0, 32);

function attrs(html: string, tag: string, attr: string): string[] {
  const re = new RegExp(`<${tag}\\b[^>]*?\\b${attr}\\s*=\\s*["']?([^"'\\s>]+)`, 'gi');
  return [...html.matchAll(re)].map((m) => mask(m[1] ?? ''));
}

function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((m) => digest([mask((m[1] ?? '').trim())]));
}

function hosts(html: string): string[] {
  const set = new Set<string>();
  for (const m of html.matchAll(/\b(?:src|href|action|data|poster)\s*=\s*["']?(?:https?:)?\/\/([^/"'\s>]+)/gi)) set.add((m[1] ?? '').toLowerCase());
  return [...set].sort();
}

export function htmlSignature(html: string): HtmlSignature {
  return {
    scripts: digest([...attrs(html, 'script', 'src'), ...inlineScripts(html)]),
    iframes: digest([...attrs(html, 'iframe', 'src'), ...attrs(html, 'frame', 'src'), ...attrs(html, 'object', 'data'), ...attrs(html, 'embed', 'src')]),
    forms: digest(attrs(html, 'form', 'action')),
    hosts: digest(hosts(html)),
    refresh: digest([...html.matchAll(/<meta\b[^>]*http-equiv\s*=\s*["']?refresh[^>]*>/gi)].map((m) => mask(m[0]))),
  };
}

/**
 * Parts where the node differs from the origin, ignoring parts that differ between two origin
 * copies (those change on their own).
 */
export function signatureMismatch(node: HtmlSignature, origin: HtmlSignature, origin2: HtmlSignature | null): SignaturePart[] {
  const parts = Object.keys(node) as SignaturePart[];
  return parts.filter((p) => node[p] !== origin[p] && (origin2 === null || origin2[p] === origin[p]));
}
