import type { Queryable } from '../../common/db/pool.js';
import type { NodeStatus } from '../../common/domain/trust.js';
import { seedAudit, seedNode, seedSite, seedTraffic, seedTrustEvents, tamperedAuditParts, type TrustEventSeed } from './seed.js';

// A realistic fleet for dashboard tests and README screenshots: volunteers around the world,
// one rogue node caught injecting a script, an hour of traffic, trust histories and audits.

interface Volunteer {
  name: string;
  lat: number;
  lon: number;
  country: string;
  status: NodeStatus;
  integrity: number;
  availability: number;
  perMinute: number;
  p50Ms: number;
}

const volunteers: Volunteer[] = [
  { name: 'paris-fibre-01', lat: 48.86, lon: 2.35, country: 'FR', status: 'active', integrity: 0.93, availability: 0.97, perMinute: 540, p50Ms: 18 },
  { name: 'berlin-homelab', lat: 52.52, lon: 13.4, country: 'DE', status: 'active', integrity: 0.9, availability: 0.95, perMinute: 480, p50Ms: 22 },
  { name: 'lisbon-pi-cluster', lat: 38.72, lon: -9.14, country: 'PT', status: 'active', integrity: 0.88, availability: 0.81, perMinute: 260, p50Ms: 35 },
  { name: 'toronto-basement', lat: 43.65, lon: -79.38, country: 'CA', status: 'active', integrity: 0.91, availability: 0.93, perMinute: 390, p50Ms: 41 },
  { name: 'austin-coop', lat: 30.27, lon: -97.74, country: 'US', status: 'active', integrity: 0.86, availability: 0.9, perMinute: 350, p50Ms: 47 },
  { name: 'sao-paulo-uni', lat: -23.55, lon: -46.63, country: 'BR', status: 'probation', integrity: 0.66, availability: 0.88, perMinute: 60, p50Ms: 64 },
  { name: 'nairobi-makerspace', lat: -1.29, lon: 36.82, country: 'KE', status: 'probation', integrity: 0.6, availability: 0.72, perMinute: 40, p50Ms: 88 },
  { name: 'mumbai-office', lat: 19.08, lon: 72.88, country: 'IN', status: 'active', integrity: 0.84, availability: 0.86, perMinute: 300, p50Ms: 58 },
  { name: 'tokyo-desk', lat: 35.68, lon: 139.69, country: 'JP', status: 'active', integrity: 0.95, availability: 0.98, perMinute: 420, p50Ms: 29 },
  { name: 'sydney-garage', lat: -33.87, lon: 151.21, country: 'AU', status: 'offline', integrity: 0.82, availability: 0.41, perMinute: 0, p50Ms: 0 },
  { name: 'rogue-adinjector', lat: 50.45, lon: 30.52, country: 'UA', status: 'quarantined', integrity: 0.12, availability: 0.9, perMinute: 0, p50Ms: 0 },
];

export interface Fleet {
  siteId: string;
  siteHost: string;
  nodeIds: Map<string, string>;
  rogueId: string;
  tamperedAuditId: string;
  healthyId: string;
}

const MIN = 60_000;

function history(v: Volunteer, now: number, tamperedAuditId: string | null): TrustEventSeed[] {
  const t0 = now - 6 * 24 * 60 * MIN;
  const events: TrustEventSeed[] = [{ at: new Date(t0), kind: 'registered', integrityAfter: 0.5, availabilityAfter: 0.5, statusAfter: 'probation', reason: 'joined with a join token' }];
  const steps = 8;
  for (let i = 1; i <= steps; i++) {
    const f = i / steps;
    const integrity = 0.5 + (Math.max(v.integrity, 0.78) - 0.5) * f;
    events.push({ at: new Date(t0 + i * 14 * 60 * MIN), kind: 'audit_pass', integrityAfter: integrity, availabilityAfter: 0.5 + (v.availability - 0.5) * f, statusAfter: i >= 3 && v.status !== 'probation' ? 'active' : 'probation', reason: 'audit passed: rendered page matches the origin' });
  }
  if (tamperedAuditId) {
    events.push({ at: new Date(now - 40 * MIN), kind: 'integrity_mismatch', integrityAfter: 0.41, availabilityAfter: v.availability, statusAfter: 'active', reason: '/static/app.js: sha256 differs from the origin' });
    events.push({ at: new Date(now - 25 * MIN), kind: 'audit_tampered', integrityAfter: 0.12, availabilityAfter: v.availability, statusAfter: 'quarantined', reason: 'critical: node added a script from cdn.evil-ads.example', auditId: tamperedAuditId });
  }
  return events;
}

export async function seedFleet(db: Queryable, nowMs: number, opts: { hostileFragment?: string; rogueName?: string } = {}): Promise<Fleet> {
  const site = await seedSite(db, { host: 'shop.example', origin: 'http://127.0.0.1:9000/', privateRoutes: ['/account/**', '/login', '/checkout/**', '/api/**'] });
  await seedSite(db, { host: 'news.example', origin: 'http://127.0.0.1:9001/', privateRoutes: ['/subscribe'] });
  const nodeIds = new Map<string, string>();
  let rogueId = '';
  let tamperedAuditId = '';
  for (const v of volunteers) {
    const name = v.name.startsWith('rogue') && opts.rogueName ? opts.rogueName : v.name;
    const id = await seedNode(db, {
      name, status: v.status, integrity: v.integrity, availability: v.availability, lat: v.lat, lon: v.lon, country: v.country, siteIds: [site.id],
      lastSeenAt: new Date(nowMs - (v.status === 'offline' ? 3 * 3600_000 : 12_000)), createdAt: new Date(nowMs - 6 * 24 * 3600_000),
      heartbeat: { inFlight: Math.round(v.perMinute / 60), requestsTotal: v.perMinute * 900, errorsTotal: Math.round(v.perMinute / 10), cacheHits: v.perMinute * 700, cacheMisses: v.perMinute * 200, cacheBytes: 52_428_800, loadAvg1m: 0.4 },
    });
    nodeIds.set(v.name, id);
    for (let i = 0; i < 3; i++) {
      await seedAudit(db, { nodeId: id, siteId: site.id, verdict: v.status === 'offline' && i === 0 ? 'unreachable' : 'pass', url: `http://shop.example/${['', 'products/kettle', 'blog/spring-sale'][i]}`, startedAt: new Date(nowMs - (90 + i * 35) * MIN) });
    }
    if (v.name.startsWith('rogue')) {
      rogueId = id;
      tamperedAuditId = await seedAudit(db, { nodeId: id, siteId: site.id, verdict: 'tampered', url: 'http://shop.example/products/kettle', startedAt: new Date(nowMs - 25 * MIN), ...tamperedAuditParts({ hostileFragment: opts.hostileFragment }) });
      await db.query("INSERT INTO evidence (node_id, kind, content_type, body, created_at) VALUES ($1, 'integrity_mismatch', 'application/json', $2, $3)", [
        id, Buffer.from(JSON.stringify({ path: '/static/app.js', originSha256: 'b1946ac92492d2347c6235b4d2611184', nodeSha256: '5d41402abc4b2a76b9719d911017c592' })), new Date(nowMs - 40 * MIN)]);
    }
    await seedTrustEvents(db, id, history(v, nowMs, v.name.startsWith('rogue') ? tamperedAuditId : null));
    if (v.perMinute > 0) await seedTraffic(db, id, { now: new Date(nowMs), minutes: 60, perMinute: v.perMinute, p50Ms: v.p50Ms, p99Ms: v.p50Ms * 6 });
    // The rogue served visitors until its quarantine 25 minutes ago.
    if (v.name.startsWith('rogue')) await seedTraffic(db, id, { now: new Date(nowMs - 25 * MIN), minutes: 35, perMinute: 220, p50Ms: 31, p99Ms: 190 });
  }
  await db.query("INSERT INTO admin_actions (at, actor, action, target_kind, target_id, reason) VALUES ($1, 'dashboard', 'node.quarantine', 'node', $2, 'injected third-party script on product pages')", [new Date(nowMs - 20 * MIN), rogueId]);
  return { siteId: site.id, siteHost: site.host, nodeIds, rogueId, tamperedAuditId, healthyId: nodeIds.get('paris-fibre-01') ?? '' };
}
