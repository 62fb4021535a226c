import { describe, expect, it } from 'vitest';
import { standingChanges } from '../../../node/node-view.js';
import { renderNodeMetrics } from '../../../node/metrics.js';
import { renderStatusPage, type StatusView } from '../../../node/status-page.js';

function makeView(over: Partial<StatusView> = {}): StatusView {
  return {
    nodeId: 'a'.repeat(32), name: 'attic', publicUrl: 'http://203.0.113.7:8090', balancer: 'http://b.test:8081', startedAt: '2030-01-01T00:00:00.000Z',
    standing: {
      nodeId: 'a'.repeat(32), status: 'probation', draining: false, integrity: 0.42, availability: 0.9, heartbeatIntervalMs: 5000, heartbeatCounter: 3, serverTime: 1,
      sites: [{ host: 'example.org', origin: 'https://origin.example.org' }],
      penalties: [{ at: '2030-01-01T01:00:00.000Z', kind: 'heartbeat_missed', reason: 'no heartbeat for 45 s', statusAfter: 'offline', integrityAfter: 0.5, availabilityAfter: 0.4 }],
    },
    lastHeartbeatAt: null, lastError: null,
    traffic: { inFlight: 0, requestsTotal: 10, errorsTotal: 1, bytesTotal: 100, byStatus: { HIT: 6, MISS: 3 }, sites: { 'example.org': { requests: 10, errors: 1, bytes: 100, hits: 6 } } },
    cache: { hits: 6, misses: 3, revalidated: 0, bypass: 0, hitRate: 6 / 9, bytes: 1000, entries: 3, capBytes: 10_000 },
    ...over,
  };
}

describe('status page', () => {
  it('shows standing, every penalty with its reason, sites and the hit rate', () => {
    const html = renderStatusPage(makeView());
    for (const s of ['probation', '42.0 %', 'heartbeat_missed', 'no heartbeat for 45 s', 'offline', 'example.org', '66.7 %']) expect(html).toContain(s);
  });

  it('says so when there is nothing to report yet', () => {
    expect(renderStatusPage(makeView({ standing: null }))).toContain('Not registered yet.');
  });
});

describe('metrics', () => {
  it('exposes traffic, cache and the standing in Prometheus text', () => {
    const text = renderNodeMetrics(makeView());
    for (const line of ['verity_node_requests_total{cache="HIT"} 6', 'verity_node_site_requests_total{site="example.org"} 10', 'verity_node_integrity 0.42', 'verity_node_status{status="probation"} 1', 'verity_node_penalties 1']) {
      expect(text).toContain(line);
    }
    expect(renderNodeMetrics(makeView({ standing: null }))).not.toContain('verity_node_integrity');
  });
});

describe('terminal lines on standing changes', () => {
  it('reports a new status, new penalties oldest first, and changed sites', () => {
    const before = makeView().standing;
    if (!before) throw new Error('fixture has a standing');
    const after = {
      ...before, status: 'quarantined' as const, sites: [],
      penalties: [
        { at: '2030-01-01T03:00:00.000Z', kind: 'audit_tampered', reason: 'injected a script', statusAfter: 'quarantined', integrityAfter: 0.1, availabilityAfter: 0.9 },
        { at: '2030-01-01T02:00:00.000Z', kind: 'header_strike', reason: 'sent Set-Cookie', statusAfter: 'probation', integrityAfter: 0.3, availabilityAfter: 0.9 },
        ...before.penalties,
      ],
    };
    expect(standingChanges(before, after)).toEqual([
      'status: probation → quarantined',
      'penalty: header_strike at 2030-01-01T02:00:00.000Z: sent Set-Cookie',
      'penalty: audit_tampered at 2030-01-01T03:00:00.000Z: injected a script',
      'sites: none',
    ]);
    expect(standingChanges(before, before)).toEqual([]);
    expect(standingChanges(null, before)).toEqual([]);
  });
});
