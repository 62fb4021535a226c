import type { IncomingHttpHeaders } from 'node:http';
import { evolve, revalidated, type Change } from './evolve.js';
import type { Family, Observation, Publication } from './types.js';
import { variantKey, type EncodingClass } from './variant.js';

// What this balancer knows of each site's published URLs, in memory: the request path reads it
// synchronously. Bounded: the least recently used URLs are forgotten (a forgotten URL is served
// by the origin, which teaches us again, or reloaded from PostgreSQL in the background).

const MAX_VARIANTS = 16;

export interface StoreListener {
  /** A publication changed (persist it, confirm it…). */
  changed(pub: Publication, change: Change | 'revalidated'): void;
  /** A URL is the origin's again (announced by us, not heard from another balancer). */
  forgotten?(siteId: string, url: string): void;
}

export class PublicationStore {
  private sites = new Map<string, Map<string, Family>>();
  private count = 0;
  private listeners: StoreListener[] = [];

  constructor(private readonly maxUrls = 200_000) {}

  onChange(l: StoreListener): void {
    this.listeners.push(l);
  }

  get size(): number {
    return this.count;
  }

  /** Per request: no I/O. */
  family(siteId: string, url: string): Family | undefined {
    return this.sites.get(siteId)?.get(url);
  }

  /** Per request: the variant a request is for, if known. */
  lookup(siteId: string, url: string, headers: IncomingHttpHeaders, encoding: EncodingClass, now: number): Publication | undefined {
    const fam = this.sites.get(siteId)?.get(url);
    if (!fam) return undefined;
    fam.lastUsed = now;
    return fam.variants.get(variantKey(fam.varyNames, headers, encoding));
  }

  /** One complete origin answer for (site, url), for a request with the given headers. */
  observe(at: { siteId: string; url: string; varyNames: string[]; variant: string; source: Publication['source'] }, obs: Observation, now: number): Publication {
    const fam = this.familyFor(at.siteId, at.url, at.varyNames, now);
    const prev = fam.variants.get(at.variant);
    const { pub, change } = evolve(prev, { siteId: at.siteId, url: at.url, variant: at.variant, source: at.source }, obs);
    if (!prev && fam.variants.size >= MAX_VARIANTS) return pub;
    fam.variants.set(at.variant, pub);
    for (const l of this.listeners) l.changed(pub, change);
    return pub;
  }

  /** The origin answered our conditional request with 304. */
  revalidate(pub: Publication, headers: Observation['headers'], timing: Pick<Observation, 'lifetimeMs' | 'initialAgeMs' | 'receivedAt'>): Publication | undefined {
    const fam = this.sites.get(pub.siteId)?.get(pub.url);
    if (fam?.variants.get(pub.variant) !== pub) return undefined;
    const next = revalidated(pub, headers, timing);
    fam.variants.set(pub.variant, next);
    for (const l of this.listeners) l.changed(next, 'revalidated');
    return next;
  }

  /** A publication read back from PostgreSQL (another balancer learned it): kept unless we know better. */
  adopt(pub: Publication, varyNames: string[], now: number): void {
    const fam = this.familyFor(pub.siteId, pub.url, varyNames, now);
    const mine = fam.variants.get(pub.variant);
    if (mine && mine.current.receivedAt >= pub.current.receivedAt) return;
    if (!mine && fam.variants.size >= MAX_VARIANTS) return;
    fam.variants.set(pub.variant, pub);
  }

  /**
   * The URL is the origin's again (no longer publishable, or changed by an unsafe request):
   * every variant is forgotten. `announce`: tell the listeners (not for news from elsewhere).
   */
  forget(siteId: string, url: string, announce = true): boolean {
    const site = this.sites.get(siteId);
    const had = site?.delete(url) ?? false;
    if (had) this.count--;
    if (announce) for (const l of this.listeners) l.forgotten?.(siteId, url);
    return had;
  }

  clear(): void {
    this.sites.clear();
    this.count = 0;
  }

  forgetSite(siteId: string): void {
    const site = this.sites.get(siteId);
    if (!site) return;
    this.count -= site.size;
    this.sites.delete(siteId);
  }

  *all(): IterableIterator<Publication> {
    for (const site of this.sites.values()) for (const fam of site.values()) yield* fam.variants.values();
  }

  private familyFor(siteId: string, url: string, varyNames: string[], now: number): Family {
    let site = this.sites.get(siteId);
    if (!site) this.sites.set(siteId, (site = new Map()));
    let fam = site.get(url);
    if (fam && fam.varyNames.join() !== varyNames.join()) {
      // The origin now varies on other headers: the old variants are keyed wrongly.
      fam.variants.clear();
      fam.varyNames = varyNames;
    }
    if (!fam) {
      if (this.count >= this.maxUrls) this.evict();
      fam = { varyNames, variants: new Map(), lastUsed: now };
      site.set(url, fam);
      this.count++;
    }
    fam.lastUsed = now;
    return fam;
  }

  /** Forgets the least recently used tenth (approximately: one pass, no ordering kept per request). */
  private evict(): void {
    const all: Array<[string, string, number]> = [];
    for (const [siteId, site] of this.sites) for (const [url, fam] of site) all.push([siteId, url, fam.lastUsed]);
    all.sort((a, b) => a[2] - b[2]);
    for (const [siteId, url] of all.slice(0, Math.max(1, Math.floor(all.length / 10)))) this.forget(siteId, url, false);
  }
}
