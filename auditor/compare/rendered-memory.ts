import { touch } from './lru.js';
import type { Feature } from './document.js';
import { registrableDomain } from './url-template.js';

// What the origin's renders showed, remembered across audits so that each audit needs only one
// fresh origin render once a page is known: per page the last few renders (their DOM and
// mutation features), per page template and per site every host the origin's pages contacted.
// Bounded, least recently used first out.

export interface RememberedRender {
  at: number;
  dom: Feature[];
  mutations: Feature[];
  hosts: string[];
}

interface HostRecord {
  hosts: Set<string>;
  renders: number;
}

/** The page's template: data-like path segments and query values do not count (/product/42 → /product/⟨id⟩?q). */
export function templateOf(path: string): string {
  const [p = '', q = ''] = path.split('?', 2);
  const segments = p.split('/').map((s) => (/\d/.test(s) || /^[A-Za-z0-9_-]{16,}$/.test(s) ? '⟨id⟩' : s));
  const names = q ? [...new URLSearchParams(q).keys()].sort().join('&') : '';
  return `${segments.join('/')}${names ? `?${names}` : ''}`;
}


export class RenderedMemory {
  private readonly pages = new Map<string, RememberedRender[]>();
  private readonly templates = new Map<string, HostRecord>();
  private readonly sites = new Map<string, HostRecord>();

  constructor(private readonly opts: { maxPages?: number; rendersPerPage?: number; maxAgeMs?: number } = {}) {}

  /** Origin renders of this page seen since `now - maxAge`, newest first. */
  renders(site: string, path: string, now: number): RememberedRender[] {
    const maxAge = this.opts.maxAgeMs ?? 3600_000;
    return (this.pages.get(`${site}${path}`) ?? []).filter((r) => now - r.at <= maxAge).reverse();
  }

  remember(site: string, path: string, render: RememberedRender): void {
    const key = `${site}${path}`;
    const list = [...(this.pages.get(key) ?? []), render].slice(-(this.opts.rendersPerPage ?? 4));
    touch(this.pages, key, list, this.opts.maxPages ?? 500);
    for (const [map, k] of [[this.templates, `${site}${templateOf(path)}`], [this.sites, site]] as const) {
      const rec = map.get(k) ?? { hosts: new Set<string>(), renders: 0 };
      for (const h of render.hosts) rec.hosts.add(h);
      rec.renders++;
      touch(map, k, rec, this.opts.maxPages ?? 500);
    }
  }

  /** Hosts the origin's renders of this page template contacted. */
  templateHosts(site: string, path: string): ReadonlySet<string> {
    return this.templates.get(`${site}${templateOf(path)}`)?.hosts ?? new Set();
  }

  /** Every host (and domain) any origin render of the site contacted, and how many renders that is. */
  siteHosts(site: string): { hosts: ReadonlySet<string>; domains: ReadonlySet<string>; renders: number } {
    const rec = this.sites.get(site);
    const hosts = rec?.hosts ?? new Set<string>();
    return { hosts, domains: new Set([...hosts].map(registrableDomain)), renders: rec?.renders ?? 0 };
  }
}
