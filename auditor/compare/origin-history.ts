import { touch } from './lru.js';
// What the origin has said about each URL across audits, beyond document features: the values
// of each response header (a header the origin ever varies for a URL is never held against a
// node there) and the digests of each subresource with how long a cache may keep them (a node
// serving an earlier, once-genuine copy within its freshness is not a mismatch). Bounded, least
// recently used first out.

interface HeaderRecord {
  values: Set<string>;
  present: boolean;
  absent: boolean;
}

interface DigestRecord {
  sha256: string;
  maxAgeMs: number;
  /** When the origin was first seen serving something else instead (null: still current). */
  supersededAt: number | null;
}

/** Freshness lifetime a shared cache may give a response (RFC 9111 s-maxage, max-age; none when no-store/no-cache/private). */
export function freshnessMs(cacheControl: string | null): number {
  const cc = (cacheControl ?? '').toLowerCase();
  if (/\b(no-store|no-cache|private)\b/.test(cc)) return 0;
  const s = /s-maxage=(\d+)/.exec(cc) ?? /max-age=(\d+)/.exec(cc);
  return s ? Number(s[1]) * 1000 : 0;
}


export class OriginHistory {
  private readonly headers = new Map<string, Map<string, HeaderRecord>>();
  private readonly cookies = new Map<string, Set<string>>();
  private readonly digests = new Map<string, DigestRecord[]>();
  private readonly validatorsByUrl = new Map<string, { etag?: string; lastModified?: string }>();

  constructor(private readonly maxUrls = 2000) {}

  /** One origin response for this URL: each header's value, and the cookie names it sets. */
  rememberResponse(url: string, headers: ReadonlyArray<readonly [string, string]>, names: readonly string[]): void {
    const byName = this.headers.get(url) ?? new Map<string, HeaderRecord>();
    const values = new Map<string, string[]>();
    for (const [k, v] of headers) values.set(k.toLowerCase(), [...(values.get(k.toLowerCase()) ?? []), v.trim()]);
    for (const name of names) {
      const rec = byName.get(name) ?? { values: new Set<string>(), present: false, absent: false };
      const v = values.get(name);
      if (v) {
        rec.present = true;
        if (rec.values.size < 8) rec.values.add(v.join(', '));
      } else rec.absent = true;
      byName.set(name, rec);
    }
    touch(this.headers, url, byName, this.maxUrls);
    const cookies = this.cookies.get(url) ?? new Set<string>();
    for (const [k, v] of headers) if (k.toLowerCase() === 'set-cookie' && cookies.size < 100) cookies.add(v.split('=')[0]?.trim() ?? '');
    touch(this.cookies, url, cookies, this.maxUrls);
  }

  /** The origin was seen sending two values of this header for this URL, or sending it and not. */
  headerVaries(url: string, name: string): boolean {
    const rec = this.headers.get(url)?.get(name);
    return rec !== undefined && (rec.values.size > 1 || (rec.present && rec.absent));
  }

  /** The origin was seen both sending this header for this URL and not sending it. */
  headerComesAndGoes(url: string, name: string): boolean {
    const rec = this.headers.get(url)?.get(name);
    return rec !== undefined && rec.present && rec.absent;
  }

  cookieNames(url: string): ReadonlySet<string> {
    return this.cookies.get(url) ?? new Set();
  }

  /** The origin's current digest of a subresource; an earlier one is kept with its freshness. */
  rememberDigest(url: string, sha256: string, maxAgeMs: number, now: number): void {
    const list = (this.digests.get(url) ?? []).map((d) => (d.sha256 !== sha256 && d.supersededAt === null ? { ...d, supersededAt: now } : d));
    const current = list.find((d) => d.sha256 === sha256);
    const next = current ? list.map((d) => (d === current ? { ...d, maxAgeMs, supersededAt: null } : d)) : [...list, { sha256, maxAgeMs, supersededAt: null }];
    touch(this.digests, url, next.slice(-5), this.maxUrls);
  }

  /** The origin's validators of a subresource, for a returning visitor's conditional request. */
  rememberValidators(url: string, v: { etag?: string; lastModified?: string }): void {
    if (v.etag || v.lastModified) touch(this.validatorsByUrl, url, v, this.maxUrls);
  }

  validators(url: string): { etag?: string; lastModified?: string } | null {
    return this.validatorsByUrl.get(url) ?? null;
  }

  /** A copy the origin once served that a cache may still hold now (fetched at the latest when it was superseded). */
  onceGenuine(url: string, sha256: string, now: number): boolean {
    return (this.digests.get(url) ?? []).some((d) => d.sha256 === sha256 && d.supersededAt !== null && now <= d.supersededAt + d.maxAgeMs);
  }
}
