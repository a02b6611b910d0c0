/**
 * The indexing pass gathers what `TimeIndex.build` needs (how many times are valid, whether they are in
 * order) chunk by chunk as the analyses arrive (records/builder.ts, with built-records.ts `scanTimes`),
 * instead of scanning all the times after the last chunk. Checked against a plain scan of the built times,
 * on files cut into chunks (records joined across chunk boundaries by the main thread among them) with one
 * record out of order at every place in turn, unparsable times at every place, and a user time function;
 * and the time index built from the gathered scan against the one built by scanning.
 */
import { describe, expect, it } from 'vitest';
import { analyzeChunk, type AnalyzeSpec } from '../src/index/records/analyze.js';
import { RecordBuilder } from '../src/index/records/builder.js';
import type { BuiltRecords } from '../src/index/records/built-records.js';
import { TimeIndex } from '../src/index/time-index.js';
import { prng } from './support/fixtures.js';

const encoder = new TextEncoder();

/** Valid times and order by the definition: NaN is no time; sorted when each valid time ≥ the valid one before. */
function truth(times: Float64Array): { valid: number; sorted: boolean } {
  const validTimes = [...times].filter((t) => !Number.isNaN(t));
  return { valid: validTimes.length, sorted: validTimes.every((t, i) => i === 0 || t >= validTimes[i - 1]) };
}

const spec: AnalyzeSpec = { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 2, time: { field: 0, format: 'iso' }, maxBad: 5, quoting: 'rfc4180' };

function build(text: string, cuts: number[], timeFn?: (record: string) => number): BuiltRecords {
  const bytes = encoder.encode(text);
  const header = bytes.indexOf(0x0a) + 1;
  const builder = new RecordBuilder({
    file: 'times.csv',
    specFor: (offset) => (offset === 0 ? { ...spec, begin: header } : spec),
    columns: ['time', 'x'],
    timeFn,
    strict: false,
    maxBad: 5,
    maxRecordBytes: 1 << 20,
  });
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const piece = bytes.slice(bounds[k], bounds[k + 1]);
    const s = bounds[k] === 0 ? { ...spec, begin: header } : spec;
    builder.addChunk(bounds[k], piece, analyzeChunk(piece, s));
  }
  return builder.finish();
}

function check(built: BuiltRecords, where: string): void {
  const times = built.times ?? new Float64Array(0);
  expect(built.timeScan, where).toEqual(truth(times));
  const fast = TimeIndex.build(times, built.timeScan);
  const scanned = TimeIndex.build(times);
  expect(fast.summary, where).toEqual(scanned.summary);
  expect(fast.range(-Infinity, Infinity), where).toEqual(scanned.range(-Infinity, Infinity));
}

describe('the time scan gathered during the pass (builder.ts)', () => {
  const records = 40;
  const base = Date.UTC(2024, 0, 1);
  const line = (r: number, t: number | string): string => `${typeof t === 'string' ? t : new Date(t).toISOString()},${r}`;
  const rand = prng(3);
  // Chunks of 1..90 bytes: most records straddle a boundary and are joined on the main thread.
  const cuts: number[] = [];
  for (let at = 0; at < 4000; at += 1 + Math.floor(rand() * 90)) cuts.push(at);

  it('one record out of order by 1 ms, at every place in turn (joined records and chunk starts among them)', () => {
    let unsorted = 0;
    for (let bad = 0; bad < records; bad++) {
      const lines = ['time,x'];
      for (let r = 0; r < records; r++) lines.push(line(r, r === bad ? base + (bad - 1) * 1000 - 1 : base + r * 1000));
      const built = build(`${lines.join('\n')}\n`, cuts);
      expect(built.count).toBe(records);
      check(built, `record ${bad} out of order`);
      if (bad > 0) {
        expect(built.timeScan?.sorted, `record ${bad}`).toBe(false);
        unsorted++;
      }
    }
    expect(unsorted).toBe(records - 1);
  });

  it('unparsable times at every place, equal times, all unparsable, no final newline', () => {
    for (let bad = 0; bad < records; bad++) {
      const lines = ['time,x'];
      // An unparsable time between two out-of-order ones must not hide the disorder.
      for (let r = 0; r < records; r++) lines.push(line(r, r === bad ? 'soon' : r === bad + 1 ? base + (bad - 2) * 1000 : base + Math.floor(r / 2) * 1000));
      const built = build(lines.join('\n'), cuts);
      check(built, `record ${bad} unparsable`);
      expect(built.timeScan?.valid).toBe(records - 1);
    }
    const none = build(`time,x\n${Array.from({ length: records }, (_, r) => line(r, 'x')).join('\n')}\n`, cuts);
    check(none, 'all unparsable');
    expect(none.timeScan).toEqual({ valid: 0, sorted: true });
  });

  it('a user time function (times computed on the main thread)', () => {
    const lines = ['time,x'];
    for (let r = 0; r < records; r++) lines.push(line(r, base + r * 1000));
    const fn = (record: string): number => {
      const x = Number(record.split(',')[1]);
      return x === 7 ? NaN : x === 20 ? 5 : x;
    };
    const built = build(`${lines.join('\n')}\n`, cuts, fn);
    check(built, 'time function');
    expect(built.timeScan).toEqual({ valid: records - 1, sorted: false });
  });
});
