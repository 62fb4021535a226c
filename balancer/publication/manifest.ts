import type { Pool } from '../../common/db/pool.js';
import { addSiteWarning, loadManifest } from '../../common/db/queries/manifests.js';
import type { ManifestEntry } from '../../common/manifest/build.js';
import type { Logger } from '../../common/log.js';
import type { ExtraChannel } from '../registry/sync.js';
import { pathOf } from '../routes/classify.js';
import type { Observation } from './types.js';

// Manifests a site published (`verity manifest`, the admin API, or the older
// integrity-manifest URL): digests that vouch for a file's bytes before any visitor asked for
// it. A manifest never replaces the origin: the origin's answer must still carry those exact
// bytes once, or the origin wins and the admin is warned.

export const MANIFEST_CHANGED_CHANNEL = 'verity_manifest_changed';

export class ManifestStore {
  private sites = new Map<string, Map<string, ManifestEntry>>();
  /** From the older manifest URL: kept apart, so reloading the stored manifests keeps them. */
  private legacy = new Map<string, Map<string, string>>();
  private warned = new Set<string>();
  /** Called with each path of a manifest that arrived or changed (the balancer fetches them ahead). */
  onEntry: ((siteId: string, path: string) => void) | null = null;

  constructor(private readonly o: { pool: Pool; log: Logger; siteIds: () => Iterable<string> }) {}

  async load(siteId: string): Promise<void> {
    const fresh = await loadManifest(this.o.pool, siteId);
    const old = this.sites.get(siteId);
    if (fresh.size === 0) this.sites.delete(siteId);
    else this.sites.set(siteId, fresh);
    for (const [path, e] of fresh) if (old?.get(path)?.sha256 !== e.sha256) this.onEntry?.(siteId, path);
  }

  async loadAll(siteIds: Iterable<string>): Promise<void> {
    for (const id of siteIds) await this.load(id);
  }

  /** Digests from the older `{path: sha256}` manifest URL (no sizes or pieces). */
  setLegacy(siteId: string, hashes: Map<string, string>): void {
    this.legacy.set(siteId, hashes);
  }

  private entry(siteId: string, path: string): ManifestEntry | undefined {
    const stored = this.sites.get(siteId)?.get(path);
    if (stored) return stored;
    const sha256 = this.legacy.get(siteId)?.get(path);
    return sha256 === undefined ? undefined : { sha256, size: -1, pieces: null, contentType: null };
  }

  /**
   * Does the manifest vouch for this origin answer? Bytes are compared as sent (identity only).
   * An answer that contradicts the manifest is the origin's word: not vouched, and a warning.
   */
  vouches(siteId: string, url: string, obs: Observation): boolean {
    if (obs.encoding !== null || url.includes('?')) return false;
    const entry = this.entry(siteId, pathOf(url));
    if (!entry) return false;
    if (entry.sha256 === obs.sha256 && (entry.size < 0 || entry.size === obs.size)) return true;
    this.warn(siteId, url, entry, obs);
    return false;
  }

  private warn(siteId: string, url: string, entry: ManifestEntry, obs: Observation): void {
    const key = `${siteId} ${url} ${obs.sha256}`;
    if (this.warned.has(key)) return;
    if (this.warned.size > 10_000) this.warned.clear();
    this.warned.add(key);
    const message = `the origin's ${url.slice(0, 300)} does not match the published manifest (sha256 ${obs.sha256.slice(0, 16)}…, manifest ${entry.sha256.slice(0, 16)}…): the origin's bytes are served`;
    this.o.log.warn({ siteId, url: url.slice(0, 300) }, message);
    addSiteWarning(this.o.pool, siteId, 'manifest_mismatch', message, { url, originSha256: obs.sha256, manifestSha256: entry.sha256 })
      .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'site warning not recorded'));
  }

  channel(): ExtraChannel {
    return {
      channel: MANIFEST_CHANGED_CHANNEL,
      handle: (siteId) => {
        if (/^[0-9a-f-]{36}$/.test(siteId)) this.load(siteId).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'manifest not reloaded'));
      },
      resync: () => {
        this.loadAll(this.o.siteIds()).catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'manifests not reloaded'));
      },
    };
  }
}
