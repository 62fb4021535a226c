import type { Pool } from '../../common/db/pool.js';
import { decodeBody } from '../../common/http/decode.js';
import { isHtml } from '../../common/http/media-type.js';
import type { Logger } from '../../common/log.js';
import { htmlSignature, signatureMismatch } from '../integrity/html-signature.js';
import type { RoutingTable } from '../registry/table.js';
import type { ShadowSink } from '../routes/runtime.js';
import { fetchCopy } from './origin-fetch.js';
import type { StrikeQueue } from './strikes.js';

// Shadow sampling: a share of the dynamic pages nodes served to real visitors (sites that chose
// --dynamic sampled; stable pages are verified byte for byte before anyone sees them) is
// compared, in the background, with a fresh origin copy. A node cannot tell these from visitors: they ARE
// visitors. A mismatch queues a deep audit of that node and page and a light strike.

export interface ShadowOptions {
  pool: Pool;
  log: Logger;
  table: RoutingTable;
  strikes: StrikeQueue;
  maxInFlight?: number;
  timeoutMs?: number;
  onResult?: (r: { nodeId: string; url: string; mismatched: string[] }) => void;
}

type Sample = Parameters<ShadowSink['offer']>[0];

const MAX_DECODED = 8 * 1024 * 1024;

export class ShadowSampler implements ShadowSink {
  private inFlight = new Set<Promise<void>>();
  dropped = 0;

  constructor(private readonly opts: ShadowOptions) {}

  /** Per request: no I/O here; the comparison runs later. */
  offer(sample: Sample): void {
    if (this.inFlight.size >= (this.opts.maxInFlight ?? 2)) {
      this.dropped++;
      return;
    }
    const p = this.compare(sample).catch((err: unknown) => this.opts.log.debug({ err: (err as Error).message }, 'shadow comparison skipped'));
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async originCopy(sample: Sample): Promise<string> {
    const site = this.opts.table.siteById(sample.siteId);
    if (!site) throw new Error('site gone');
    const url = new URL(site.origin.href.replace(/\/$/, '') + sample.url);
    const copy = await fetchCopy(url, { host: site.host, timeoutMs: this.opts.timeoutMs ?? 10_000, maxBytes: 8 * 1024 * 1024, headers: { accept: 'text/html' } });
    if (copy.status !== 200) throw new Error(`origin answered ${copy.status}`);
    return copy.body.toString('utf8');
  }

  private async compare(sample: Sample): Promise<void> {
    // Decoded off the event loop and capped: a node's body may be a decompression bomb.
    const decoded = await decodeBody(sample.body, sample.encoding, MAX_DECODED);
    // Judged as HTML by label in any spelling, or by content, as browsers would.
    if (!isHtml(sample.contentType, decoded)) return;
    const nodeSig = htmlSignature(decoded.toString('utf8'));
    const originSig = htmlSignature(await this.originCopy(sample));
    let mismatched = signatureMismatch(nodeSig, originSig, null);
    if (mismatched.length > 0) {
      // A second origin copy tells which parts change on their own.
      mismatched = signatureMismatch(nodeSig, originSig, htmlSignature(await this.originCopy(sample)));
    }
    this.opts.onResult?.({ nodeId: sample.nodeId, url: sample.url, mismatched });
    if (mismatched.length === 0) return;
    await this.opts.pool.query("INSERT INTO audits (node_id, site_id, url, reason) VALUES ($1, $2, $3, 'shadow')", [sample.nodeId, sample.siteId, sample.url]);
    this.opts.strikes.push({ nodeId: sample.nodeId, kind: 'shadow_mismatch', reason: `shadow sample of ${sample.url.slice(0, 300)} differs from the origin in: ${mismatched.join(', ')}` });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
