import type { Logger } from '../../common/log.js';
import type { ManifestStore } from '../publication/manifest.js';
import type { RoutingTable } from '../registry/table.js';
import type { RouteSite } from '../registry/types.js';
import { fetchCopy } from './origin-fetch.js';

// Per site, in the background: the older form of a published manifest, a URL on the origin
// (`sites.integrity_manifest_url`) that lists `{path: sha256}`. `verity manifest` stores richer
// ones in PostgreSQL (balancer/publication/manifest.ts).

export interface SiteRefreshOptions {
  table: RoutingTable;
  manifests: ManifestStore;
  log: Logger;
  intervalMs?: number;
}

/** `{path: hash}` or `{files: {path: hash}}`; hashes as hex or SRI `sha256-<base64>`. */
export function parseManifest(json: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const root = json && typeof json === 'object' && 'files' in json ? (json as { files: unknown }).files : json;
  if (!root || typeof root !== 'object') return out;
  for (const [path, value] of Object.entries(root as Record<string, unknown>)) {
    if (typeof value !== 'string' || !path.startsWith('/')) continue;
    if (/^[0-9a-f]{64}$/i.test(value)) out.set(path, value.toLowerCase());
    else if (value.startsWith('sha256-')) out.set(path, Buffer.from(value.slice(7), 'base64').toString('hex'));
  }
  return out;
}

export class SiteRefresher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: SiteRefreshOptions) {}

  start(): void {
    const tick = (): void => {
      this.running = this.refreshAll().finally(() => {
        this.running = null;
        if (this.stopped) return;
        this.timer = setTimeout(tick, this.opts.intervalMs ?? 300_000);
        this.timer.unref();
      });
    };
    tick();
  }

  async refreshAll(): Promise<void> {
    await Promise.all([...this.opts.table.allSites()].map((s) => this.refresh(s)));
  }

  async refresh(site: RouteSite): Promise<void> {
    if (!site.integrityManifestUrl) return;
    try {
      const m = await fetchCopy(new URL(site.integrityManifestUrl), { timeoutMs: 5_000, maxBytes: 8 * 1024 * 1024, headers: { accept: 'application/json' } });
      if (m.status === 200) this.opts.manifests.setLegacy(site.id, parseManifest(JSON.parse(m.body.toString('utf8'))));
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message, site: site.host }, 'integrity manifest not loaded');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
