import type { Pool } from '../../common/db/pool.js';
import { recordTrustEvent } from '../../common/db/queries/trust.js';
import type { TrustEventKind } from '../../common/domain/trust.js';
import type { Logger } from '../../common/log.js';

// Strikes are written off the request path: the visitor never waits on the database. Repeats of
// one (node, kind) within `coalesceMs` are one strike, so a node misbehaving on every response
// cannot flood trust_events; the queue is bounded and drops (and counts) beyond that.

export type StrikeKind = Extract<TrustEventKind, 'header_strike' | 'integrity_mismatch' | 'truncation_strike' | 'shadow_mismatch'>;

export interface StrikeEvidence {
  kind: string;
  contentType: string;
  body: Buffer;
  meta: Record<string, unknown>;
}

export interface Strike {
  nodeId: string;
  kind: StrikeKind;
  reason: string;
  evidence?: StrikeEvidence;
}

export interface StrikeQueueOptions {
  pool: Pool;
  log: Logger;
  now: () => number;
  coalesceMs?: number;
  flushMs?: number;
  maxQueued?: number;
  onWritten?: (s: Strike) => void;
}

export class StrikeQueue {
  private queue: Strike[] = [];
  private lastAt = new Map<string, number>();
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  dropped = 0;

  constructor(private readonly opts: StrikeQueueOptions) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 100);
    this.timer.unref();
  }

  /** Per request: no I/O. Returns false when coalesced or dropped. */
  push(strike: Strike): boolean {
    const key = `${strike.nodeId} ${strike.kind}`;
    const now = this.opts.now();
    const last = this.lastAt.get(key);
    if (last !== undefined && now - last < (this.opts.coalesceMs ?? 5_000)) return false;
    if (this.queue.length >= (this.opts.maxQueued ?? 10_000)) {
      this.dropped++;
      return false;
    }
    this.lastAt.set(key, now);
    if (this.lastAt.size > 50_000) this.lastAt.clear();
    this.queue.push(strike);
    return true;
  }

  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.writeAll().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writeAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, 50);
      for (const s of batch) {
        try {
          await this.write(s);
          this.opts.onWritten?.(s);
        } catch (err) {
          this.opts.log.warn({ err: (err as Error).message, nodeId: s.nodeId, kind: s.kind }, 'strike not recorded');
        }
      }
    }
  }

  private async write(s: Strike): Promise<void> {
    let evidenceId: string | null = null;
    if (s.evidence) {
      const { rows } = await this.opts.pool.query<{ id: string }>(
        'INSERT INTO evidence (audit_id, node_id, kind, content_type, body, meta) VALUES (NULL, $1, $2, $3, $4, $5) RETURNING id',
        [s.nodeId, s.evidence.kind, s.evidence.contentType, s.evidence.body, JSON.stringify(s.evidence.meta)],
      );
      evidenceId = rows[0]?.id ?? null;
    }
    // Bytes that differ from the origin's digest are unambiguous (common/domain/trust.ts); a
    // truncation weighs on availability only, whatever its cause.
    const confirmation = s.kind === 'integrity_mismatch' ? 'unambiguous' as const : undefined;
    await recordTrustEvent(this.opts.pool, s.nodeId, { kind: s.kind, reason: s.reason, evidenceId, actor: 'balancer', confirmation }, new Date(this.opts.now()));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
