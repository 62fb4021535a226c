import { describe, expect, it } from 'vitest';
import { startNodeTrafficRecorder } from '../../../common/db/node-traffic-recorder.js';
import { recordNodeTraffic, summarizeNodeTraffic, trafficSeries } from '../../../common/db/queries/node-traffic.js';
import { silentLogger } from '../../../common/log.js';
import { useTestDatabase } from '../../support/db.js';
import { seedNode } from '../../support/seed.js';

const db = useTestDatabase();

describe('node_traffic', () => {
  it('adds up what several balancers write for the same minute', async () => {
    const node = await seedNode(db.pool);
    const minute = new Date('2026-01-01T10:00:30Z');
    await recordNodeTraffic(db.pool, { nodeId: node, minute, audit: false, requests: 100, errors: 1, p50Ms: 10, p99Ms: 50 });
    await recordNodeTraffic(db.pool, { nodeId: node, minute, audit: false, requests: 300, errors: 2, p50Ms: 30, p99Ms: 90 });
    const [point] = await trafficSeries(db.pool, new Date('2026-01-01T09:00:00Z'), node);
    expect(point).toEqual({ minute: new Date('2026-01-01T10:00:00Z'), requests: 400, errors: 3, p50Ms: 25, p99Ms: 90, auditRequests: 0 });
  });

  it('the recorder writes finished minutes from observed requests', async () => {
    const a = await seedNode(db.pool);
    const b = await seedNode(db.pool);
    let now = Date.parse('2026-01-01T10:00:05Z');
    const rec = startNodeTrafficRecorder({ db: db.pool, log: silentLogger(), now: () => now, intervalMs: 3_600_000 });
    for (let i = 0; i < 30; i++) rec.observe(a, 20, i === 0);
    rec.observe(b, 200, false);
    await rec.flush();
    expect((await db.pool.query('SELECT 1 FROM node_traffic')).rowCount).toBe(0);
    now += 60_000;
    await rec.flush();
    const summary = await summarizeNodeTraffic(db.pool, new Date('2026-01-01T09:00:00Z'));
    expect(summary.get(a)).toMatchObject({ requests: 30, errors: 1 });
    expect(summary.get(a)?.p50Ms).toBeGreaterThanOrEqual(20);
    expect(summary.get(b)).toMatchObject({ requests: 1, errors: 0 });
    rec.observe(a, 5, false);
    await rec.stop();
    expect((await summarizeNodeTraffic(db.pool, new Date('2026-01-01T09:00:00Z'))).get(a)?.requests).toBe(31);
  });

  it('counts audit requests apart: they are no share of visitor traffic and no part of its latency', async () => {
    const node = await seedNode(db.pool);
    let now = Date.parse('2026-01-01T10:00:05Z');
    const rec = startNodeTrafficRecorder({ db: db.pool, log: silentLogger(), now: () => now, intervalMs: 3_600_000 });
    for (let i = 0; i < 4; i++) rec.observe(node, 10, false);
    for (let i = 0; i < 6; i++) rec.observe(node, 900, i === 0, true);
    now += 60_000;
    await rec.stop();
    const since = new Date('2026-01-01T09:00:00Z');
    const summary = (await summarizeNodeTraffic(db.pool, since)).get(node);
    expect(summary).toMatchObject({ requests: 4, errors: 0, auditRequests: 6 });
    expect(summary?.p99Ms).toBeLessThan(20);
    const [point] = await trafficSeries(db.pool, since, node);
    expect(point).toMatchObject({ requests: 4, errors: 0, auditRequests: 6 });
    // A node that only gets audits (quarantined) has no visitor traffic at all.
    const quarantined = await seedNode(db.pool);
    await recordNodeTraffic(db.pool, { nodeId: quarantined, minute: new Date('2026-01-01T10:00:00Z'), audit: true, requests: 12, errors: 0, p50Ms: 40, p99Ms: 80 });
    expect((await summarizeNodeTraffic(db.pool, since)).get(quarantined)).toEqual({ requests: 0, errors: 0, p50Ms: null, p99Ms: null, auditRequests: 12 });
  });
});
