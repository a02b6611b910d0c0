/**
 * Arrow export types: timestamps at the file's resolution, exactly (epoch s / ms / us / ns and ISO-8601
 * with fractions, offsets and zones; `timeUnit`; digits finer than the unit are an error, never dropped),
 * and JSONL values (strings and booleans as categories, numbers, nested paths, null and absent fields).
 * Each expected value is computed here from the text the test wrote.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Int64, Table, Timestamp } from 'apache-arrow';
import { closeSharedPool, openIndexed, recordsToArrow, timeRangeToArrow, type ArrowTimeUnit } from '../src/index.js';
import { tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

function values(table: Table, name: string): unknown[] {
  const vector = table.getChild(name);
  if (vector === null) throw new Error(`no column ${name}`);
  if (vector.type instanceof Int64 || vector.type instanceof Timestamp) {
    return vector.data.flatMap((d) => Array.from({ length: d.length }, (_, i) => (d.getValid(i) ? (d.values as BigInt64Array)[d.offset + i] : null)));
  }
  return Array.from({ length: vector.length }, (_, i) => (vector.isValid(i) ? vector.get(i) : null));
}

let fixtures = 0;
/** Exports a one-time-column CSV whole; returns the time column's type and values. */
async function exportTimes(texts: string[], options: { timeUnit?: ArrowTimeUnit; timeZone?: string } = {}): Promise<{ type: string; values: unknown[] }> {
  const path = writeFixture(tmp.dir, `t${fixtures++}.csv`, Buffer.from(['t,v', ...texts.map((t, i) => `${t},${i}`)].join('\n') + '\n'));
  const file = await openIndexed(path, { records: 'csv', timeColumn: 't', index: false, ...(options.timeZone === undefined ? {} : { timeZone: options.timeZone }) });
  try {
    const table = await timeRangeToArrow(file, -Infinity, Infinity, { batchRows: 2, ...(options.timeUnit === undefined ? {} : { timeUnit: options.timeUnit }) });
    return { type: String(table.schema.fields[0].type), values: values(table, 't') };
  } finally {
    await file.close();
  }
}

describe('timestamps at the file resolution', () => {
  it('epoch seconds, milliseconds, microseconds and nanoseconds keep every digit', async () => {
    expect(await exportTimes(['1700000000', '1700000060', '-86400'])).toEqual({ type: 'Timestamp<SECOND>', values: [-86400n, 1700000000n, 1700000060n] });
    // Fractions of a second in an epoch-seconds file: the next unit that holds them.
    expect(await exportTimes(['1700000000.25', '1700000001'])).toEqual({ type: 'Timestamp<MILLISECOND>', values: [1700000000250n, 1700000001000n] });
    expect(await exportTimes(['1700000000123', '1700000000124'])).toEqual({ type: 'Timestamp<MILLISECOND>', values: [1700000000123n, 1700000000124n] });
    expect(await exportTimes(['1700000000123456', '1700000000123457'])).toEqual({ type: 'Timestamp<MICROSECOND>', values: [1700000000123456n, 1700000000123457n] });
    // Beyond 2^53: exact only if read from the text (the index's milliseconds are a double).
    expect(await exportTimes(['1700000000123456789', '1700000000123456790'])).toEqual({ type: 'Timestamp<NANOSECOND>', values: [1700000000123456789n, 1700000000123456790n] });
  });

  it('ISO-8601: whole milliseconds stay milliseconds, finer fractions become exact nanoseconds; offsets and zones apply', async () => {
    const base = BigInt(Date.UTC(2024, 2, 3, 9));
    expect(await exportTimes(['2024-03-03T09:00:00Z', '2024-03-03T11:00:00.5+02:00', '2024-03-03 09:00:01.123'])).toEqual({
      type: 'Timestamp<MILLISECOND>',
      values: [base, base + 500n, base + 1123n],
    });
    expect(await exportTimes(['2024-03-03T09:00:00.123456Z', '2024-03-03T09:00:00.999999999Z', '2024-03-03T10:00:00+01:00'])).toEqual({
      type: 'Timestamp<NANOSECOND>',
      // In time order: 10:00+01:00 is 09:00Z.
      values: [base * 1_000_000n, base * 1_000_000n + 123_456_000n, base * 1_000_000n + 999_999_999n],
    });
    expect(await exportTimes(['2024-07-01 12:00:00', '2024-12-01 12:00:00'], { timeZone: 'Europe/Paris' })).toEqual({
      type: 'Timestamp<MILLISECOND>',
      values: [BigInt(Date.UTC(2024, 6, 1, 10)), BigInt(Date.UTC(2024, 11, 1, 11))],
    });
  });

  it('timeUnit chooses the unit; a value with finer non-zero digits is an error naming the record, never truncated', async () => {
    expect(await exportTimes(['1700000000123', '1700000000124'], { timeUnit: 'ns' })).toEqual({ type: 'Timestamp<NANOSECOND>', values: [1700000000123000000n, 1700000000124000000n] });
    expect(await exportTimes(['2024-03-03T09:00:00.123456Z'], { timeUnit: 'us' })).toEqual({ type: 'Timestamp<MICROSECOND>', values: [BigInt(Date.UTC(2024, 2, 3, 9)) * 1000n + 123_456n] });
    await expect(exportTimes(['1700000000000', '1700000000500'], { timeUnit: 's' })).rejects.toMatchObject({ code: 'INVALID_OPTION', record: 1, message: /record 1: time "1700000000500" has digits finer than the Arrow time unit s/ });
    // A nanosecond digit the index's double in milliseconds cannot see: the automatic unit (ms) refuses it.
    await expect(exportTimes(['2024-03-03T09:00:00.123000001Z'])).rejects.toMatchObject({ code: 'INVALID_OPTION', message: /has digits finer than the Arrow time unit ms; export with timeUnit 'ns'/ });
    expect((await exportTimes(['2024-03-03T09:00:00.123000001Z'], { timeUnit: 'ns' })).values).toEqual([BigInt(Date.UTC(2024, 2, 3, 9)) * 1_000_000n + 123_000_001n]);
  });

  it('a time that does not fit int64 in the unit is OUT_OF_RANGE', async () => {
    await expect(exportTimes(['2300-01-01T00:00:00.5Z'], { timeUnit: 'ns' })).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: /does not fit an Arrow timestamp in ns/ });
  });
});

describe('JSONL values', () => {
  it('strings and booleans as categories, numbers, nested paths, arrays as JSON text, null and absent fields as nulls', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({
      t: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      v: i % 10 === 3 ? null : i * 1.5,
      n: i,
      big: 2 ** 40 + i,
      tag: i % 4 === 0 ? true : i % 4 === 1 ? false : i % 4 === 2 ? 'x "q"' : 'y',
      meta: { k: i % 2 === 0 ? 'even' : 'odd' },
      arr: [i, i + 1],
      ...(i % 5 === 0 ? {} : { sometimes: `s${i % 3}` }),
    }));
    const path = writeFixture(tmp.dir, 'rows.jsonl', Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    const file = await openIndexed(path, { records: 'jsonl', timeColumn: 't', index: false });
    try {
      const table = await recordsToArrow(file, Array.from({ length: 300 }, (_, i) => 299 - i), { batchRows: 64 });
      const byName = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
      expect(byName).toEqual({
        t: 'Timestamp<MILLISECOND>',
        v: 'Float64',
        n: 'Int32',
        big: 'Int64',
        tag: 'Dictionary<Int32, Utf8>',
        'meta.k': 'Dictionary<Int32, Utf8>',
        arr: 'Utf8',
        sometimes: 'Dictionary<Int32, Utf8>',
      });
      const want = [...rows].reverse();
      expect(values(table, 't')).toEqual(want.map((r) => BigInt(Date.parse(r.t))));
      expect(values(table, 'v')).toEqual(want.map((r) => r.v));
      expect(values(table, 'n')).toEqual(want.map((r) => r.n));
      expect(values(table, 'big')).toEqual(want.map((r) => BigInt(r.big)));
      expect(values(table, 'tag')).toEqual(want.map((r) => String(r.tag)));
      expect(values(table, 'meta.k')).toEqual(want.map((r) => r.meta.k));
      expect(values(table, 'arr')).toEqual(want.map((r) => JSON.stringify(r.arr)));
      expect(values(table, 'sometimes')).toEqual(want.map((r) => r.sometimes ?? null));
    } finally {
      await file.close();
    }
  });
});
