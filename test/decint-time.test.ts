/**
 * parseIso's calendar step (src/index/records/time.ts) is utcMs (civil.ts), not Date.UTC: Date.UTC reads
 * years 0..99 as 1900..1999, and the correction applied afterwards turned 0000-02-29 (a leap day: year 0
 * is divisible by 400) into 0000-03-01, as 1900 is no leap year. The truth is the runtime's own ISO
 * parser (Date.parse), which takes four-digit years literally.
 */
import { describe, expect, it } from 'vitest';
import { parseIso, ZoneOffsets } from '../src/index/records/time.js';
import { prng } from './support/fixtures.js';

const encoder = new TextEncoder();
const iso = (text: string, zone?: ZoneOffsets): number => {
  const b = encoder.encode(text);
  return parseIso(b, 0, b.length, zone);
};
const pad = (n: number, width: number): string => String(n).padStart(width, '0');

describe('parseIso in years 0..99', () => {
  it('0000-02-29 is the leap day of year 0, not 0000-03-01', () => {
    expect(iso('0000-02-29')).toBe(Date.parse('0000-02-29T00:00:00Z'));
    expect(new Date(iso('0000-02-29T12:30:00Z')).toISOString()).toBe('0000-02-29T12:30:00.000Z');
    expect(iso('0000-03-01') - iso('0000-02-29')).toBe(86_400_000);
  });

  it('every leap day and month end of years 0..99 agrees with Date.parse', () => {
    for (let y = 0; y < 100; y++) {
      const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
      const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
      for (let m = 1; m <= 12; m++) {
        const text = `${pad(y, 4)}-${pad(m, 2)}-${pad(days[m - 1], 2)}T23:59:59.5Z`;
        expect([text, iso(text)]).toEqual([text, Date.parse(text)]);
      }
    }
  });

  it('random date-times of years 0..9999 with offsets agree with Date.parse', () => {
    const rand = prng(12);
    for (let k = 0; k < 20_000; k++) {
      const y = Math.floor(rand() * 10_000);
      const m = 1 + Math.floor(rand() * 12);
      const d = 1 + Math.floor(rand() * 28);
      const oh = Math.floor(rand() * 14);
      const text = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(Math.floor(rand() * 24), 2)}:${pad(Math.floor(rand() * 60), 2)}:${pad(Math.floor(rand() * 60), 2)}.${pad(Math.floor(rand() * 1000), 3)}${rand() < 0.5 ? '-' : '+'}${pad(oh, 2)}:30`;
      if (iso(text) !== Date.parse(text)) expect([text, iso(text)]).toEqual([text, Date.parse(text)]);
    }
  });

  it('a local time in a zone in year 50 is read in year 50, not 1950', () => {
    // Before 1847 London kept local mean time (-0:01:15): the zone's offset for year 50, not for 1950.
    const zone = new ZoneOffsets('Europe/London');
    expect(new Date(iso('0050-06-01T12:00:00', zone)).toISOString()).toBe('0050-06-01T12:01:15.000Z');
  });
});
