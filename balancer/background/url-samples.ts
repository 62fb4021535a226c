import type { Pool } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';

// What visitors ask for, and who they look like, so that audits look like them (issue 15.1).
// Per request the balancer calls `record` (no I/O: counted and sampled in memory); a timer
// upserts the counts and writes a bounded sample of visitors. Only node-eligible requests.

const MAX_PATHS_PER_SITE = 2_000;
/** Visitors kept per flush (reservoir sample over all sites), and how long rows live. */
const MAX_VISITORS_PER_FLUSH = 200;
const VISITOR_RETENTION = '24 hours';

/**
 * What the balancer knows of one visitor request, as `record` takes it. Never the address or
 * any credential: the country comes from GeoIP, the rest from request headers as sent.
 */
export interface VisitorSample {
  /** The node that served it (null: the origin did). */
  nodeId: string | null;
  /** ISO 3166 country from GeoIP of the visitor's address, if known. */
  country: string | null;
  acceptLanguage: string | null;
  userAgent: string | null;
  /** Sec-Fetch-Site as sent (none, same-origin, same-site, cross-site), if any. */
  secFetchSite?: string | null;
  /** The request was conditional (If-None-Match / If-Modified-Since): a returning visitor. */
  conditional?: boolean;
  /** It came over HTTPS (browsers send Sec-Fetch-* and client hints only there). */
  secure?: boolean;
}

interface StoredVisitor extends VisitorSample {
  siteId: string;
  path: string;
}

const one = (v: string | string[] | undefined): string | null => (Array.isArray(v) ? (v[0] ?? null) : (v ?? null));

/** The sample of one request, from what the balancer has at hand (call it only for requests a node served, never for audit pins). */
export function visitorSampleOf(headers: Readonly<Record<string, string | string[] | undefined>>, nodeId: string | null, country: string | null, secure: boolean): VisitorSample {
  return {
    nodeId, country, secure,
    acceptLanguage: one(headers['accept-language']),
    userAgent: one(headers['user-agent']),
    secFetchSite: one(headers['sec-fetch-site']),
    conditional: headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined,
  };
}

const clean = (v: string | null | undefined, max: number) => (v ? v.replace(/[^\x20-\x7e]/g, '').slice(0, max) : null);

export class UrlSampler {
  private counts = new Map<string, Map<string, number>>();
  private visitors: StoredVisitor[] = [];
  private seen = 0;
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;

  constructor(private readonly opts: { pool: Pool; log: Logger; flushMs?: number; share?: number; random: () => number }) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 5_000);
    this.timer.unref();
  }

  /** Per request: no I/O. `visitor` is what the audits imitate; omit it and only the URL is counted. */
  record(siteId: string, path: string, visitor?: VisitorSample): void {
    if (this.opts.random() >= (this.opts.share ?? 1) || path.length > 2_000) return;
    let site = this.counts.get(siteId);
    if (!site) this.counts.set(siteId, (site = new Map()));
    if (site.size < MAX_PATHS_PER_SITE || site.has(path)) site.set(path, (site.get(path) ?? 0) + 1);
    if (!visitor) return;
    // Reservoir sampling: every request of the interval is equally likely to be kept.
    this.seen++;
    const stored: StoredVisitor = { ...visitor, siteId, path };
    if (this.visitors.length < MAX_VISITORS_PER_FLUSH) this.visitors.push(stored);
    else {
      const i = Math.floor(this.opts.random() * this.seen);
      if (i < MAX_VISITORS_PER_FLUSH) this.visitors[i] = stored;
    }
  }

  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.write().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    const batch = this.counts;
    const visitors = this.visitors;
    this.counts = new Map();
    this.visitors = [];
    this.seen = 0;
    for (const [siteId, paths] of batch) {
      try {
        await this.opts.pool.query(
          `INSERT INTO url_samples (site_id, path, hits, last_seen_at, first_seen_at)
           SELECT $1::uuid, p, h, now(), now() FROM unnest($2::text[], $3::bigint[]) AS t(p, h)
           ON CONFLICT (site_id, path) DO UPDATE SET hits = url_samples.hits + EXCLUDED.hits, last_seen_at = now()`,
          [siteId, [...paths.keys()], [...paths.values()]],
        );
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'url samples not recorded');
      }
    }
    if (visitors.length) await this.writeVisitors(visitors);
  }

  private async writeVisitors(v: StoredVisitor[]): Promise<void> {
    try {
      await this.opts.pool.query(
        `INSERT INTO visitor_samples (site_id, node_id, path, country, accept_language, user_agent, sec_fetch_site, conditional, secure)
         SELECT s, n, p, c, l, u, f, cd, sc FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::bool[])
           AS t(s, n, p, c, l, u, f, cd, sc)
         WHERE n IS NULL OR EXISTS (SELECT 1 FROM nodes WHERE id = n)`,
        [v.map((x) => x.siteId), v.map((x) => x.nodeId), v.map((x) => x.path), v.map((x) => clean(x.country, 2)), v.map((x) => clean(x.acceptLanguage, 200)),
          v.map((x) => clean(x.userAgent, 400)), v.map((x) => clean(x.secFetchSite, 20)), v.map((x) => x.conditional ?? false), v.map((x) => x.secure ?? false)],
      );
      await this.opts.pool.query(`DELETE FROM visitor_samples WHERE at < now() - interval '${VISITOR_RETENTION}'`);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'visitor samples not recorded');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
