import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { localMonth, restDecision, type VolunteerCaps, type VolunteerReport } from '../common/domain/volunteer-caps.js';

// What this node has given: bytes this calendar month (kept in the data directory, so a restart
// does not reset the cap) and its recent rate. The caps are enforced here (a 503, which the
// balancer takes as "try another node": availability, never integrity) and reported in every
// heartbeat, so the balancer rests the node before it gets there.

const FILE = 'usage.json';
const WINDOW_S = 60;

export interface UsageMeter {
  /** Per request: no I/O. Bytes sent to the balancer. */
  add(bytes: number): void;
  /** Why a new request is refused now, or null. `expectedBytes`: its body length when known. */
  refusal(expectedBytes: number | null): string | null;
  report(): VolunteerReport;
  /** Writes the month's count (every heartbeat, and at shutdown). */
  save(): Promise<void>;
}

export interface UsageOptions {
  dataDir: string;
  caps: Omit<VolunteerCaps, 'utcOffsetMinutes'>;
  now: () => number;
  /** Local time offset from UTC in minutes (default: this machine's). */
  utcOffsetMinutes?: () => number;
}

export async function openUsageMeter(o: UsageOptions): Promise<UsageMeter> {
  const offset = o.utcOffsetMinutes ?? (() => -new Date(o.now()).getTimezoneOffset());
  let month = localMonth(o.now(), offset());
  let monthBytes = 0;
  try {
    const saved = JSON.parse(await readFile(join(o.dataDir, FILE), 'utf8')) as { month?: unknown; bytes?: unknown };
    if (saved.month === month && typeof saved.bytes === 'number' && saved.bytes >= 0) monthBytes = saved.bytes;
  } catch {
    // First start, or an unreadable file: the month starts from zero.
  }
  // Bytes per second for the last WINDOW_S seconds, in a ring indexed by epoch second.
  const ring = new Float64Array(WINDOW_S);
  const ringSecond = new Float64Array(WINDOW_S).fill(-1);
  const second = () => Math.floor(o.now() / 1000);
  const rolled = (): void => {
    const m = localMonth(o.now(), offset());
    if (m !== month) {
      month = m;
      monthBytes = 0;
    }
  };
  const bytesIn = (s: number): number => (ringSecond[s % WINDOW_S] === s ? (ring[s % WINDOW_S] ?? 0) : 0);
  const caps = (): VolunteerCaps => ({ ...o.caps, utcOffsetMinutes: offset() });
  const report = (): VolunteerReport => {
    rolled();
    const now = second();
    let peak = 0;
    for (let s = now - WINDOW_S + 1; s <= now; s++) peak = Math.max(peak, bytesIn(s));
    const recent = (bytesIn(now) + bytesIn(now - 1) + bytesIn(now - 2)) / 3;
    return { caps: caps(), usage: { month, monthBytes, bytesPerSecond: recent, peakBytesPerSecond: peak } };
  };
  return {
    add(bytes) {
      rolled();
      monthBytes += bytes;
      const s = second();
      const i = s % WINDOW_S;
      if (ringSecond[i] !== s) {
        ringSecond[i] = s;
        ring[i] = 0;
      }
      ring[i] = (ring[i] ?? 0) + bytes;
    },
    refusal(expectedBytes) {
      const r = report();
      const d = restDecision(r, o.now(), 0);
      if (d.resting) return `${d.reason ?? ''}: ${d.detail}`;
      if (o.caps.maxMonthly !== null && expectedBytes !== null && r.usage.monthBytes + expectedBytes > o.caps.maxMonthly) return `monthly-cap: this response would pass ${o.caps.maxMonthly} bytes`;
      if (o.caps.maxBandwidth !== null && bytesIn(second()) >= o.caps.maxBandwidth) return `bandwidth: ${o.caps.maxBandwidth} bytes/s reached`;
      return null;
    },
    report,
    async save() {
      const path = join(o.dataDir, FILE);
      await writeFile(`${path}.tmp`, JSON.stringify({ month, bytes: monthBytes }), { mode: 0o600 });
      await rename(`${path}.tmp`, path);
    },
  };
}

/** Any cap set? Then heartbeats carry the report and requests are checked. */
export function hasCaps(c: UsageOptions['caps']): boolean {
  return c.maxBandwidth !== null || c.maxMonthly !== null || c.schedule !== null;
}
