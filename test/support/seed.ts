import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../common/db/pool.js';
import { recordNodeTraffic } from '../../common/db/queries/node-traffic.js';
import type { NodeStatus, Severity } from '../../common/domain/trust.js';
import { screenshotTriple } from './evidence-images.js';

// Builders for realistic rows: tests and screenshot scripts seed the database through these.

export async function seedSite(db: Queryable, s: { host?: string; origin?: string; privateRoutes?: string[] } = {}): Promise<{ id: string; host: string }> {
  const host = s.host ?? `shop-${randomBytes(3).toString('hex')}.example`;
  const { rows } = await db.query<{ id: string }>('INSERT INTO sites (host, origin, private_routes) VALUES ($1, $2, $3) RETURNING id', [
    host, s.origin ?? 'http://127.0.0.1:9/', s.privateRoutes ?? ['/account/**', '/login', '/api/**'],
  ]);
  return { id: (rows[0] as { id: string }).id, host };
}

export interface NodeSeed {
  name?: string;
  status?: NodeStatus;
  integrity?: number;
  availability?: number;
  lat?: number | null;
  lon?: number | null;
  country?: string | null;
  siteIds?: string[];
  lastSeenAt?: Date | null;
  createdAt?: Date;
  heartbeat?: Record<string, number> | null;
}

export async function seedNode(db: Queryable, n: NodeSeed = {}): Promise<string> {
  const id = randomBytes(16).toString('hex');
  const integrity = n.integrity ?? 0.8;
  const availability = n.availability ?? 0.9;
  // Beta parameters consistent with the scores, as if ten observations had been made.
  await db.query(
    `INSERT INTO nodes (id, name, public_key, public_url, declared_lat, declared_lon, country, status, integrity, availability,
                        integrity_alpha, integrity_beta, availability_alpha, availability_beta, last_heartbeat, last_seen_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [id, n.name ?? `node-${id.slice(0, 6)}`, randomBytes(32).toString('base64url'), `http://127.0.0.1:9/${id.slice(0, 4)}`,
      n.lat === undefined ? 48.85 : n.lat, n.lon === undefined ? 2.35 : n.lon, n.country === undefined ? 'FR' : n.country,
      n.status ?? 'active', integrity, availability, integrity * 10, (1 - integrity) * 10, availability * 10, (1 - availability) * 10,
      n.heartbeat === undefined ? { inFlight: 2, requestsTotal: 1000, errorsTotal: 3, cacheHits: 800, cacheMisses: 200, cacheBytes: 1 << 20, loadAvg1m: 0.3 } : n.heartbeat,
      n.lastSeenAt === undefined ? new Date() : n.lastSeenAt, n.createdAt ?? new Date()],
  );
  for (const siteId of n.siteIds ?? []) await db.query('INSERT INTO node_sites (node_id, site_id) VALUES ($1, $2)', [id, siteId]);
  return id;
}

export interface TrustEventSeed {
  at: Date;
  kind: string;
  integrityAfter: number;
  availabilityAfter: number;
  statusAfter?: NodeStatus;
  reason: string;
  auditId?: string | null;
  actor?: string;
}

export async function seedTrustEvents(db: Queryable, nodeId: string, events: TrustEventSeed[]): Promise<void> {
  for (const e of events) {
    await db.query(
      `INSERT INTO trust_events (node_id, at, kind, integrity_after, availability_after, status_after, reason, audit_id, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [nodeId, e.at, e.kind, e.integrityAfter, e.availabilityAfter, e.statusAfter ?? 'active', e.reason, e.auditId ?? null, e.actor ?? 'system'],
    );
  }
}

export interface FindingSeed {
  kind: string;
  severity: Severity;
  summary: string;
  detail?: unknown;
}

export interface EvidenceSeed {
  kind: string;
  contentType: string;
  body: Buffer;
}

export interface AuditSeed {
  nodeId: string;
  siteId: string;
  url?: string;
  verdict?: 'pass' | 'tampered' | 'inconclusive' | 'unreachable' | null;
  reason?: string;
  startedAt?: Date;
  findings?: FindingSeed[];
  evidence?: EvidenceSeed[];
}

export async function seedAudit(db: Queryable, a: AuditSeed): Promise<string> {
  const started = a.startedAt ?? new Date();
  const verdict = a.verdict === undefined ? 'pass' : a.verdict;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO audits (node_id, site_id, url, reason, status, verdict, run_after, started_at, finished_at, created_at, attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7, $10) RETURNING id`,
    [a.nodeId, a.siteId, a.url ?? 'http://shop.example/', a.reason ?? 'scheduled', verdict ? 'done' : 'queued', verdict,
      started, verdict ? started : null, verdict ? new Date(started.getTime() + 4200) : null, verdict ? 1 : 0],
  );
  const id = (rows[0] as { id: string }).id;
  for (const f of a.findings ?? []) {
    await db.query('INSERT INTO findings (audit_id, kind, severity, summary, detail) VALUES ($1, $2, $3, $4, $5)', [id, f.kind, f.severity, f.summary, JSON.stringify(f.detail ?? {})]);
  }
  for (const e of a.evidence ?? []) {
    await db.query('INSERT INTO evidence (audit_id, node_id, kind, content_type, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [id, a.nodeId, e.kind, e.contentType, e.body, started]);
  }
  return id;
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v), 'utf8');

/** What the auditor stores for a page a rogue node doctored: findings and every evidence kind. */
export function tamperedAuditParts(opts: { hostileFragment?: string } = {}): { findings: FindingSeed[]; evidence: EvidenceSeed[] } {
  const shots = screenshotTriple();
  const injected = opts.hostileFragment ?? '<script src="https://cdn.evil-ads.example/inject.js"></script>';
  return {
    findings: [
      { kind: 'new_third_party_script', severity: 'critical', summary: 'node added a script from cdn.evil-ads.example', detail: { host: 'cdn.evil-ads.example' } },
      { kind: 'screenshot_diff', severity: 'high', summary: `${shots.changedPixels} pixels differ from the origin rendering`, detail: { changedPixels: shots.changedPixels } },
      { kind: 'header_changed', severity: 'medium', summary: 'Content-Security-Policy weakened', detail: {} },
    ],
    evidence: [
      { kind: 'origin_screenshot', contentType: 'image/png', body: shots.origin },
      { kind: 'node_screenshot', contentType: 'image/png', body: shots.node },
      { kind: 'diff_image', contentType: 'image/png', body: shots.diff },
      { kind: 'fragments', contentType: 'application/json', body: json([
        { kind: 'script', origin: '<script src="/static/app.js"></script>', node: `<script src="/static/app.js"></script>\n${injected}` },
        { kind: 'text', origin: '<p class="price">Price: 19.90 EUR</p>', node: '<p class="price">Price: 29.90 EUR</p>' },
      ]) },
      { kind: 'headers_diff', contentType: 'application/json', body: json([
        { name: 'content-security-policy', origin: "default-src 'self'", node: "default-src * 'unsafe-inline'" },
        { name: 'x-frame-options', origin: 'DENY', node: null },
      ]) },
      { kind: 'blocked_requests', contentType: 'application/json', body: json([
        { url: 'https://cdn.evil-ads.example/inject.js', type: 'script', reason: 'third-party', render: 'node' },
        { url: 'http://169.254.169.254/latest/meta-data/', type: 'fetch', reason: 'navigation', render: 'node' },
      ]) },
    ],
  };
}

/** Minute by minute traffic for the last `minutes` minutes before `now`. */
export async function seedTraffic(db: Queryable, nodeId: string, o: { now: Date; minutes: number; perMinute: number; p50Ms: number; p99Ms: number; errorRate?: number; audit?: boolean }): Promise<void> {
  for (let i = o.minutes; i >= 1; i--) {
    const wave = 1 + 0.3 * Math.sin(i / 7);
    const requests = Math.round(o.perMinute * wave);
    await recordNodeTraffic(db, {
      nodeId, minute: new Date(o.now.getTime() - i * 60_000), audit: o.audit ?? false, requests, errors: Math.round(requests * (o.errorRate ?? 0.002)),
      p50Ms: o.p50Ms * (0.9 + 0.2 * ((i * 13) % 10) / 10), p99Ms: o.p99Ms * (0.8 + 0.4 * ((i * 7) % 10) / 10),
    });
  }
}
