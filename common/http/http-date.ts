// HTTP dates as RFC 9110 §5.6.7 defines them, and nothing else: IMF-fixdate, with the obsolete
// RFC 850 and asctime forms a recipient must also accept. JavaScript's Date.parse takes almost
// anything ("Thu, 18 Aug 2050 02:01:18 UTC", one-digit hours, dashes), so an Expires it
// "understands" would keep a response fresh that RFC 9111 says is already expired.
// Day and month names are matched without regard to case, as common caches do.

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const LONG_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^([a-z]{3}), (\\d{2}) ([a-z]{3}) (\\d{4}) ${TIME} gmt$`, 'i');
const RFC850 = new RegExp(`^([a-z]{6,9}), (\\d{2})-([a-z]{3})-(\\d{2}) ${TIME} gmt$`, 'i');
const ASCTIME = new RegExp(`^([a-z]{3}) ([a-z]{3}) ([ \\d]\\d) ${TIME} (\\d{4})$`, 'i');

interface Parts { day: string; dayOfMonth: string; month: string; year: number; hh: string; mm: string; ss: string }

function toMs(p: Parts, dayNames: readonly string[]): number | null {
  const month = MONTHS.indexOf(p.month.toLowerCase());
  const [d, h, m, s] = [Number(p.dayOfMonth.trim()), Number(p.hh), Number(p.mm), Number(p.ss)];
  if (!dayNames.includes(p.day.toLowerCase()) || month === -1) return null;
  // Seconds up to 60 allow a leap second, as the grammar does.
  if (d < 1 || d > 31 || h > 23 || m > 59 || s > 60) return null;
  const ms = Date.UTC(p.year, month, d, h, m, s);
  // 31 Feb and the like roll over into the next month: not a date.
  return new Date(ms).getUTCDate() === d ? ms : null;
}

/** RFC 850's two-digit year: the most recent year with those digits that is not more than 50 years ahead. */
function fullYear(twoDigits: number, nowMs: number): number {
  const now = new Date(nowMs).getUTCFullYear();
  let year = Math.floor(now / 100) * 100 + twoDigits;
  if (year > now + 50) year -= 100;
  return year;
}

/** Milliseconds since the epoch, or null when the value is not an HTTP date. */
export function parseHttpDate(value: string, nowMs: number = Date.now()): number | null {
  let m = IMF_FIXDATE.exec(value);
  if (m) return toMs({ day: m[1] ?? '', dayOfMonth: m[2] ?? '', month: m[3] ?? '', year: Number(m[4]), hh: m[5] ?? '', mm: m[6] ?? '', ss: m[7] ?? '' }, DAYS);
  m = RFC850.exec(value);
  if (m) return toMs({ day: m[1] ?? '', dayOfMonth: m[2] ?? '', month: m[3] ?? '', year: fullYear(Number(m[4]), nowMs), hh: m[5] ?? '', mm: m[6] ?? '', ss: m[7] ?? '' }, LONG_DAYS);
  m = ASCTIME.exec(value);
  if (m) return toMs({ day: m[1] ?? '', month: m[2] ?? '', dayOfMonth: m[3] ?? '', hh: m[4] ?? '', mm: m[5] ?? '', ss: m[6] ?? '', year: Number(m[7]) }, DAYS);
  return null;
}
