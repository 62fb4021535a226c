import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../../common/log.js';
import type { RoutingTable } from '../registry/table.js';
import type { RouteSite } from '../registry/types.js';
import { learn, visitorHeaders } from './learn.js';
import type { ManifestStore } from './manifest.js';
import { probeOrigin, type ProbeOptions } from './origin-probe.js';
import type { PublicationStore } from './store.js';
import { freshUntil, type Publication } from './types.js';
import { variantKey, type EncodingClass } from './variant.js';

// Background requests that keep what we know of published URLs true, never awaited by visitors:
// - confirm: a URL seen once is fetched again, to tell stable bytes from dynamic ones;
// - revalidate: a stable URL about to go stale is asked again with its validators, at the
//   origin's own freshness, so nodes keep serving it;
// - learn: a URL visitors only ever ask ranges of (video players) is fetched whole once.
// At most a few run at once; the rest queue (bounded), one per URL variant.

const AT_ONCE = 8;
const QUEUE = 2_000;

export interface RevalidatorOptions extends ProbeOptions {
  table: RoutingTable;
  store: PublicationStore;
  manifests: ManifestStore;
  log: Logger;
}

type Job = { kind: 'confirm' | 'revalidate'; pub: Publication } | { kind: 'learn'; siteId: string; url: string; headers: IncomingHttpHeaders; encoding: EncodingClass };

function encodingFor(pub: Publication, varyNames: readonly string[]): EncodingClass {
  if (varyNames.includes('accept-encoding')) return (pub.variant.split('\n')[varyNames.indexOf('accept-encoding')] ?? 'identity') as EncodingClass;
  return pub.current.encoding === null ? 'identity' : pub.current.encoding === 'gzip' ? 'gzip' : 'br, gzip';
}

/** The request headers that select a publication's variant. */
function variantHeaders(pub: Publication, varyNames: readonly string[]): IncomingHttpHeaders {
  const values = pub.variant.split('\n');
  const out: IncomingHttpHeaders = {};
  varyNames.forEach((name, i) => {
    if (name !== 'accept-encoding' && values[i]) out[name] = values[i];
  });
  return out;
}

export class Revalidator {
  private queue: Job[] = [];
  private queued = new Set<string>();
  private running = 0;
  private idle: Array<() => void> = [];
  private closed = false;

  constructor(private readonly o: RevalidatorOptions) {}

  /** A URL just seen for the first time (or changed): fetch it once more. */
  confirm(pub: Publication): void {
    this.enqueue(`c ${pub.siteId} ${pub.url} ${pub.variant}`, { kind: 'confirm', pub });
  }

  /** Per request: a stale stable URL is asked again (its visitor meanwhile goes to the origin). */
  kick(pub: Publication): void {
    if (pub.mode === 'stable') this.enqueue(`r ${pub.siteId} ${pub.url} ${pub.variant}`, { kind: 'revalidate', pub });
  }

  /** Per request: revalidate ahead when a stable URL nears the end of its freshness. */
  ahead(pub: Publication, now: number): void {
    if (pub.mode !== 'stable') return;
    const until = freshUntil(pub.current);
    if (until - now < Math.min(30_000, pub.current.lifetimeMs / 10)) this.kick(pub);
  }

  learn(siteId: string, url: string, headers: IncomingHttpHeaders, encoding: EncodingClass): void {
    this.enqueue(`l ${siteId} ${url}`, { kind: 'learn', siteId, url, headers, encoding });
  }

  private enqueue(key: string, job: Job): void {
    if (this.closed || this.queued.has(key) || this.queue.length >= QUEUE) return;
    this.queued.add(key);
    this.queue.push(job);
    void this.next(key);
  }

  private async next(_key: string): Promise<void> {
    if (this.running >= AT_ONCE) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running++;
    try {
      await this.run(job);
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'background origin request failed');
    } finally {
      this.queued.delete(this.keyOf(job));
      this.running--;
      if (this.queue.length > 0) void this.next('');
      else if (this.running === 0) for (const f of this.idle.splice(0)) f();
    }
  }

  private keyOf(job: Job): string {
    if (job.kind === 'learn') return `l ${job.siteId} ${job.url}`;
    return `${job.kind === 'confirm' ? 'c' : 'r'} ${job.pub.siteId} ${job.pub.url} ${job.pub.variant}`;
  }

  private async run(job: Job): Promise<void> {
    const siteId = job.kind === 'learn' ? job.siteId : job.pub.siteId;
    const site = this.o.table.siteById(siteId);
    if (!site) return;
    if (job.kind === 'learn') return this.fetchAndObserve(site, job.url, job.headers, job.encoding, []);
    const fam = this.o.store.family(site.id, job.pub.url);
    const varyNames = fam?.varyNames ?? [];
    const headers = variantHeaders(job.pub, varyNames);
    const validators: string[] = [];
    if (job.kind === 'revalidate') {
      if (job.pub.current.etag !== null) validators.push('if-none-match', job.pub.current.etag);
      if (job.pub.current.lastModified !== null) validators.push('if-modified-since', job.pub.current.lastModified);
    }
    await this.fetchAndObserve(site, job.pub.url, headers, encodingFor(job.pub, varyNames), validators, job.pub);
  }

  private async fetchAndObserve(site: RouteSite, url: string, headers: IncomingHttpHeaders, encoding: EncodingClass, validators: string[], pub?: Publication): Promise<void> {
    const list: string[] = ['accept-encoding', encoding, ...validators];
    for (const [n, v] of Object.entries(headers)) if (typeof v === 'string') list.push(n, v);
    const probe = await probeOrigin(this.o, site, url, list);
    if (probe.kind === 'not-modified') {
      if (!pub) return;
      const fresh = learn({ status: pub.current.status, headers: { ...Object.fromEntries(Object.entries(pub.current.headers)), ...probe.headers }, sha256: pub.current.sha256, size: pub.current.size, pieces: pub.current.pieces, requestTimeMs: probe.requestTimeMs, responseTimeMs: probe.responseTimeMs });
      if (fresh.ok) this.o.store.revalidate(pub, visitorHeaders(probe.headers), fresh.obs);
      return;
    }
    if (probe.kind === 'other') return;
    const learned = learn(probe.answer);
    if (!learned.ok) {
      this.o.store.forget(site.id, url);
      return;
    }
    const source = this.o.manifests.vouches(site.id, url, learned.obs) ? 'manifest' : 'origin';
    this.o.store.observe({ siteId: site.id, url, varyNames: learned.varyNames, variant: variantKey(learned.varyNames, headers, encoding), source }, learned.obs, this.o.now());
  }

  /** Resolves when nothing runs or waits (tests, shutdown). */
  settled(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue = [];
    await this.settled();
  }
}
