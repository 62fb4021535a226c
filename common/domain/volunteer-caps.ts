// A volunteer's limits on what their node gives (`verity node --max-bandwidth 5MB --max-monthly
// 10GB --schedule 22:00-07:00`), and the one decision both sides make from them: is the node to
// rest (get no visitors) now? The node enforces its caps itself (503, never a penalty on
// integrity); the balancer stops routing to it a little before, from what its heartbeats report.
// Pure: clocks are parameters.

/** Minutes after local midnight; the window may wrap midnight (22:00-07:00). */
export interface Schedule {
  startMin: number;
  endMin: number;
}

export interface VolunteerCaps {
  /** Bytes per second; null: no cap. */
  maxBandwidth: number | null;
  /** Bytes per calendar month (the node's local month); null: no cap. */
  maxMonthly: number | null;
  /** Local hours when the node serves; null: always. */
  schedule: string | null;
  /** The node's local time is UTC plus this (minutes), for the schedule and the month. */
  utcOffsetMinutes: number;
}

export interface VolunteerUsage {
  /** "2030-01", in the node's local time. */
  month: string;
  monthBytes: number;
  /** Bytes per second over the last few seconds. */
  bytesPerSecond: number;
  /** The highest rate of the last minute: how fast the monthly cap may be approached. */
  peakBytesPerSecond: number;
}

export interface VolunteerReport {
  caps: VolunteerCaps;
  usage: VolunteerUsage;
}

export type RestReason = 'schedule' | 'monthly-cap' | 'bandwidth';

export interface RestDecision {
  resting: boolean;
  reason: RestReason | null;
  detail: string;
}

export function parseSchedule(text: string): Schedule | null {
  const m = /^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)\s*$/.exec(text);
  if (!m) return null;
  const startMin = Number(m[1]) * 60 + Number(m[2]);
  const endMin = Number(m[3]) * 60 + Number(m[4]);
  if (endMin > 24 * 60 || startMin === endMin) return null;
  return { startMin, endMin };
}

export function formatMinutes(min: number): string {
  return `${String(Math.floor(min / 60) % 24).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
}

/** Minutes after local midnight at `nowMs` for a clock at UTC + offset. */
export function localMinutes(nowMs: number, utcOffsetMinutes: number): number {
  const d = new Date(nowMs + utcOffsetMinutes * 60_000);
  return d.getUTCHours() * 60 + d.getUTCMinutes();
}

/** "2030-01": the calendar month of a clock at UTC + offset. */
export function localMonth(nowMs: number, utcOffsetMinutes: number): string {
  const d = new Date(nowMs + utcOffsetMinutes * 60_000);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function inSchedule(s: Schedule, minute: number): boolean {
  return s.startMin < s.endMin ? minute >= s.startMin && minute < s.endMin : minute >= s.startMin || minute < s.endMin;
}

/**
 * Rest now? `leadMs` is how far ahead to look: the balancer learns of a node only at its
 * heartbeats, so it rests a node that will be outside its hours, or at its monthly cap at its peak
 * rate, within that time. The node itself passes 0 and refuses only what is over.
 */
export function restDecision(r: VolunteerReport, nowMs: number, leadMs: number): RestDecision {
  const { caps, usage } = r;
  const schedule = caps.schedule ? parseSchedule(caps.schedule) : null;
  if (schedule) {
    const now = localMinutes(nowMs, caps.utcOffsetMinutes);
    const soon = localMinutes(nowMs + leadMs, caps.utcOffsetMinutes);
    if (!inSchedule(schedule, now) || !inSchedule(schedule, soon)) {
      return { resting: true, reason: 'schedule', detail: `serves ${formatMinutes(schedule.startMin)}-${formatMinutes(schedule.endMin)} local time only` };
    }
  }
  if (caps.maxMonthly !== null) {
    const ahead = usage.peakBytesPerSecond * (leadMs / 1000);
    if (usage.monthBytes + ahead >= caps.maxMonthly) {
      return { resting: true, reason: 'monthly-cap', detail: `${usage.monthBytes} of ${caps.maxMonthly} bytes served in ${usage.month}` };
    }
  }
  // Bandwidth: a node near its rate rests until its rate falls (it refuses past it meanwhile).
  if (caps.maxBandwidth !== null && leadMs > 0 && usage.bytesPerSecond >= 0.9 * caps.maxBandwidth) {
    return { resting: true, reason: 'bandwidth', detail: `${Math.round(usage.bytesPerSecond)} of ${caps.maxBandwidth} bytes/s` };
  }
  return { resting: false, reason: null, detail: '' };
}
