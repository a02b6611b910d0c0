/** utcMs (src/index/records/civil.ts) against the runtime's own calendar (Date), the truth, over a wide sweep. */
import { describe, expect, it } from 'vitest';
import { utcMs } from '../src/index/records/civil.js';
import { prng } from './support/fixtures.js';

/**
 * The runtime's own calendar, with years 0..99 taken literally: setUTCFullYear with year, month and day
 * (Date.UTC would read those years as 1900..1999 — and parseIso's correction of that afterwards turns
 * 0000-02-29 into 0000-03-01, as year 0 is read as 1900, no leap year).
 */
function dateUtc(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  return date.setUTCHours(h, mi, s, 0);
}

describe('utcMs', () => {
  it('equals the runtime calendar on every day of years 0..9999 sampled, at random times', () => {
    const rand = prng(9);
    const days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let checked = 0;
    for (let y = 0; y <= 9999; y += y < 2200 ? 1 : 7) {
      for (let mo = 1; mo <= 12; mo++) {
        for (let d = 1; d <= days[mo - 1]; d++) {
          if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) continue;
          const h = Math.floor(rand() * 25);
          const mi = Math.floor(rand() * 60);
          const s = Math.floor(rand() * 61);
          const got = utcMs(y, mo, d, h, mi, s);
          const want = dateUtc(y, mo, d, h, mi, s);
          if (got !== want) expect({ y, mo, d, h, mi, s, got }).toEqual({ y, mo, d, h, mi, s, got: want });
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(800_000);
  });
});
