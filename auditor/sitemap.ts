import type { HttpClient } from './fetch/http-client.js';

// The site's sitemap, read from the origin and cached: the source of "fresh" pages to audit.

export function sitemapPaths(xml: string, hosts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const m of xml.matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/g)) {
    try {
      const u = new URL(m[1] ?? '');
      if (hosts.includes(u.host.toLowerCase()) || u.hostname === 'localhost') out.add(`${u.pathname}${u.search}`);
    } catch {
      // not a URL: skip
    }
    if (out.size >= 500) break;
  }
  return [...out];
}

export function createSitemapCache(client: HttpClient, ttlMs: number, now: () => number = Date.now) {
  const cache = new Map<string, { at: number; paths: string[] }>();
  return async (site: { siteHost: string; originUrl: string }): Promise<string[]> => {
    const hit = cache.get(site.originUrl);
    if (hit && now() - hit.at < ttlMs) return hit.paths;
    let paths: string[] = [];
    try {
      const origin = new URL(site.originUrl);
      const res = await client.get({ url: new URL('/sitemap.xml', origin).href, headers: [['Host', origin.host], ['User-Agent', 'verity-auditor (sitemap)'], ['Accept', 'application/xml']], timeoutMs: 10_000, maxBytes: 2_000_000 });
      if (res.status === 200) paths = sitemapPaths(res.body.toString('utf8'), [site.siteHost.toLowerCase(), origin.host.toLowerCase()]);
    } catch {
      // No sitemap: visitors' pages and the root are enough.
    }
    cache.set(site.originUrl, { at: now(), paths });
    return paths;
  };
}
