/**
 * The index pass's fast CSV scan reads the first 4 bytes of a number's fraction as one little-endian word
 * (csv-fast-scan.ts `digitRun` / `digitsValue`). Checked here against byte-by-byte truths: the word helpers
 * on words mixing every byte value with digits and stops, and the whole scan on numbers of 1..20 digits with
 * the dot at every position, signs, CRLF, a following field, and the number's fraction at every distance
 * from the buffer's end (where the word read must not happen) — each value's statistics against Number(),
 * and the whole analysis against the general path (RecordParser, parseNumber).
 */
import { describe, expect, it } from 'vitest';
import { analyzeChunkGeneral, type AnalyzeSpec, type ChunkAnalysis } from '../src/index/records/analyze.js';
import { fastCsvApplies } from '../src/index/records/csv-fast.js';
import { digitRun, digitsValue } from '../src/index/records/csv-fast-scan.js';
import { STAT_SLOTS } from '../src/index/records/stats.js';
import { analyzeBoth } from './support/analysis.js';

const encoder = new TextEncoder();

/** An analysis with untouched vocabulary columns ([] on one path, absent on the other) left out. */
function comparable(a: ChunkAnalysis): unknown {
  const vocab = a.vocab?.map((v) => (v === null || v.length > 0 ? v : undefined));
  while (vocab !== undefined && vocab.length > 0 && vocab[vocab.length - 1] === undefined) vocab.pop();
  return { ...a, vocab };
}

/** Leading digit bytes of b0..b3 and the number they spell, byte by byte. */
function reference(bytes: number[]): { k: number; value: number } {
  let k = 0;
  while (k < 4 && bytes[k] >= 0x30 && bytes[k] <= 0x39) k++;
  let value = 0;
  for (let j = 0; j < k; j++) value = value * 10 + (bytes[j] - 0x30);
  return { k, value };
}

describe('4 digits at a time (csv-fast-scan.ts)', () => {
  it('digitRun and digitsValue agree with a byte-by-byte reading for every byte value at every position', () => {
    const fillers = [0x30, 0x39, 0x35, 0x2c, 0x2e, 0x2f, 0x3a, 0x0a, 0xff, 0xfa, 0x00, 0x2d];
    let checked = 0;
    for (let at = 0; at < 4; at++) {
      for (let v = 0; v < 256; v++) {
        for (const f0 of fillers) {
          for (const f1 of fillers) {
            for (const f2 of fillers) {
              const fill = [f0, f1, f2];
              const bytes = [0, 1, 2, 3].map((p) => (p === at ? v : fill[p < at ? p : p - 1]));
              const w = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
              const want = reference(bytes);
              const k = digitRun(w);
              if (k !== want.k || digitsValue(w, k) !== want.value) {
                expect({ bytes, k, value: digitsValue(w, k) }).toEqual({ bytes, ...want });
              }
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(4 * 256 * 12 ** 3);
  });

  const spec: AnalyzeSpec = { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 2, time: undefined, maxBad: 5, quoting: 'rfc4180' };

  /** Every plain decimal of 1..20 digits with the dot at each place (or none), with and without a sign. */
  function numbers(): string[] {
    const out: string[] = [];
    const digits = '98765432101234567890';
    for (let n = 1; n <= 20; n++) {
      const body = digits.slice(0, n);
      out.push(body, `-${body}`, `0${body}`);
      for (let dot = 0; dot <= n; dot++) {
        const s = `${body.slice(0, dot)}.${body.slice(dot)}`;
        out.push(s, `-${s}`);
      }
    }
    // Fractions whose digits end at each of the word's bytes, zeros, and non-digits inside the word.
    out.push('0.0', '0.00', '0.000', '0.0000', '0.00000', '-0.0', '1.5', '1.55', '1.555', '1.5555', '1.55555');
    out.push('1.5e3', '1.5.5', '1.5x', '1.x', '1. ', '1.55 ', '.', '-.', '1.5555e-2', '3.1415926535897932384');
    return out;
  }

  it('values of 1..20 digits, dots at every position: the scan reads each as Number() does, up to the buffer end', () => {
    let fast = 0;
    for (const value of numbers()) {
      // The value's record, then 0..6 bytes of a next record cut by the chunk's end (its fraction is then
      // nearer to the buffer's end than a word, or just a word away).
      for (const ending of ['\n', '\r\n', ',7\n', ',x\r\n']) {
        for (let tail = 0; tail <= 6; tail++) {
          const bytes = encoder.encode(`h\n${value}${ending}${'1234567'.slice(0, tail)}`);
          const s = spec;
          expect(fastCsvApplies(bytes, s)).toBe(true);
          fast++;
          const got = analyzeBoth(bytes, s);
          const stats = got.stats ?? new Float64Array(0);
          const number = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim()) ? Number(value) : NaN;
          const where = `${JSON.stringify(value)}${JSON.stringify(ending)} + ${tail} bytes`;
          if (Number.isNaN(number)) expect(stats[0], where).toBe(0);
          else {
            // One value: count 1, and min = max = the value, bit for bit (-0 included).
            expect([stats[0], stats[3], stats[4]], where).toEqual([1, number, number]);
            expect(Object.is(stats[3], number), where).toBe(true);
          }
          if (ending.startsWith(',')) expect(stats[STAT_SLOTS], where).toBe(ending === ',7\n' ? 1 : 0);
          expect(comparable(got), where).toEqual(comparable(analyzeChunkGeneral(bytes, s)));
        }
      }
    }
    expect(fast).toBeGreaterThan(1000);
  });

  it('many records in one chunk, fractions of every length beside each other, the last ones at the end of the buffer', () => {
    const lines = ['a,b'];
    const values: string[] = [];
    for (let r = 0; r < 3000; r++) {
      const v = `${r % 3 === 0 ? '-' : ''}${r % 97}.${String(r * 7919).slice(0, 1 + (r % 9))}`;
      values.push(v);
      lines.push(`${v},${r % 5}.${r % 11}`);
    }
    for (let cut = 0; cut <= 5; cut++) {
      const text = `${lines.join('\n')}\n`;
      const bytes = encoder.encode(text.slice(0, text.length - cut));
      const s = spec;
      const got = analyzeBoth(bytes, s);
      expect(comparable(got)).toEqual(comparable(analyzeChunkGeneral(bytes, s)));
      // Independent truth for column 0's count, min and max: the records wholly in the chunk.
      const whole = values.slice(0, cut === 0 ? values.length : values.length - 1);
      const nums = whole.map(Number);
      const stats = got.stats ?? new Float64Array(0);
      expect([stats[0], stats[3], stats[4]]).toEqual([nums.length, Math.min(...nums), Math.max(...nums)]);
    }
  });
});
