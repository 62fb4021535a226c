import { describe, expect, it } from 'vitest';
import { parseHttpDate } from '../../../common/http/http-date.js';
import { ageSeconds } from '../../../node/cache/http-headers.js';

const NOW = Date.UTC(2026, 11, 1);

describe('HTTP dates (RFC 9110 §5.6.7)', () => {
  it.each([
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['RFC 850', 'Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['RFC 850, two-digit year read as the nearest not 50 years ahead', 'Thursday, 18-Aug-50 02:01:18 GMT', Date.UTC(2050, 7, 18, 2, 1, 18)],
    ['asctime', 'Sun Nov  6 08:49:37 1994', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['names in another case', 'THU, 18 AUG 2050 02:01:18 gmt', Date.UTC(2050, 7, 18, 2, 1, 18)],
    ['past 2038', 'Sun, 21 Nov 2286 04:46:39 GMT', Date.UTC(2286, 10, 21, 4, 46, 39)],
  ])('accepts %s', (_n, value, ms) => {
    expect(parseHttpDate(value, NOW)).toBe(ms);
  });

  it.each([
    ['another zone', 'Thu, 18 Aug 2050 02:01:18 UTC'],
    ['a zone abbreviation', 'Thu, 18 Aug 2050 02:01:18 AEST'],
    ['a two-digit year in IMF-fixdate', 'Thu, 18 Aug 50 02:01:18 GMT'],
    ['no comma', 'Thu 18 Aug 2050 02:01:18 GMT'],
    ['double spaces', 'Thu, 18  Aug  2050 02:01:18 GMT'],
    ['dashes in IMF-fixdate', 'Thu, 18-Aug-2050 02:01:18 GMT'],
    ['periods in the time', 'Thu, 18 Aug 2050 02.01.18 GMT'],
    ['a one-digit hour', 'Thu, 18 Aug 2050 2:01:18 GMT'],
    ['two dates', 'Thu, 18 Aug 2050 02:01:18 GMT, Thu, 18 Aug 2050 02:01:19 GMT'],
    ['a number', '0'],
    ['a day that does not exist', 'Mon, 31 Feb 2050 02:01:18 GMT'],
    ['an hour past 23', 'Thu, 18 Aug 2050 24:01:18 GMT'],
    ['ISO 8601', '2050-08-18T02:01:18Z'],
  ])('refuses %s', (_n, value) => {
    expect(parseHttpDate(value, NOW)).toBeNull();
  });
});

describe('Age (RFC 9111 §5.1)', () => {
  it.each<[string | null, number]>([
    [null, 0], ['60', 60], ['7200, 0', 7200], ['0, 7200', 0], ['abc', 0], ['-7200', 0], ['7200.0', 0], ['2147483648', 2 ** 31], ['99999999999', 2 ** 31],
  ])('%s → %d s', (value, seconds) => {
    expect(ageSeconds(value)).toBe(seconds);
  });
});
