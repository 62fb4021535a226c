import type { ManifestEntry } from '../../manifest/build.js';
import { withTransaction, type Pool, type Queryable } from '../pool.js';

/** Replaces a site's whole manifest (a deploy publishes all its files at once). */
export async function replaceManifest(pool: Pool, siteId: string, m: Map<string, ManifestEntry>): Promise<number> {
  return withTransaction(pool, async (c) => {
    await c.query('DELETE FROM site_manifests WHERE site_id = $1', [siteId]);
    const entries = [...m.entries()];
    for (let i = 0; i < entries.length; i += 500) {
      const batch = entries.slice(i, i + 500);
      await c.query(
        `INSERT INTO site_manifests (site_id, path, sha256, size, pieces, content_type)
         SELECT $1::uuid, p, s, z, pc, ct FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bytea[], $6::text[]) AS t(p, s, z, pc, ct)`,
        [siteId, batch.map(([p]) => p), batch.map(([, e]) => e.sha256), batch.map(([, e]) => e.size), batch.map(([, e]) => e.pieces), batch.map(([, e]) => e.contentType)],
      );
    }
    return entries.length;
  });
}

export async function loadManifest(db: Queryable, siteId: string): Promise<Map<string, ManifestEntry>> {
  const { rows } = await db.query<{ path: string; sha256: string; size: string; pieces: Buffer | null; content_type: string | null }>(
    'SELECT path, sha256, size, pieces, content_type FROM site_manifests WHERE site_id = $1', [siteId],
  );
  return new Map(rows.map((r) => [r.path, { sha256: r.sha256, size: Number(r.size), pieces: r.pieces, contentType: r.content_type }]));
}

export async function addSiteWarning(db: Queryable, siteId: string, kind: string, message: string, detail: Record<string, unknown>): Promise<void> {
  await db.query('INSERT INTO site_warnings (site_id, kind, message, detail) VALUES ($1, $2, $3, $4)', [siteId, kind, message.slice(0, 2000), JSON.stringify(detail)]);
}

export async function listSiteWarnings(db: Queryable, siteId: string, limit = 50): Promise<Array<{ at: Date; kind: string; message: string }>> {
  const { rows } = await db.query<{ at: Date; kind: string; message: string }>('SELECT at, kind, message FROM site_warnings WHERE site_id = $1 ORDER BY at DESC LIMIT $2', [siteId, limit]);
  return rows;
}
