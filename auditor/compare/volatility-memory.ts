import type { Learned } from './features-diff.js';
import { isExactValue, mergePools, variesWholly, type ValueTemplate } from './value-template.js';

// What a page's origin has been seen to vary, remembered across audits: a rotating quote that
// happened to come out the same in this audit's origin fetches is still known to rotate, so a
// node's (stale, honest) copy with another quote is not evidence. Only whole keys that came and
// went or changed beyond a template are remembered; bounded, least recently used first out.

export class VolatilityMemory {
  /** Per page: the keys once seen volatile, with every value the origin put there (code and URL keys stay bound to them). */
  private readonly pages = new Map<string, Map<string, ValueTemplate[]>>();
  /** Recent versions of each page's origin document, so an honest stale copy is recognised. */
  private readonly versions = new Map<string, Array<{ at: number; html: string }>>();

  constructor(private readonly maxPages = 2000) {}

  /** Adds the keys this audit's origin samples showed to be volatile. */
  remember(page: string, learned: Learned): void {
    const keys = this.pages.get(page) ?? new Map<string, ValueTemplate[]>();
    for (const [k, l] of learned) {
      // Code and URLs whose data the origin varies are remembered with every value seen, so the
      // next audit need not refetch the origin to learn it again; text only when it varies whole.
      const varies = l.templates === null || l.templates.some(variesWholly) || (l.shape !== 'text' && !l.templates.every(isExactValue));
      if (!varies) continue;
      keys.set(k, mergePools(keys.get(k) ?? [], l.pool));
    }
    this.pages.delete(page);
    if (keys.size) this.pages.set(page, keys);
    while (this.pages.size > this.maxPages) {
      const oldest = this.pages.keys().next().value;
      if (oldest === undefined) break;
      this.pages.delete(oldest);
    }
  }

  /** Masks, in `learned`, every key once seen volatile on this page. */
  apply(page: string, learned: Learned): void {
    const keys = this.pages.get(page);
    if (!keys) return;
    for (const [k, pool] of keys) {
      const l = learned.get(k);
      if (!l) continue;
      l.templates = null;
      l.pool = mergePools(l.pool, pool);
    }
  }

  /** Keeps one origin document per page per minute, the last four. */
  rememberVersion(page: string, html: string, at: number): void {
    const list = this.versions.get(page) ?? [];
    const last = list[list.length - 1];
    if (last && at - last.at < 60_000) return;
    list.push({ at, html });
    while (list.length > 4) list.shift();
    this.versions.delete(page);
    this.versions.set(page, list);
    while (this.versions.size > this.maxPages) {
      const oldest = this.versions.keys().next().value;
      if (oldest === undefined) break;
      this.versions.delete(oldest);
    }
  }

  /** Origin documents of this page seen since `since` (ms epoch), newest first. */
  versionsSince(page: string, since: number): string[] {
    return (this.versions.get(page) ?? []).filter((v) => v.at >= since).reverse().map((v) => v.html);
  }

  get size(): number {
    return this.pages.size;
  }
}
