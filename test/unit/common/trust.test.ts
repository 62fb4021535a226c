import { describe, expect, it } from 'vitest';
import { applyTrustEvent, defaultTrustPolicy, initialTrust, score, type TrustEvent, type TrustState } from '../../../common/domain/trust.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

function replay(events: TrustEvent[], start: TrustState = initialTrust(t0)): TrustState {
  return events.reduce((s, e, i) => applyTrustEvent(s, e, later(i * 1000)), start);
}

describe('trust', () => {
  it('promotes a probation node after clean audits', () => {
    const s = replay(Array.from({ length: defaultTrustPolicy.promoteCleanAudits }, () => ({ kind: 'audit_pass' as const })));
    expect(s.status).toBe('active');
    expect(score(s.integrity)).toBeGreaterThan(0.75);
  });

  it('quarantines after a proven high-severity tamper, and stays there until an admin acts', () => {
    const s = replay([{ kind: 'audit_pass' }, { kind: 'audit_tampered', severity: 'high' }, ...Array.from({ length: 20 }, () => ({ kind: 'audit_pass' as const }))]);
    expect(s.status).toBe('quarantined');
    const back = applyTrustEvent(s, { kind: 'admin_reinstate' }, later(60_000));
    expect(back.status).toBe('active');
  });

  it('weighs a tamper far more than a pass', () => {
    const passed = replay([{ kind: 'audit_pass' }]);
    const tampered = replay([{ kind: 'audit_tampered', severity: 'high' }]);
    expect(score(passed.integrity) - 0.5).toBeLessThan(0.5 - score(tampered.integrity));
  });

  it('does not move on inconclusive audits', () => {
    const s = replay([{ kind: 'audit_inconclusive' }]);
    expect(s.integrity).toEqual(defaultTrustPolicy.prior);
    expect(s.availability).toEqual(defaultTrustPolicy.prior);
  });

  it('keeps availability apart from integrity', () => {
    const s = replay(Array.from({ length: 10 }, () => ({ kind: 'audit_unreachable' as const })));
    expect(score(s.integrity)).toBe(0.5);
    expect(score(s.availability)).toBeLessThan(0.2);
    expect(s.status).toBe('probation');
  });

  it('decays toward the prior', () => {
    const s = replay([{ kind: 'audit_tampered', severity: 'medium' }]);
    const decayed = applyTrustEvent(s, { kind: 'audit_inconclusive' }, later(10 * defaultTrustPolicy.halfLifeMs));
    expect(Math.abs(score(decayed.integrity) - 0.5)).toBeLessThan(0.01);
  });

  it('bans for good', () => {
    const s = replay([{ kind: 'admin_ban' }, { kind: 'admin_reinstate' }, { kind: 'audit_pass' }]);
    expect(s.status).toBe('active');
    const banned = replay([{ kind: 'admin_ban' }, { kind: 'audit_pass' }]);
    expect(banned.status).toBe('banned');
  });

  it('stays in probation until the clean streak is long enough', () => {
    const s = replay(Array.from({ length: defaultTrustPolicy.promoteCleanAudits - 1 }, () => ({ kind: 'audit_pass' as const })));
    expect(s.status).toBe('probation');
  });

  it('does not let a long clean record buy the right to tamper', () => {
    const clean = replay(Array.from({ length: 500 }, () => ({ kind: 'audit_pass' as const })));
    expect(clean.status).toBe('active');
    expect(clean.integrity.alpha).toBeLessThanOrEqual(defaultTrustPolicy.maxSuccessMass);
    const once = applyTrustEvent(clean, { kind: 'audit_tampered', severity: 'critical' }, later(600_000));
    expect(once.status).toBe('quarantined');
    const high1 = applyTrustEvent(clean, { kind: 'audit_tampered', severity: 'high' }, later(600_000));
    expect(high1.status).toBe('active');
    const high2 = applyTrustEvent(high1, { kind: 'audit_tampered', severity: 'high' }, later(700_000));
    expect(high2.status).toBe('quarantined');
  });

  it('never quarantines for availability alone', () => {
    const events: TrustEvent[] = Array.from({ length: 300 }, (_, i) => ({ kind: i % 5 === 0 ? 'audit_unreachable' : 'audit_pass' }));
    const s = replay(events);
    expect(s.status).toBe('active');
    expect(score(s.availability)).toBeLessThan(0.9);
    expect(score(s.integrity)).toBeGreaterThan(0.95);
  });

  it('goes offline on missed heartbeats and comes back on resumed ones', () => {
    const active = replay(Array.from({ length: 6 }, () => ({ kind: 'audit_pass' as const })));
    const off = applyTrustEvent(active, { kind: 'heartbeat_missed' }, later(100_000));
    expect(off.status).toBe('offline');
    expect(applyTrustEvent(off, { kind: 'heartbeat_resumed' }, later(200_000)).status).toBe('active');
  });

  it('keeps a quarantined node quarantined through clean audits; inconclusive audits change nothing', () => {
    const q = replay([{ kind: 'audit_tampered', severity: 'critical' }]);
    const after = replay(Array.from({ length: 50 }, () => ({ kind: 'audit_pass' as const })), q);
    expect(after.status).toBe('quarantined');
    const same = applyTrustEvent(q, { kind: 'audit_inconclusive' }, q.updatedAt);
    expect(same).toEqual(q);
  });

  it('replays to the same state', () => {
    const events: TrustEvent[] = [{ kind: 'audit_pass' }, { kind: 'audit_unreachable' }, { kind: 'header_strike' }, { kind: 'audit_pass' }, { kind: 'shadow_mismatch' }];
    expect(replay(events)).toEqual(replay(events));
  });
});

describe('truncation strikes', () => {
  it('do not quarantine a node whose line drops one response, but a pattern adds up', () => {
    const once = replay([...Array.from({ length: 6 }, () => ({ kind: 'audit_pass' as const })), { kind: 'truncation_strike' }]);
    expect(once.status).toBe('active');
    expect(score(once.availability)).toBeLessThan(score(replay(Array.from({ length: 6 }, () => ({ kind: 'audit_pass' as const }))).availability));
    const pattern = replay(Array.from({ length: 40 }, () => ({ kind: 'truncation_strike' as const })));
    expect(pattern.status).toBe('quarantined');
  });
});
