import type { Pool } from '../../common/db/pool.js';
import { recordRttSample } from '../../common/db/queries/node-location.js';
import type { GeoPoint } from '../../common/domain/geo.js';
import type { Logger } from '../../common/log.js';
import { recheckNodeLocation } from '../geo/node-location.js';

// Round-trip times from this balancer (whose place is configured: --location) to each node, as
// the health prober measures them. Only a new minimum matters (the RTT bound is physics: a node
// cannot answer faster than light allows), so only a clearly lower minimum is written, and then
// the node's declared location is judged again (balancer/geo/node-location.ts).

export interface RttRecorderOptions {
  pool: Pool;
  log: Logger;
  /** Where this balancer is. */
  vantage: GeoPoint;
  now: () => number;
  /** A minimum is written when it beats the last written one by this factor (default 0.9). */
  improvement?: number;
}

export class RttRecorder {
  private best = new Map<string, number>();
  private pending = new Map<string, { url: string; rttMs: number }>();
  private writing: Promise<void> | null = null;

  constructor(private readonly opts: RttRecorderOptions) {}

  /** One measured round trip to a node at `url` (a new URL starts over). No I/O here. */
  observe(nodeId: string, url: string, rttMs: number): void {
    const key = `${nodeId} ${url}`;
    const best = this.best.get(key);
    if (best !== undefined && rttMs >= best * (this.opts.improvement ?? 0.9)) return;
    this.best.set(key, rttMs);
    const queued = this.pending.get(nodeId);
    if (!queued || queued.url !== url || rttMs < queued.rttMs) this.pending.set(nodeId, { url, rttMs });
    this.writing ??= this.writeAll().finally(() => {
      this.writing = null;
    });
  }

  private async writeAll(): Promise<void> {
    while (this.pending.size > 0) {
      const [nodeId, sample] = this.pending.entries().next().value as [string, { url: string; rttMs: number }];
      this.pending.delete(nodeId);
      try {
        const now = new Date(this.opts.now());
        const changed = await recordRttSample(this.opts.pool, { nodeId, publicUrl: sample.url, vantage: this.opts.vantage, rttMs: sample.rttMs, now });
        if (changed) await recheckNodeLocation(this.opts.pool, nodeId, now);
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message, nodeId }, 'round-trip time not recorded');
      }
    }
  }

  /** Waits for writes in flight (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }
}
