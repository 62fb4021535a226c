import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAuditor } from '../../auditor/app.js';
import { openDatabase } from '../../common/db/open.js';
import { silentLogger } from '../../common/log.js';
import { createHttpClient, type HttpClient } from '../../auditor/fetch/http-client.js';
import { insertTestNode, insertTestSite, startBalancer, testAuditSecret } from '../../test/support/balancer-harness.js';
import { seededRandom } from '../../test/support/auditor/seeded.js';
import { startSampleOrigin } from '../../test/support/origin/index.js';
import { bestRules, shuffledBaseline, type ObservedRequest, type Rule } from './rules.js';
import { startRecordingNode, type SeenByNode } from './recording-node.js';
import { startVisitorTraffic, type VisitorRequestLog } from './visitors.js';

// Issue 15.2, the "classifier node": a real balancer, an honest node that records everything it
// can observe, simulated visitor traffic, and the real auditor (rendering in Chromium) auditing
// that node through the balancer, all at once. Afterwards the node's best single- and
// two-feature rules try to tell audits from visitors.

const host = 'shop.example';
const pages = ['/', '/products', '/news', '/about', '/contact', '/news/1', '/news/2'];

export interface ClassifierBench {
  seconds: number;
  audits: number;
  visitors: number;
  /** Requests the balancer itself sent the node (learning digests): neither class. */
  unlabelled: number;
  single: Rule[];
  pairs: Rule[];
  /** The best rule's accuracy with the labels shuffled (chance for the best of this many rules on this many requests). */
  baseline: number;
}

function header(s: SeenByNode, name: string): string {
  return s.headers.find(([k]) => k.toLowerCase() === name)?.[1] ?? '∅';
}

/** Everything a node observes, per request (labels come from the senders' own logs). */
function features(seen: readonly SeenByNode[]): Array<Record<string, string | number>> {
  const hits = new Map<string, number>();
  const lastOnSocket = new Map<number, number>();
  const lastOfVisitor = new Map<string, number>();
  return seen.map((s, i) => {
    const who = `${header(s, 'user-agent')}|${header(s, 'accept-language')}`;
    const burst = seen.filter((o) => Math.abs(o.atMs - s.atMs) <= 1500 && `${header(o, 'user-agent')}|${header(o, 'accept-language')}` === who).length;
    const f = {
      headerOrder: s.headers.map(([k]) => k.toLowerCase()).join(','),
      headerCount: s.headers.length,
      userAgent: header(s, 'user-agent'),
      acceptLanguage: header(s, 'accept-language'),
      acceptEncoding: header(s, 'accept-encoding'),
      secFetchSite: header(s, 'sec-fetch-site'),
      secFetchDest: header(s, 'sec-fetch-dest'),
      conditional: header(s, 'if-none-match') !== '∅' || header(s, 'if-modified-since') !== '∅' ? 'yes' : 'no',
      novelPath: hits.has(s.path) ? 'no' : 'yes',
      pathHits: hits.get(s.path) ?? 0,
      gapMs: i === 0 ? -1 : s.atMs - (seen[i - 1]?.atMs ?? 0),
      socketGapMs: lastOnSocket.has(s.socket) ? s.atMs - (lastOnSocket.get(s.socket) ?? 0) : -1,
      requestOnSocket: s.requestOnSocket,
      burst,
      sinceSameVisitorMs: lastOfVisitor.has(who) ? s.atMs - (lastOfVisitor.get(who) ?? 0) : -1,
    };
    hits.set(s.path, (hits.get(s.path) ?? 0) + 1);
    lastOnSocket.set(s.socket, s.atMs);
    lastOfVisitor.set(who, s.atMs);
    return f;
  });
}

/**
 * Who sent each node request: a visitor or the auditor when one of them sent that path with that
 * browser moments before (their own logs); otherwise the balancer itself (learning a file's digest).
 */
function label(seen: readonly SeenByNode[], visitors: readonly VisitorRequestLog[], audits: readonly VisitorRequestLog[]): Array<'audit' | 'visitor' | 'balancer'> {
  const used = [new Set<number>(), new Set<number>()];
  const match = (s: SeenByNode, log: readonly VisitorRequestLog[], u: Set<number>) => {
    const i = log.findIndex((l, j) => !u.has(j) && l.path === s.path && l.userAgent === header(s, 'user-agent') && l.acceptLanguage === header(s, 'accept-language') && l.sentMs <= s.atMs && s.atMs - l.sentMs < 3000);
    if (i !== -1) u.add(i);
    return i !== -1;
  };
  return seen.map((s) => (match(s, visitors, used[0] ?? new Set()) ? 'visitor' : match(s, audits, used[1] ?? new Set()) ? 'audit' : 'balancer'));
}

/** The auditor's HTTP client, logging what it sends toward the balancer (the bench's ground truth). */
function loggingClient(inner: HttpClient, balancerUrl: string, log: VisitorRequestLog[]): HttpClient {
  return {
    get: (req) => {
      if (req.url.startsWith(balancerUrl)) {
        const h = (n: string) => req.headers.find(([k]) => k.toLowerCase() === n)?.[1] ?? '∅';
        const u = new URL(req.url);
        log.push({ path: `${u.pathname}${u.search}`, userAgent: h('user-agent'), acceptLanguage: h('accept-language'), sentMs: performance.now() });
      }
      return inner.get(req);
    },
    close: () => inner.close(),
  };
}

export async function benchClassifier(opts: { seconds?: number; sessionsPerSecond?: number; auditEverySeconds?: number; dump?: string } = {}): Promise<ClassifierBench> {
  const seconds = opts.seconds ?? 120;
  const dir = mkdtempSync(join(tmpdir(), 'verity-classifier-'));
  chmodSync(dir, 0o755);
  const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, pgDir: join(dir, 'pg') }, silentLogger());
  const origin = await startSampleOrigin({ random: seededRandom(1) });
  const node = await startRecordingNode(origin.url);
  const balancer = await startBalancer({ pool: db.pool });
  try {
    const siteId = await insertTestSite(db.pool, { host, origin: origin.url, privateRoutes: origin.privateRoutes, dynamicPolicy: 'sampled' });
    const nodeId = await insertTestNode(db.pool, { url: node.url, siteIds: [siteId], status: 'active', name: 'classifier-node' });
    // Visitors first: the balancer has sampled the node's traffic (its own sampling, as in
    // production) before the first audit.
    const samples = balancer.balancer.runtime.samples;
    let major = 140;
    const traffic = startVisitorTraffic({
      balancerUrl: balancer.publicUrl, host, pages, sessionsPerSecond: opts.sessionsPerSecond ?? 0.5, chromiumMajor: () => major, random: seededRandom(3),
    });
    await new Promise((r) => setTimeout(r, 15_000));
    await samples.flush();
    const auditLog: VisitorRequestLog[] = [];
    const auditor = await startAuditor({
      concurrency: 1, auditEverySeconds: opts.auditEverySeconds ?? 8, balancerUrl: balancer.publicUrl, auditSecret: testAuditSecret, recycleEvery: 50,
      loadTimeoutMs: 10_000, stepTimeoutMs: 10_000, settleMs: 10_000, auditTimeoutMs: 60_000, browser: true, pollMs: 250,
    }, { pool: db.pool, log: silentLogger(), random: seededRandom(2), client: loggingClient(createHttpClient(), balancer.publicUrl, auditLog) });
    major = Number(/(\d+)\./.exec(auditor.renderer?.sandboxReport.version ?? '')?.[1] ?? 140);
    const started = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await traffic.stop();
    await auditor.stop();
    const labels = label(node.seen, traffic.log, auditLog);
    const f = features(node.seen);
    const t0 = started;
    const requests: ObservedRequest[] = [];
    node.seen.forEach((s, i) => {
      const l = s.atMs >= started ? labels[i] : undefined;
      if (l === 'audit' || l === 'visitor') requests.push({ label: l, split: Math.floor((s.atMs - t0) / 10_000) % 2 === 0 ? 'train' : 'test', features: f[i] ?? {} });
    });
    if (opts.dump) writeFileSync(opts.dump, node.seen.map((s, i) => JSON.stringify({ label: s.atMs >= started ? labels[i] : 'warmup', atMs: s.atMs - t0, path: s.path, socket: s.socket, headers: s.headers, features: f[i] })).join('\n'));
    const audits = requests.filter((r) => r.label === 'audit').length;
    void nodeId;
    return { seconds, audits, visitors: requests.length - audits, unlabelled: node.seen.length - requests.length, ...bestRules(requests), baseline: shuffledBaseline(requests, seededRandom(4)) };
  } finally {
    await balancer.close();
    await node.close();
    await origin.close();
    await db.close();
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').slice(0, 160);

export function renderClassifier(b: ClassifierBench): string {
  const best = Math.max(b.single[0]?.accuracy ?? 0, b.pairs[0]?.accuracy ?? 0);
  const rows = (rules: Rule[]) => rules.map((r) => `| ${r.features.join(' + ')} | ${pct(r.accuracy)} | ${cell(r.description)} |`).join('\n');
  return `A ${b.seconds} s mixed run: ${b.visitors} visitor requests and ${b.audits} audit requests reached one honest node through the real balancer (and ${b.unlabelled} of the balancer's own, left out).
Rules are learned on alternate 10 s blocks and scored on the others by balanced accuracy (50 % is chance).
**Best rule: ${pct(best)}** (goal: at most 60 %). With the labels shuffled, the best rule scores ${pct(b.baseline)}: that much is chance for the best of ${b.single.length > 0 ? 'all one- and two-feature' : 'these'} rules on a run of this size.

| single feature | balanced accuracy | rule |
| --- | --- | --- |
${rows(b.single)}

| two features | balanced accuracy | rule |
| --- | --- | --- |
${rows(b.pairs)}`;
}
