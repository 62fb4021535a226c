import type { Pool } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';

// What visitors ask for, counted in memory and upserted in batches, so the auditor audits real
// pages. Only node-eligible (public) requests are counted. Bounded per flush.

const MAX_PATHS_PER_SITE = 2_000;

export class UrlSampler {
  private counts = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;

  constructor(private readonly opts: { pool: Pool; log: Logger; flushMs?: number; share?: number; random: () => number }) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 5_000);
    this.timer.unref();
  }

  /** Per request: no I/O. */
  record(siteId: string, path: string): void {
    if (this.opts.random() >= (this.opts.share ?? 1) || path.length > 2_000) return;
    let site = this.counts.get(siteId);
    if (!site) this.counts.set(siteId, (site = new Map()));
    if (site.size >= MAX_PATHS_PER_SITE && !site.has(path)) return;
    site.set(path, (site.get(path) ?? 0) + 1);
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
    this.counts = new Map();
    for (const [siteId, paths] of batch) {
      try {
        await this.opts.pool.query(
          `INSERT INTO url_samples (site_id, path, hits, last_seen_at)
           SELECT $1::uuid, p, h, now() FROM unnest($2::text[], $3::bigint[]) AS t(p, h)
           ON CONFLICT (site_id, path) DO UPDATE SET hits = url_samples.hits + EXCLUDED.hits, last_seen_at = now()`,
          [siteId, [...paths.keys()], [...paths.values()]],
        );
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'url samples not recorded');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
