import { describe, expect, it } from 'vitest';
import { parseBytes } from '../../../common/config/shared.js';
import { inSchedule, localMonth, parseSchedule, restDecision, type VolunteerReport } from '../../../common/domain/volunteer-caps.js';

const at = (iso: string) => Date.parse(iso);

function report(o: { schedule?: string | null; maxMonthly?: number | null; maxBandwidth?: number | null; monthBytes?: number; rate?: number; peak?: number; offset?: number }): VolunteerReport {
  return {
    caps: { schedule: o.schedule ?? null, maxMonthly: o.maxMonthly ?? null, maxBandwidth: o.maxBandwidth ?? null, utcOffsetMinutes: o.offset ?? 0 },
    usage: { month: '2030-01', monthBytes: o.monthBytes ?? 0, bytesPerSecond: o.rate ?? 0, peakBytesPerSecond: o.peak ?? 0 },
  };
}

describe('volunteer caps', () => {
  it('reads sizes with SI and binary units, and schedules that wrap midnight', () => {
    expect(parseBytes('5MB')).toBe(5_000_000);
    expect(parseBytes('10GB')).toBe(10_000_000_000);
    expect(parseBytes('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseBytes('1500')).toBe(1500);
    expect(parseBytes('10 parsecs')).toBeNull();
    expect(parseSchedule('22:00-07:00')).toEqual({ startMin: 1320, endMin: 420 });
    expect(parseSchedule('25:00-07:00')).toBeNull();
    expect(parseSchedule('07:00-07:00')).toBeNull();
    const night = parseSchedule('22:00-07:00');
    if (!night) throw new Error('unparsed');
    expect([21 * 60 + 59, 22 * 60, 3 * 60, 6 * 60 + 59, 7 * 60].map((m) => inSchedule(night, m))).toEqual([false, true, true, true, false]);
  });

  it('rests a node outside its hours in its own time zone, and shortly before they end', () => {
    const r = report({ schedule: '22:00-07:00', offset: 60 });
    expect(restDecision(r, at('2030-01-10T20:30:00Z'), 0).resting).toBe(true); // 21:30 local
    expect(restDecision(r, at('2030-01-10T21:30:00Z'), 0).resting).toBe(false); // 22:30 local
    expect(restDecision(r, at('2030-01-11T05:59:50Z'), 0).resting).toBe(false); // 06:59:50 local
    expect(restDecision(r, at('2030-01-11T05:59:50Z'), 15_000)).toMatchObject({ resting: true, reason: 'schedule' });
  });

  it('rests before the monthly cap at the peak rate, and the node itself only at the cap', () => {
    const r = report({ maxMonthly: 10_000_000, monthBytes: 8_500_000, peak: 1_000_000 });
    expect(restDecision(r, 0, 2_000)).toMatchObject({ resting: true, reason: 'monthly-cap' });
    expect(restDecision(r, 0, 1_000).resting).toBe(false);
    expect(restDecision(r, 0, 0).resting).toBe(false);
    expect(restDecision(report({ maxMonthly: 10_000_000, monthBytes: 10_000_000 }), 0, 0).resting).toBe(true);
  });

  it('rests a node near its bandwidth until its rate falls; the month follows the local calendar', () => {
    expect(restDecision(report({ maxBandwidth: 5_000_000, rate: 4_600_000 }), 0, 2_000)).toMatchObject({ resting: true, reason: 'bandwidth' });
    expect(restDecision(report({ maxBandwidth: 5_000_000, rate: 1_000_000 }), 0, 2_000).resting).toBe(false);
    expect(localMonth(at('2030-01-31T23:30:00Z'), 60)).toBe('2030-02');
    expect(localMonth(at('2030-01-31T23:30:00Z'), 0)).toBe('2030-01');
  });
});
