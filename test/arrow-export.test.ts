/**
 * The streaming Arrow export (issue 12 §3): time ranges and chosen records written batch by batch, read
 * back with apache-arrow's own readers (file and stream formats) and compared value by value with the
 * generator's truth (not with anything seekdata parsed): Int32 / Int64 / Float64 numbers, text as
 * Dictionary<Int32, Utf8> or Utf8, missing values as nulls, timestamps exactly at the file's resolution;
 * atomic writes; progress; options; the CLI command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Int64, RecordBatchFileReader, RecordBatchReader, Table, tableFromIPC, Timestamp } from 'apache-arrow';
import {
  closeSharedPool,
  exportRecordsToArrow,
  exportTimeRangeToArrow,
  openIndexed,
  recordsToArrow,
  timeRangeToArrow,
  timeRangeToArrowBatches,
  type ArrowProgress,
  type IndexedFile,
} from '../src/index.js';
import { prng, tempDir, writeFixture, xz } from './support/fixtures.js';
import { entry, rechecksum } from './support/sdx.js';

interface Row {
  time: number;
  id: number;
  big: bigint;
  price: number | null;
  /** The price field was text ("oops"). */
  oops: boolean;
  kind: string | null;
  note: string;
  mixed: string;
}

const KINDS = ['buy', 'sell', 'hold', 'say "hi"', 'ü-ñ, x'];
const csvField = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function fixture(n: number): { csv: Buffer; rows: Row[] } {
  const rows: Row[] = [];
  const lines = ['time,id,big,price,kind,note,mixed'];
  let t = Date.UTC(2024, 2, 3, 9);
  for (let i = 0; i < n; i++) {
    t += 1000 + (i % 5) * 7;
    const magnitude = 2n ** 53n + BigInt(i) * 1_000_003n;
    const big = i % 10 === 0 ? -magnitude : magnitude;
    const priceText = i % 97 === 5 ? '' : i % 89 === 1 ? 'NA' : i % 211 === 7 ? 'oops' : String(((i * 37) % 10_000) / 100 - 20);
    const price = priceText === '' || priceText === 'NA' || priceText === 'oops' ? null : Number(priceText);
    const kind = i % 53 === 0 ? null : KINDS[i % KINDS.length];
    const note = i % 11 === 0 ? `line1\nline2 "q${i}"` : i % 7 === 0 ? `quoted, with comma ${i}` : `n${i}`;
    const noteText = i % 13 === 0 && i % 7 !== 0 && i % 11 !== 0 ? `  ${note}  ` : csvField(note);
    const mixed = i % 3 === 0 ? String(i) : `m${i % 5}`;
    rows.push({ time: t, id: i - 3000, big, price, oops: priceText === 'oops', kind, note, mixed });
    lines.push([new Date(t).toISOString(), String(i - 3000), String(big), priceText, kind === null ? '' : csvField(kind), noteText, mixed].join(','));
  }
  return { csv: Buffer.from(lines.join('\n') + '\n'), rows };
}

/** A column's values: bigints for 64-bit columns (Int64, Timestamp: raw, no conversion), else `get`. */
function values(table: Table, name: string): unknown[] {
  const vector = table.getChild(name);
  if (vector === null) throw new Error(`no column ${name}`);
  if (vector.type instanceof Int64 || vector.type instanceof Timestamp) {
    return vector.data.flatMap((d) => Array.from({ length: d.length }, (_, i) => (d.getValid(i) ? (d.values as BigInt64Array)[d.offset + i] : null)));
  }
  return Array.from({ length: vector.length }, (_, i) => (vector.isValid(i) ? vector.get(i) : null));
}

function types(table: Table): string[] {
  return table.schema.fields.map((f) => `${f.name}:${String(f.type)}`);
}

function expectRows(table: Table, want: Row[]): void {
  expect(table.numRows).toBe(want.length);
  const columns = { time: values(table, 'time'), id: values(table, 'id'), big: values(table, 'big'), price: values(table, 'price'), kind: values(table, 'kind'), note: values(table, 'note'), mixed: values(table, 'mixed') };
  want.forEach((r, k) => {
    const got = { time: columns.time[k], id: columns.id[k], big: columns.big[k], price: columns.price[k], kind: columns.kind[k], note: columns.note[k], mixed: columns.mixed[k] };
    const expected = { time: BigInt(r.time), id: r.id, big: r.big, price: r.price, kind: r.kind, note: r.note, mixed: r.mixed };
    // One comparison per row, the row named when it fails.
    if (JSON.stringify(got, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) !== JSON.stringify(expected, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))) {
      expect(got, `row ${k}`).toEqual(expected);
    }
  });
}

const EXPECTED_TYPES = ['time:Timestamp<MILLISECOND>', 'id:Int32', 'big:Int64', 'price:Float64', 'kind:Dictionary<Int32, Utf8>', 'note:Utf8', 'mixed:Utf8'];
const N = 6000;
const { csv, rows } = fixture(N);
const tmp = tempDir();
let sorted: IndexedFile;
let unsorted: IndexedFile;
let unsortedRows: Row[];
const t0 = rows[1000].time;
const t1 = rows[5000].time;

beforeAll(async () => {
  sorted = await openIndexed(writeFixture(tmp.dir, 'ticks.csv.xz', xz(csv, '--block-size=24KiB')), { records: 'csv', timeColumn: 'time' });
  const rand = prng(9);
  const order = rows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const lines = csv.toString().split('\n');
  // Records may span lines (quoted newlines): shuffle by record, from the generator's own lines.
  const records: string[] = [];
  for (let k = 1, r = 0; r < N; r++) {
    let line = lines[k++];
    while ((line.match(/"/g)?.length ?? 0) % 2 === 1) line += '\n' + lines[k++];
    records.push(line);
  }
  unsortedRows = order.map((i) => rows[i]);
  const shuffled = [lines[0], ...order.map((i) => records[i])].join('\n') + '\n';
  unsorted = await openIndexed(writeFixture(tmp.dir, 'shuffled.csv.xz', xz(Buffer.from(shuffled), '--block-size=24KiB')), { records: 'csv', timeColumn: 'time' });
});

afterAll(async () => {
  await sorted.close();
  await unsorted.close();
  await closeSharedPool();
  tmp.cleanup();
});

describe('streaming Arrow export', () => {
  it('a time range of a sorted file: many batches in the IPC file format, every value as in the CSV, the dictionary written once', async () => {
    const path = join(tmp.dir, 'range.arrow');
    const progress: ArrowProgress[] = [];
    const result = await exportTimeRangeToArrow(sorted, t0, t1, path, { batchRows: 700, onProgress: (p) => progress.push(p) });
    const want = rows.slice(1000, 5000);
    expect(result).toMatchObject({ path, format: 'file', rows: 4000, batches: Math.ceil(4000 / 700), textInNumeric: want.filter((r) => r.oops).length });
    expect(result.firstTextInNumeric).toMatchObject({ column: 'price', value: 'oops' });
    expect(result.bytes).toBe(readFileSync(path).length);
    const back = tableFromIPC(readFileSync(path));
    expect(types(back)).toEqual(EXPECTED_TYPES);
    expect(back.batches.length).toBe(result.batches);
    expectRows(back, want);
    // The categories of the index, sorted, stored once for all batches.
    const reader = RecordBatchFileReader.from(readFileSync(path)).open();
    expect(reader.numDictionaries).toBe(1);
    expect(reader.numRecordBatches).toBe(result.batches);
    expect(back.getChild('kind')?.data[0].dictionary?.toArray()).toEqual([...KINDS].sort());
    expect(progress[0]).toEqual({ rows: 0, rowsTotal: 4000 });
    expect(progress.at(-1)).toEqual({ rows: 4000, rowsTotal: 4000 });
    expect(progress.every((p, k) => k === 0 || p.rows > progress[k - 1].rows)).toBe(true);
  });

  it('the IPC stream format, read back batch by batch with RecordBatchReader', async () => {
    const path = join(tmp.dir, 'range.arrows');
    const result = await exportTimeRangeToArrow(sorted, t0, t1, path, { batchRows: 999, format: 'stream', limit: 2500 });
    expect(result).toMatchObject({ format: 'stream', rows: 2500, batches: 3 });
    const reader = RecordBatchReader.from(readFileSync(path));
    const batches = [...reader];
    expect(batches.map((b) => b.numRows)).toEqual([999, 999, 502]);
    expectRows(new Table(batches), rows.slice(1000, 3500));
  });

  it('an unsorted file: the range in time order through the record reads, and chosen records', async () => {
    const path = join(tmp.dir, 'unsorted.arrow');
    const result = await exportTimeRangeToArrow(unsorted, t0, t1, path, { batchRows: 512 });
    expect(result.batches).toBe(Math.ceil(4000 / 512));
    expectRows(tableFromIPC(readFileSync(path)), rows.slice(1000, 5000));
    const picks = [17, 4, 5999, 0, 2500, 2501, 2502];
    expectRows(await recordsToArrow(unsorted, picks, { batchRows: 3 }), picks.map((r) => unsortedRows[r]));
    // Consecutive record numbers take the sequential path.
    const run = Array.from({ length: 1500 }, (_, k) => 3000 + k);
    const out = join(tmp.dir, 'run.arrow');
    await exportRecordsToArrow(unsorted, run, out, { batchRows: 256 });
    expectRows(tableFromIPC(readFileSync(out)), run.map((r) => unsortedRows[r]));
  });

  it('in-memory Tables come from the same batches; columns choose and order the fields', async () => {
    const table = await timeRangeToArrow(sorted, t0, t1, { columns: ['note', 'big', 'time'], batchRows: 1000 });
    expect(types(table)).toEqual(['note:Utf8', 'big:Int64', 'time:Timestamp<MILLISECOND>']);
    expect(table.batches.length).toBe(4);
    expect(values(table, 'big')).toEqual(rows.slice(1000, 5000).map((r) => r.big));
    const empty = await timeRangeToArrow(sorted, t1, t0);
    expect(empty.numRows).toBe(0);
    expect(types(empty)).toEqual(EXPECTED_TYPES);
    const batches = timeRangeToArrowBatches(sorted, t0, t1, { batchRows: 100 });
    expect(batches.rows).toBe(4000);
    let seen = 0;
    for await (const b of batches) {
      seen += b.numRows;
      if (seen >= 300) break;
    }
    expect(seen).toBe(300);
  });

  it('records longer than several chunks (quoted newlines included) come out whole on the sequential path', async () => {
    const long = (i: number): string => `${'long text, with "quotes" and\nnewlines '.repeat(1500)}#${i}`;
    const lines = ['t,note'];
    const want: string[] = [];
    for (let i = 0; i < 40; i++) {
      const note = i % 4 === 1 ? long(i) : `short ${i}`;
      want.push(note);
      lines.push(`${new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()},${csvField(note)}`);
    }
    const path = writeFixture(tmp.dir, 'long.csv.xz', xz(Buffer.from(lines.join('\n') + '\n'), '--block-size=8KiB'));
    const file = await openIndexed(path, { records: 'csv', timeColumn: 't' });
    try {
      expect(file.reader.layout.count).toBeGreaterThan(40);
      const table = await timeRangeToArrow(file, -Infinity, Infinity, { batchRows: 3 });
      expect(values(table, 'note')).toEqual(want);
    } finally {
      await file.close();
    }
  });

  it('bad options name the field', async () => {
    const path = join(tmp.dir, 'never.arrow');
    await expect(exportTimeRangeToArrow(sorted, t0, t1, path, { batchRows: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'options.batchRows must be a positive integer, got 0' });
    await expect(exportTimeRangeToArrow(sorted, t0, t1, path, { timeUnit: 'h' as 'ms' })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: /options\.timeUnit must be one of "s", "ms", "us", "ns"/ });
    await expect(exportTimeRangeToArrow(sorted, t0, t1, path, { format: 'csv' as 'file' })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: /options\.format/ });
    await expect(exportTimeRangeToArrow(sorted, t0, t1, path, { columns: ['nope'] })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: /no column "nope"/ });
    await expect(exportTimeRangeToArrow(sorted, NaN, t1, path)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: /options\.from/ });
    expect(existsSync(path)).toBe(false);
  });
});

describe('atomic writes', () => {
  it('a failed export leaves the old file and no temporary file; a directory or a missing parent is an IO_ERROR naming the path', async () => {
    const dir = join(tmp.dir, 'atomic');
    const lines = ['t,v'];
    // Whole milliseconds first, a microsecond digit late in the range: the error comes after batches were written.
    for (let i = 0; i < 50; i++) lines.push(`${1_700_000_000_000_000 + i * 1000 + (i === 40 ? 1 : 0)},${i}`);
    const data = writeFixture(tmp.dir, 'us.csv', Buffer.from(lines.join('\n') + '\n'));
    const file = await openIndexed(data, { records: 'csv', timeColumn: 't', index: false });
    try {
      spawnSync('mkdir', ['-p', dir]);
      const target = join(dir, 'out.arrow');
      writeFileSync(target, 'OLD');
      await expect(exportTimeRangeToArrow(file, -Infinity, Infinity, target, { batchRows: 4, timeUnit: 'ms' })).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        record: 40,
        message: `${data}: record 40: time "1700000000040001" has digits finer than the Arrow time unit ms; export with timeUnit 'ns' (CLI --time-unit ns)`,
      });
      expect(readFileSync(target, 'utf8')).toBe('OLD');
      expect(readdirSync(dir)).toEqual(['out.arrow']);
      const ok = await exportTimeRangeToArrow(file, -Infinity, Infinity, target, { batchRows: 4 });
      expect(ok.rows).toBe(50);
      expect(readdirSync(dir)).toEqual(['out.arrow']);
      expect(values(tableFromIPC(readFileSync(target)), 't')[40]).toBe(1_700_000_000_040_001n);
      await expect(exportTimeRangeToArrow(file, -Infinity, Infinity, dir)).rejects.toMatchObject({ code: 'IO_ERROR', message: `${dir}: cannot write the Arrow file: it is a directory (give a file name)` });
      const missing = join(dir, 'no', 'such', 'x.arrow');
      await expect(exportTimeRangeToArrow(file, -Infinity, Infinity, missing)).rejects.toMatchObject({ code: 'IO_ERROR', message: `${missing}: cannot write the Arrow file: its directory ${join(dir, 'no', 'such')} does not exist` });
    } finally {
      await file.close();
    }
  });

  it('a record index that does not match the data is CORRUPT_INDEX on the sequential path, never shifted records', async () => {
    const path = writeFixture(tmp.dir, 'crafted.csv', csv);
    const first = await openIndexed(path, { records: 'csv', timeColumn: 'time' });
    await first.close();
    const index = new Uint8Array(readFileSync(`${path}.sdx`));
    const offsets = entry(index, 'records.offsets');
    const view = new DataView(index.buffer, index.byteOffset + offsets.offset, offsets.length);
    // Record 1500 starts one byte late (still inside its chunk, after record 1499).
    view.setUint32(1500 * 4, view.getUint32(1500 * 4, true) + 1, true);
    rechecksum(index);
    writeFileSync(`${path}.sdx`, index);
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'time' });
    try {
      expect(file.report.status).toBe('loaded');
      // Record 1499 then ends one byte into record 1500's line: the first of the two seen is reported.
      await expect(timeRangeToArrow(file, t0, t1)).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: /record (1500 does not start at a line start|1499 does not end at a line end)/ });
    } finally {
      await file.close();
    }
  });
});
