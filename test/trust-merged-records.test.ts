/**
 * A loaded index with one record offset left out (its record count, record numbers, timestamps and time
 * summary made to match, so that the index is internally consistent): the record before the gap then spans
 * two lines. Its span starts and ends at line ends, so the checks of record starts and ends pass; a dataset
 * yielded the first line's row and lost the second line's record, `get` returned two lines as one record.
 * Every read path must answer CORRUPT_INDEX naming the index file and the record, and none may yield a row or
 * the bytes of the merged span first: for CSV (a record in a chunk, the file's last record, lines with quoted
 * newlines, quoting 'none' with stray quotes, a record longer than a stored tail), JSONL with blank lines,
 * and `records: 'lines'`. And the check agrees with the indexing pass: every honest span holds one record,
 * every two consecutive ones more than one, on honest files of every shape it must not refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import {
  closeSharedPool,
  isSeekdataError,
  openCollection,
  openIndexed,
  recordsToArrow,
  sampleBatches,
  ShuffledBatchDataset,
  TimeRangeDataset,
  timeRangeToArrow,
  WorkerPool,
  type Indexed,
  type IndexedOptions,
} from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';
import { rejection as failure } from './support/gzip-fixtures.js';
import { entries, entry, json, withJson, withPayload } from './support/sdx.js';

const tmp = tempDir();
const { csv, rows: truth } = datasetFixture(20_000);
const lines = csv.toString('utf8').split('\n').slice(1, -1);
const pool = new WorkerPool({ size: 2 });
/** A whole second, so that the copy's modification time is the one its index records. */
const STAMP = 1_700_000_000;
const CSV_OPTIONS = { records: 'csv', timeColumn: 'time' } as const;

afterAll(async () => {
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

interface RecordsMeta {
  count: number;
  time?: { first?: number; last?: number; unparsable: number };
}

/**
 * Leaves record r's offset out of the index file at `index` as a forger would: the offsets, the chunks' first
 * record numbers, the count, the timestamps (and time order) and the time summary all made to agree.
 */
function leaveOut(index: string, r: number): void {
  let bytes: Uint8Array = new Uint8Array(readFileSync(index));
  const u32 = (name: string): Uint32Array => {
    const e = entry(bytes, name);
    return new Uint32Array(bytes.slice(e.offset, e.offset + e.length).buffer);
  };
  const f64 = (name: string): Float64Array => {
    const e = entry(bytes, name);
    return new Float64Array(bytes.slice(e.offset, e.offset + e.length).buffer);
  };
  const without = <T extends Uint32Array | Float64Array>(a: T): Uint8Array => {
    const out = new (a.constructor as new (n: number) => T)(a.length - 1);
    out.set(a.subarray(0, r));
    out.set(a.subarray(r + 1), r);
    return new Uint8Array(out.buffer);
  };
  bytes = withPayload(bytes, 'records.offsets', without(u32('records.offsets')));
  const first = f64('records.first').map((n) => (n > r ? n - 1 : n));
  bytes = withPayload(bytes, 'records.first', new Uint8Array(first.buffer));
  const meta = json(bytes, 'meta') as { records: RecordsMeta };
  meta.records.count--;
  const time = meta.records.time;
  if (time !== undefined) {
    const values = f64('time.values');
    if (Number.isNaN(values[r])) time.unparsable--;
    bytes = withPayload(bytes, 'time.values', without(values));
    if (entries(bytes).some((e) => e.name === 'time.order')) {
      const order = u32('time.order').filter((k) => k !== r).map((k) => (k > r ? k - 1 : k));
      bytes = withPayload(bytes, 'time.order', new Uint8Array(order.buffer));
    }
    const valid = [...values.subarray(0, r), ...values.subarray(r + 1)].filter((t) => !Number.isNaN(t));
    time.first = Math.min(...valid);
    time.last = Math.max(...valid);
  }
  bytes = withJson(bytes, 'meta', meta);
  writeFileSync(index, bytes);
}

/** A copy of `data` at `name` with its index built, then crafted with record r's offset left out. */
async function crafted(name: string, data: Uint8Array, options: IndexedOptions, r: number): Promise<{ path: string; index: string }> {
  const path = writeFixture(tmp.sub(), name, data);
  utimesSync(path, STAMP, STAMP);
  await (await openIndexed(path, { ...options, pool })).close();
  const index = `${path}.sdx`;
  leaveOut(index, r);
  return { path, index };
}

async function opened(path: string, options: IndexedOptions, parallelism?: 1): Promise<Indexed> {
  const file = await openIndexed(path, { ...options, ifStale: 'error', ...(parallelism === 1 ? { parallelism: 1 } : { pool }) });
  expect(file.report.status).toBe('loaded');
  return file;
}

function expectMerged(error: unknown, index: string, record: number): void {
  expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
  expect(String(error)).toContain(index);
  expect(String(error)).toContain(`record ${record} holds more than one record`);
}

describe('a record offset left out of a CSV index (a record in the middle of a chunk) is CORRUPT_INDEX', () => {
  /** The record left out: in the middle of a chunk after the first (bzip2 -1: 100 kB blocks, about 1,700 records each). */
  const R = 3000;
  /** The record whose span then covers its own line and R's. */
  const f = R - 1;
  let path = '';
  let index = '';
  /** The truth of loaded record n: records after the gap are the lines after it. */
  const row = (n: number): (typeof truth)[number] => truth[n < R ? n : n + 1];

  beforeAll(async () => {
    const built = await openIndexed(writeFixture(tmp.sub(), 'probe.csv.bz2', bzip2(csv, 1)), { ...CSV_OPTIONS, pool });
    const c = built.records.chunkOf(R);
    expect(c).toBeGreaterThan(0);
    expect(built.records.recordsOf(c).first).toBeLessThan(f);
    expect(built.records.recordsOf(c).end).toBeGreaterThan(R + 1);
    await built.close();
    ({ path, index } = await crafted('merged.csv.bz2', bzip2(csv, 1), CSV_OPTIONS, R));
    // The crafted index loads, one record short, and its record f spans two lines.
    const file = await opened(path, CSV_OPTIONS);
    expect(file.records.count).toBe(truth.length - 1);
    const { start, end } = file.records.span(f);
    expect(csv.subarray(start, end).toString()).toBe(`${lines[f]}\n${lines[R]}\n`);
    await file.close();
  });

  it.each([
    ['get', (file: Indexed) => file.records.get(f)],
    ['text', (file: Indexed) => file.records.text(f)],
    ['getMany of it alone', (file: Indexed) => file.records.getMany([f])],
    ['getMany of it among others, out of order', (file: Indexed) => file.records.getMany([f + 5, f + 1, f, f - 1, 10])],
    ['slice starting at it', (file: Indexed) => file.records.slice(f, f + 3)],
    ['slice across it', (file: Indexed) => file.records.slice(f - 2, f + 2)],
  ] as const)('%s', async (_, read) => {
    const file = await opened(path, CSV_OPTIONS);
    try {
      expectMerged(await failure(read(file)), index, f);
      // The records around it read right.
      expect(await file.records.text(f - 1)).toBe(lines[f - 1]);
      expect(await file.records.text(f + 1)).toBe(lines[R + 1]);
    } finally {
      await file.close();
    }
  });

  /** Every row yielded must be the truth's, and none the merged record's, until the error. */
  async function epoch(file: Indexed, shuffle: 'exact' | 'chunked' | false, truthOf: (n: number) => (typeof truth)[number] = row): Promise<void> {
    const ds = new ShuffledBatchDataset(file, { features: ['a', 'b'], batchSize: 250, shuffle, seed: 3 });
    for await (const batch of ds) {
      for (let i = 0; i < batch.size; i++) {
        expect(batch.records[i], 'a row of the merged record').not.toBe(f);
        expect(batch.xs[2 * i + 1], `record ${batch.records[i]}`).toBe(truthOf(batch.records[i]).b);
      }
    }
  }

  it.each([
    ['file order, parallelism 2', false, undefined],
    ['chunked, parallelism 2', 'chunked', undefined],
    ['exact, parallelism 1', 'exact', 1],
  ] as const)('ShuffledBatchDataset (%s)', async (_, shuffle, parallelism) => {
    const file = await opened(path, CSV_OPTIONS, parallelism);
    try {
      expectMerged(await failure(epoch(file, shuffle)), index, f);
    } finally {
      await file.close();
    }
  });

  it('a TimeRangeDataset over it', async () => {
    const file = await opened(path, CSV_OPTIONS);
    try {
      const ds = new TimeRangeDataset(file, { features: ['b'], batchSize: 100, from: truth[f - 50].time, to: truth[f + 50].time });
      const run = async (): Promise<void> => {
        for await (const batch of ds) {
          for (let i = 0; i < batch.size; i++) {
            expect(batch.records[i]).not.toBe(f);
            expect(batch.xs[i]).toBe(row(batch.records[i]).b);
          }
        }
      };
      expectMerged(await failure(run()), index, f);
    } finally {
      await file.close();
    }
  });

  it.each([
    ['timeRangeToArrow over it (one stream cut by the index)', (file: Indexed) => timeRangeToArrow(file, truth[f - 50].time, truth[f + 50].time)],
    ['timeRangeToArrow starting at it', (file: Indexed) => timeRangeToArrow(file, truth[f].time, truth[f + 50].time)],
    ['recordsToArrow of a run through it', (file: Indexed) => recordsToArrow(file, [f - 2, f - 1, f, f + 1])],
    ['recordsToArrow of chosen records (getMany)', (file: Indexed) => recordsToArrow(file, [f + 9, f, f - 9])],
  ] as const)('%s', async (_, read) => {
    const file = await opened(path, CSV_OPTIONS);
    try {
      expectMerged(await failure(read(file)), index, f);
    } finally {
      await file.close();
    }
  });

  it.each([false, 'chunked', 'exact'] as const)('sampleBatches (shuffle %s)', async (shuffle) => {
    const file = await opened(path, CSV_OPTIONS);
    try {
      const sample = async (): Promise<void> => {
        for await (const batch of sampleBatches(file, { batchSize: 1000, shuffle, seed: 4 })) {
          batch.numbers.forEach((n, k) => {
            expect(n).not.toBe(f);
            expect(Buffer.from(batch.records[k]).toString()).toBe(lines[n < R ? n : n + 1]);
          });
        }
      };
      expectMerged(await failure(sample()), index, f);
    } finally {
      await file.close();
    }
  });

  it('a collection of the file and an honest one', async () => {
    const honest = writeFixture(tmp.sub(), 'honest.csv.bz2', bzip2(csv, 1));
    const coll = await openCollection([path, honest], { ...CSV_OPTIONS, pool });
    try {
      const count = truth.length - 1;
      expectMerged(await failure(epoch(coll, 'chunked', (n) => (n < count ? row(n) : truth[n - count]))), index, f);
      expectMerged(await failure(coll.records.get(f)), index, f);
    } finally {
      await coll.close();
    }
  });
});

describe('the last record offset left out: the record before it runs to the end of the file over two lines', () => {
  let path = '';
  let index = '';
  const f = truth.length - 2;

  beforeAll(async () => {
    ({ path, index } = await crafted('last.csv.bz2', bzip2(csv, 1), CSV_OPTIONS, truth.length - 1));
  });

  it.each([
    ['get', (file: Indexed) => file.records.get(f)],
    ['getMany', (file: Indexed) => file.records.getMany([f, 0])],
    ['slice', (file: Indexed) => file.records.slice(f - 3, f + 1)],
    ['timeRangeToArrow', (file: Indexed) => timeRangeToArrow(file, truth[f - 20].time, truth[f].time + 1)],
    ['a dataset in file order', async (file: Indexed) => {
      for await (const batch of new ShuffledBatchDataset(file, { features: ['b'], batchSize: 500, shuffle: false })) {
        for (let i = 0; i < batch.size; i++) expect(batch.xs[i]).toBe(truth[batch.records[i]].b);
      }
    }],
    ['sampleBatches', async (file: Indexed) => {
      for await (const batch of sampleBatches(file, { batchSize: 500, shuffle: false })) batch.numbers.forEach((n, k) => expect(Buffer.from(batch.records[k]).toString()).toBe(lines[n]));
    }],
  ] as const)('%s', async (_, read) => {
    const file = await opened(path, CSV_OPTIONS);
    try {
      expect(file.records.count).toBe(truth.length - 1);
      expectMerged(await failure(read(file)), index, f);
    } finally {
      await file.close();
    }
  });
});

/** Text of `n` records of a kind, with shapes that an honest span may hold (blank lines, quoted newlines, CRLF). */
function shapes(kind: 'jsonl' | 'lines' | 'quoted' | 'none', n: number): { text: string; options: IndexedOptions; values: string[] } {
  const values: string[] = [];
  const parts: string[] = [];
  if (kind === 'quoted' || kind === 'none') parts.push('b,note\r\n');
  for (let i = 0; i < n; i++) {
    const b = String((i * 13) % 97);
    values.push(b);
    if (kind === 'jsonl') parts.push(`{"b": ${b}, "s": "x${i}"}${i % 4 === 0 ? '\n  \t\r\n\n' : '\n'}`);
    else if (kind === 'lines') parts.push(`${b} line ${i}\n`);
    else if (kind === 'quoted') parts.push(`${b},${i % 2 === 0 ? `"two\r\nlines ""${i}""\nor three"` : `n${i}`}\r\n${i % 3 === 0 ? '\r\n' : ''}`);
    // quoting 'none': a quote is an ordinary byte (an odd number of them on a line).
    else parts.push(`${b},say "${i}\n`);
  }
  const options: IndexedOptions =
    kind === 'jsonl' ? { records: 'jsonl' } : kind === 'lines' ? { records: 'lines' } : kind === 'quoted' ? { records: 'csv' } : { records: 'csv', quoting: 'none' };
  return { text: parts.join(''), options, values };
}

describe('an offset left out of indexes of other shapes and kinds is CORRUPT_INDEX', () => {
  const R = 700;
  it.each(['jsonl', 'lines', 'quoted', 'none'] as const)('%s', async (kind) => {
    const { text, options: kindOptions, values } = shapes(kind, 2000);
    const options = { ...kindOptions, gzipSpacingBytes: 64 << 10 };
    const { path, index } = await crafted(`${kind}.gz`, gzipSync(text), options, R);
    const file = await opened(path, options);
    try {
      expect(file.records.count).toBe(values.length - 1);
      expectMerged(await failure(file.records.get(R - 1)), index, R - 1);
      expectMerged(await failure(file.records.getMany([R + 3, R - 1])), index, R - 1);
      expectMerged(await failure(file.records.slice(R - 3, R + 3)), index, R - 1);
      if (kind !== 'lines') {
        const run = async (): Promise<void> => {
          for await (const batch of new ShuffledBatchDataset(file, { features: ['b'], batchSize: 100, shuffle: false })) {
            for (let i = 0; i < batch.size; i++) expect(batch.xs[i]).toBe(Number(values[batch.records[i] < R ? batch.records[i] : batch.records[i] + 1]));
          }
        };
        expectMerged(await failure(run()), index, R - 1);
      }
      const sample = async (): Promise<void> => {
        for await (const batch of sampleBatches(file, { batchSize: 100, shuffle: false })) void batch;
      };
      expectMerged(await failure(sample()), index, R - 1);
    } finally {
      await file.close();
    }
  });

  it('a record longer than a stored tail (read whole through the reader), with the offset after it left out', async () => {
    // Record 300 is 200 kB: it runs over several 64 KiB chunks, past what a stored tail holds.
    const rand = prng(9);
    const long = Array.from({ length: 200_000 }, () => String.fromCharCode(97 + Math.floor(rand() * 26))).join('');
    const text = `b,note\n${Array.from({ length: 600 }, (_, i) => `${i % 50},${i === 300 ? long : `n${i}`}\n`).join('')}`;
    const options = { records: 'csv', gzipSpacingBytes: 64 << 10 } as const;
    const { path, index } = await crafted('long.csv.gz', gzipSync(text), options, 301);
    const file = await opened(path, options);
    try {
      const c = file.records.chunkOf(300);
      expect(file.records.chunkSpans(c).long).toContain(300);
      expectMerged(await failure(file.records.getMany([300])), index, 300);
      const run = async (): Promise<void> => {
        for await (const batch of new ShuffledBatchDataset(file, { features: ['b'], batchSize: 50, shuffle: false })) {
          for (let i = 0; i < batch.size; i++) expect(batch.xs[i]).toBe((batch.records[i] < 301 ? batch.records[i] : batch.records[i] + 1) % 50);
        }
      };
      expectMerged(await failure(run()), index, 300);
    } finally {
      await file.close();
    }
  });
});

describe('the check agrees with the indexing pass on honest files', () => {
  /** Random CSV text: quoted fields with LF and CRLF newlines and doubled quotes, blank lines, CRLF, a BOM, any end. */
  function randomCsv(seed: number): string {
    const rand = prng(seed);
    const field = (): string => {
      const x = rand();
      if (x < 0.2) return `"q${Math.floor(rand() * 9)}${rand() < 0.5 ? '\n' : '\r\n'}""x"""`;
      if (x < 0.3) return '""';
      if (x < 0.35) return `"a,b${rand() < 0.5 ? '\n\n' : ''}"`;
      return String(Math.floor(rand() * 1000));
    };
    let text = rand() < 0.5 ? '\ufeff' : '';
    for (let i = 0; i < 300; i++) {
      text += `${field()},${field()},${field()}${rand() < 0.5 ? '\r\n' : '\n'}`;
      if (rand() < 0.1) text += rand() < 0.5 ? '\n' : '\r\n';
    }
    const end = rand();
    return end < 0.3 ? text.replace(/\r?\n$/, '') : end < 0.6 ? `${text}\r\n\n` : end < 0.8 ? `${text}\r` : text;
  }

  /** Every record's span holds one record; every two consecutive ones do not. */
  async function agrees(path: string, text: Buffer, options: IndexedOptions): Promise<number> {
    const file = await openIndexed(path, { ...options, parallelism: 1 });
    try {
      const ends = file.records.ends(text);
      const n = file.records.count;
      for (let i = 0; i < n; i++) {
        const { start, end } = file.records.span(i);
        expect(ends.extra(start, end), `record ${i}`).toBe(-1);
        if (i + 1 < n) expect(ends.extra(start, file.records.span(i + 1).end), `records ${i} and ${i + 1}`).toBeGreaterThanOrEqual(start);
      }
      // And its own reads (a fresh index is checked too) agree.
      expect((await file.records.slice(0, n)).length).toBe(n);
      return n;
    } finally {
      await file.close();
    }
  }

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('random CSV %i, header and not', async (seed) => {
    const text = Buffer.from(randomCsv(seed));
    const path = writeFixture(tmp.sub(), 'random.csv', text);
    expect(await agrees(path, text, { records: 'csv', header: false })).toBeGreaterThan(250);
    expect(await agrees(path, text, { records: 'csv', rebuild: true })).toBeGreaterThan(250);
  });

  it.each(['jsonl', 'lines', 'quoted', 'none'] as const)('%s', async (kind) => {
    const { text, options } = shapes(kind, 500);
    // No final newline; a final newline; a last blank line without a newline (spaces, or a lone CR).
    for (const last of [undefined, '', ' \t', '\r']) {
      const bytes = Buffer.from(last === undefined ? text.replace(/\r?\n$/, '') : text + last);
      const path = writeFixture(tmp.sub(), `${kind}.txt`, bytes);
      expect(await agrees(path, bytes, options)).toBeGreaterThanOrEqual(kind === 'lines' && last === '' ? 500 : 499);
    }
  });
});
