// Runs in an isolated world of every page (the page's own scripts cannot see or touch it): from
// DOMContentLoaded on, records every mutation that introduces a script, link, form, iframe,
// object, style, image or text, and every change of a URL or handler attribute. The page is
// then run for a few seconds of virtual time, so delayed rewrites happen before the DOM is read.
// Serialized into the page: it must be self-contained.

import { pageSource } from './page-source.js';

export interface MutationRecordEntry {
  /** Tag path from <html> (tags only, like the rendered DOM keys). */
  path: string;
  /** 'script', 'iframe', 'link', 'form', 'text', … or `attr:NAME` for a changed attribute. */
  what: string;
  value: string;
}

export const observerWorld = 'verity-observer';
export const observerLogExpression = 'JSON.stringify(globalThis.__verityMutations || [])';

export function observerSource(maxEntries: number): string {
  return pageSource(observe, maxEntries);
}

function observe(maxEntries: number): void {
  const log: Array<{ path: string; what: string; value: string }> = [];
  (globalThis as unknown as { __verityMutations: typeof log }).__verityMutations = log;
  const watched = new Set(['SCRIPT', 'IFRAME', 'FRAME', 'LINK', 'A', 'FORM', 'OBJECT', 'EMBED', 'STYLE', 'IMG', 'META', 'BASE', 'NOSCRIPT']);
  const urlAttr = /^(src|href|action|formaction|data|srcdoc|srcset|poster|ping|on[a-z]+)$/i;
  const pathOf = (n: Node | null): string => {
    const parts: string[] = [];
    for (let e = n instanceof Element ? n : (n?.parentElement ?? null); e; e = e.parentElement) parts.unshift(e.tagName.toLowerCase());
    return parts.join('>');
  };
  const push = (node: Node | null, what: string, value: string) => {
    if (log.length < maxEntries) log.push({ path: pathOf(node), what, value: value.replace(/\s+/g, ' ').trim().slice(0, 2000) });
  };
  const element = (el: Element) => {
    const tag = el.tagName;
    if (!watched.has(tag)) return;
    const a = (n: string) => el.getAttribute(n) ?? '';
    const value = tag === 'SCRIPT' ? (el.hasAttribute('src') ? a('src') : `inline:${el.textContent ?? ''}`)
      : tag === 'FORM' ? `${a('method') || 'get'} ${a('action')}`
      : tag === 'STYLE' || tag === 'NOSCRIPT' ? (el.textContent ?? '')
      : tag === 'META' ? `${a('http-equiv') || a('name')} ${a('content')}`
      : a('src') || a('href') || a('data') || a('srcdoc');
    push(el, tag.toLowerCase(), value);
  };
  const added = (n: Node) => {
    if (n.nodeType === 3) {
      if ((n.nodeValue ?? '').trim()) push(n, 'text', n.nodeValue ?? '');
      return;
    }
    if (!(n instanceof Element)) return;
    element(n);
    // A subtree inserted at once (innerHTML) reports only its root: walk it, bounded.
    const inner = n.querySelectorAll('*');
    for (let i = 0; i < inner.length && i < 500; i++) element(inner[i] as Element);
    const walker = document.createTreeWalker(n, 4);
    for (let t = walker.nextNode(), i = 0; t && i < 500; t = walker.nextNode(), i++) if ((t.nodeValue ?? '').trim()) push(t, 'text', t.nodeValue ?? '');
  };
  const start = () => {
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'childList') r.addedNodes.forEach(added);
        else if (r.type === 'characterData') push(r.target, 'text', r.target.nodeValue ?? '');
        else if (r.type === 'attributes' && r.attributeName && urlAttr.test(r.attributeName) && r.target instanceof Element) {
          push(r.target, `attr:${r.attributeName.toLowerCase()}`, r.target.getAttribute(r.attributeName) ?? '');
        }
      }
    }).observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
  };
  // What the parser builds is the document itself (compared as such); what scripts do after is logged.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
  else start();
}
