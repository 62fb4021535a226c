import type { Pool } from '../../common/db/pool.js';
import type { Logger } from '../../common/log.js';
import type { ExtraChannel } from '../registry/sync.js';
import type { Change } from './evolve.js';
import type { PublicationStore } from './store.js';
import type { Publication, PublicationMode, ResponseHeaders } from './types.js';

// What one balancer learns, every balancer knows: publications are written to PostgreSQL behind
// the request path (batched), a URL this balancer has not seen is looked up there in the
// background (its visitor meanwhile goes to the origin), and a URL that changed at the origin is
// forgotten everywhere through NOTIFY.

export const PUBLICATION_FORGOTTEN_CHANNEL = 'verity_publication_forgotten';

interface Row {
  site_id: string; url: string; variant: string; vary: string[]; mode: PublicationMode; source: Publication['source'];
  status: number; headers: ResponseHeaders; encoding: string | null; sha256: string; size: string; pieces: Buffer | null;
  etag: string | null; last_modified: string | null; lifetime_ms: string; initial_age_ms: string; received_at: Date; repeats: number; history: string[];
  unstable_headers: string[];
}

function fromRow(r: Row): Publication {
  return {
    siteId: r.site_id, url: r.url, variant: r.variant, mode: r.mode, source: r.source, repeats: r.repeats, history: r.history, unstableHeaders: r.unstable_headers,
    current: {
      status: r.status, headers: r.headers, encoding: r.encoding, sha256: r.sha256, size: Number(r.size), pieces: r.pieces,
      etag: r.etag, lastModified: r.last_modified, lifetimeMs: Number(r.lifetime_ms), initialAgeMs: Number(r.initial_age_ms), receivedAt: r.received_at.getTime(),
    },
  };
}

const COLUMNS = 'site_id::text AS site_id, url, variant, vary, mode, source, status, headers, encoding, sha256, size, pieces, etag, last_modified, lifetime_ms, initial_age_ms, received_at, repeats, history, unstable_headers';

export interface PublicationSync {
  /** Per request: no I/O here; looks the URL up in PostgreSQL later (at most once in a while per URL). */
  recall(siteId: string, url: string): void;
  /** Recent publications into memory (at start). */
  warm(limit: number): Promise<number>;
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly channel: ExtraChannel;
}

export function createPublicationSync(o: { pool: Pool; log: Logger; store: PublicationStore; now: () => number; flushMs?: number }): PublicationSync {
  const dirty = new Map<string, Publication>();
  const forgotten = new Map<string, [string, string]>();
  const recalled = new Map<string, number>();
  let recalling = 0;
  let flushing: Promise<void> | null = null;
  const key = (siteId: string, url: string, variant = ''): string => `${siteId}\n${url}\n${variant}`;

  o.store.onChange({
    changed(pub: Publication, _change: Change | 'revalidated') {
      dirty.set(key(pub.siteId, pub.url, pub.variant), pub);
    },
    forgotten(siteId, url) {
      forgotten.set(key(siteId, url), [siteId, url]);
      for (const k of dirty.keys()) if (k.startsWith(key(siteId, url))) dirty.delete(k);
    },
  });

  async function write(): Promise<void> {
    const gone = [...forgotten.values()];
    forgotten.clear();
    for (const [siteId, url] of gone) {
      await o.pool.query('DELETE FROM published_urls WHERE site_id = $1 AND url = $2', [siteId, url]);
      // NOTIFY payloads are limited (8000 bytes); a longer URL is forgotten elsewhere when it goes stale.
      if (url.length < 7000) await o.pool.query('SELECT pg_notify($1, $2)', [PUBLICATION_FORGOTTEN_CHANNEL, `${siteId} ${url}`]);
    }
    const batch = [...dirty.values()];
    dirty.clear();
    for (const p of batch) {
      const fam = o.store.family(p.siteId, p.url);
      const c = p.current;
      await o.pool.query(
        `INSERT INTO published_urls (site_id, url, variant, vary, mode, source, status, headers, encoding, sha256, size, pieces, etag, last_modified,
                                     lifetime_ms, initial_age_ms, received_at, repeats, history, unstable_headers, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, now())
         ON CONFLICT (site_id, url, variant) DO UPDATE SET vary = EXCLUDED.vary, mode = EXCLUDED.mode, source = EXCLUDED.source, status = EXCLUDED.status,
           headers = EXCLUDED.headers, encoding = EXCLUDED.encoding, sha256 = EXCLUDED.sha256, size = EXCLUDED.size, pieces = EXCLUDED.pieces,
           etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, lifetime_ms = EXCLUDED.lifetime_ms, initial_age_ms = EXCLUDED.initial_age_ms,
           received_at = EXCLUDED.received_at, repeats = EXCLUDED.repeats, history = EXCLUDED.history, unstable_headers = EXCLUDED.unstable_headers, updated_at = now()
         WHERE published_urls.received_at <= EXCLUDED.received_at`,
        [p.siteId, p.url, p.variant, fam?.varyNames ?? [], p.mode, p.source, c.status, JSON.stringify(c.headers), c.encoding, c.sha256, c.size, c.pieces,
          c.etag, c.lastModified, Math.round(c.lifetimeMs), Math.round(c.initialAgeMs), new Date(c.receivedAt), p.repeats, p.history, p.unstableHeaders],
      );
    }
  }

  function flush(): Promise<void> {
    if (flushing) return flushing;
    flushing = write().catch((err: unknown) => o.log.warn({ err: (err as Error).message }, 'publications not saved; will retry'))
      .finally(() => {
        flushing = null;
      });
    return flushing;
  }

  const timer = setInterval(() => void flush(), o.flushMs ?? 500);
  timer.unref();

  async function load(siteId: string, url: string): Promise<void> {
    const { rows } = await o.pool.query<Row>(`SELECT ${COLUMNS} FROM published_urls WHERE site_id = $1 AND url = $2`, [siteId, url]);
    for (const r of rows) o.store.adopt(fromRow(r), r.vary, o.now());
  }

  return {
    recall(siteId, url) {
      const k = key(siteId, url);
      const now = o.now();
      // A URL nobody published would otherwise cost a query per request.
      if (recalling >= 16 || now - (recalled.get(k) ?? -Infinity) < 5_000) return;
      if (recalled.size > 50_000) recalled.clear();
      recalled.set(k, now);
      recalling++;
      load(siteId, url).catch((err: unknown) => o.log.debug({ err: (err as Error).message }, 'publication not recalled')).finally(() => recalling--);
    },
    async warm(limit) {
      const { rows } = await o.pool.query<Row>(`SELECT ${COLUMNS} FROM published_urls ORDER BY updated_at DESC LIMIT $1`, [limit]);
      for (const r of rows) o.store.adopt(fromRow(r), r.vary, o.now());
      return rows.length;
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
      await flush();
    },
    channel: {
      channel: PUBLICATION_FORGOTTEN_CHANNEL,
      handle(payload) {
        const space = payload.indexOf(' ');
        if (space > 0) o.store.forget(payload.slice(0, space), payload.slice(space + 1), false);
      },
      resync() {
        // Forgotten URLs announced while we were away are unknown: start from the database again.
        o.store.clear();
        recalled.clear();
      },
    },
  };
}
