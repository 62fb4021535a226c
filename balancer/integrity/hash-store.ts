// What the balancer knows of the origin's static files: their SHA-256, learned from the
// origin's published manifest or from the origin's own bytes the first time a visitor asked
// for the file (that first request is served by the origin). Entries expire, so a file the
// owner changed is learned again.

export type HashEntry =
  | { kind: 'hash'; sha256: string; etag: string | null; learnedAt: number; source: 'origin' | 'manifest' }
  | { kind: 'too-large'; learnedAt: number };

export interface HashStoreOptions {
  ttlMs: number;
  maxEntries: number;
}

export class HashStore {
  private entries = new Map<string, HashEntry>();
  private manifests = new Map<string, { hashes: Map<string, string>; learnedAt: number }>();

  private revalidating = new Set<string>();

  /**
   * `revalidate` is called (at most once at a time per file) when an entry with an ETag expires:
   * the entry keeps verifying meanwhile, and the callback re-learns or forgets it.
   */
  constructor(
    private readonly opts: HashStoreOptions = { ttlMs: 300_000, maxEntries: 100_000 },
    private readonly revalidate: ((siteId: string, url: string, etag: string) => Promise<void>) | null = null,
  ) {}

  private key(siteId: string, url: string): string {
    return `${siteId} ${url}`;
  }

  /** Per request: no I/O. undefined → unknown (ask the origin and learn). */
  lookup(siteId: string, url: string, now: number): HashEntry | undefined {
    const manifest = this.manifests.get(siteId);
    const fromManifest = manifest && now - manifest.learnedAt < this.opts.ttlMs * 4 ? manifest.hashes.get(url.split('?')[0] ?? url) : undefined;
    if (fromManifest) return { kind: 'hash', sha256: fromManifest, etag: null, learnedAt: manifest?.learnedAt ?? now, source: 'manifest' };
    const k = this.key(siteId, url);
    const entry = this.entries.get(k);
    if (!entry) return undefined;
    if (now - entry.learnedAt <= this.opts.ttlMs) return entry;
    if (entry.kind === 'hash' && entry.etag && this.revalidate && now - entry.learnedAt <= this.opts.ttlMs * 2) {
      // Stale but revalidatable: keep using it while the origin is asked If-None-Match.
      if (!this.revalidating.has(k)) {
        this.revalidating.add(k);
        void this.revalidate(siteId, url, entry.etag).catch(() => this.entries.delete(k)).finally(() => this.revalidating.delete(k));
      }
      return entry;
    }
    this.entries.delete(k);
    return undefined;
  }

  learn(siteId: string, url: string, entry: HashEntry): void {
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(this.key(siteId, url), entry);
  }

  /** The origin said 304: the hash holds for another TTL. */
  touch(siteId: string, url: string, now: number): void {
    const k = this.key(siteId, url);
    const entry = this.entries.get(k);
    if (entry) this.entries.set(k, { ...entry, learnedAt: now });
  }

  forget(siteId: string, url: string): void {
    this.entries.delete(this.key(siteId, url));
  }

  setManifest(siteId: string, hashes: Map<string, string>, now: number): void {
    this.manifests.set(siteId, { hashes, learnedAt: now });
  }
}

const staticPath = /\.(?:js|mjs|css|png|jpe?g|gif|webp|avif|svg|ico|woff2?|ttf|otf|eot|wasm|map|json|txt|xml|pdf|mp4|webm|mp3|ogg|zip)$/i;

/** Static assets are verified inline; HTML is left to shadow sampling and audits. */
export function isStaticPath(path: string): boolean {
  return staticPath.test(path);
}
