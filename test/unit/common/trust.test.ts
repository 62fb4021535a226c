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
  it('lower availability, never integrity: a flooded port or a dropped line is not tampering', () => {
    const once = replay([...Array.from({ length: 6 }, () => ({ kind: 'audit_pass' as const })), { kind: 'truncation_strike' }]);
    expect(once.status).toBe('active');
    expect(score(once.availability)).toBeLessThan(score(replay(Array.from({ length: 6 }, () => ({ kind: 'audit_pass' as const }))).availability));
    const pattern = replay(Array.from({ length: 40 }, () => ({ kind: 'truncation_strike' as const })));
    expect(pattern.status).toBe('probation');
    expect(score(pattern.integrity)).toBe(0.5);
  });
});

describe('trust: confirmation before penalty', () => {
  const clean = () => replay(Array.from({ length: 500 }, () => ({ kind: 'audit_pass' as const })));

  it('never quarantines an active node with a long clean record for one unconfirmed finding, of any severity', () => {
    for (const severity of ['low', 'medium', 'high', 'critical'] as const) {
      const s = applyTrustEvent(clean(), { kind: 'audit_tampered', severity, confirmation: 'unconfirmed' }, later(600_000));
      expect(s.status).toBe('active');
      expect(s.provenFailures).toBe(0);
    }
  });

  it('records an unconfirmed finding: it weighs a little on integrity and breaks the clean streak', () => {
    const before = clean();
    const s = applyTrustEvent(before, { kind: 'audit_tampered', severity: 'critical', confirmation: 'unconfirmed' }, later(600_000));
    expect(score(s.integrity)).toBeLessThan(score(before.integrity));
    expect(s.integrity.beta - before.integrity.beta).toBeCloseTo(defaultTrustPolicy.unconfirmedWeight, 2);
    expect(s.cleanAuditStreak).toBe(0);
  });

  it('counts confirmed and unambiguous findings in full: two high ones quarantine, as one critical does', () => {
    for (const confirmation of ['confirmed', 'unambiguous'] as const) {
      const one = applyTrustEvent(clean(), { kind: 'audit_tampered', severity: 'high', confirmation }, later(600_000));
      expect(one.status).toBe('active');
      const two = applyTrustEvent(one, { kind: 'audit_tampered', severity: 'high', confirmation }, later(700_000));
      expect(two.status).toBe('quarantined');
      expect(applyTrustEvent(clean(), { kind: 'audit_tampered', severity: 'critical', confirmation }, later(600_000)).status).toBe('quarantined');
    }
  });

  it('treats digest mismatches as unambiguous', () => {
    const one = applyTrustEvent(clean(), { kind: 'integrity_mismatch' }, later(600_000));
    expect(one.provenFailures).toBe(defaultTrustPolicy.integrityMismatchWeight);
    expect(applyTrustEvent(one, { kind: 'integrity_mismatch' }, later(700_000)).status).toBe('quarantined');
  });

  it('does not let a stream of unconfirmed findings pile up into proven failures', () => {
    const events: TrustEvent[] = Array.from({ length: 2000 }, (_, i) => (i % 100 === 99 ? { kind: 'audit_tampered', severity: 'high', confirmation: 'unconfirmed' } : { kind: 'audit_pass' }));
    const s = replay(events);
    expect(s.status).toBe('active');
    expect(s.provenFailures).toBe(0);
  });
});

describe('trust: strikes measure the node, not the Internet', () => {
  it('counts truncations against availability only, never integrity', () => {
    const s = replay(Array.from({ length: 100 }, () => ({ kind: 'truncation_strike' as const })));
    expect(s.integrity).toEqual(defaultTrustPolicy.prior);
    expect(s.provenFailures).toBe(0);
    expect(score(s.availability)).toBeLessThan(0.05);
    expect(s.status).toBe('probation');
  });
});

describe('trust: identity changes', () => {
  it('puts an active node back on probation, keeping its scores, and it must earn active again', () => {
    const active = replay(Array.from({ length: 20 }, () => ({ kind: 'audit_pass' as const })));
    expect(active.status).toBe('active');
    const moved = applyTrustEvent(active, { kind: 'identity_changed' }, later(60_000));
    expect(moved.status).toBe('probation');
    expect(moved.cleanAuditStreak).toBe(0);
    expect(score(moved.integrity)).toBeCloseTo(score(active.integrity), 3);
    const back = Array.from({ length: defaultTrustPolicy.promoteCleanAudits }, () => ({ kind: 'audit_pass' as const }))
      .reduce((s, e, i) => applyTrustEvent(s, e, later(120_000 + i * 1000)), moved);
    expect(back.status).toBe('active');
  });

  it('leaves quarantined and banned nodes where they are, and an offline node resumes on probation', () => {
    const q = replay([{ kind: 'admin_quarantine' }, { kind: 'identity_changed' }]);
    expect(q.status).toBe('quarantined');
    const b = replay([{ kind: 'admin_ban' }, { kind: 'identity_changed' }]);
    expect(b.status).toBe('banned');
    const active = replay(Array.from({ length: 20 }, () => ({ kind: 'audit_pass' as const })));
    const offline = applyTrustEvent(active, { kind: 'heartbeat_missed' }, later(60_000));
    const changed = applyTrustEvent(offline, { kind: 'identity_changed' }, later(61_000));
    expect(changed.status).toBe('offline');
    expect(applyTrustEvent(changed, { kind: 'heartbeat_resumed' }, later(62_000)).status).toBe('probation');
  });
});
