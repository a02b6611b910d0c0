/**
 * A loaded index's record offsets must cut the data at line ends on both sides of every record. The case
 * a check of each record's start alone missed: a record the index puts right at a chunk's start (offset 0),
 * with the previous chunk's stored tail emptied, so that a line is cut in two at the chunk boundary — the
 * record before it then ends inside the line, and the record at offset 0 starts inside it. Every read path
 * must answer CORRUPT_INDEX naming the index file, and none may yield a row of the cut line first. An honest
 * file whose chunks end at line ends (gzip members of whole lines) must read exactly, its records at offset 0
 * checked once against the byte before them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { closeSharedPool, isSeekdataError, openCollection, openIndexed, sampleBatches, ShuffledBatchDataset, TimeRangeDataset, timeRangeToArrow, WorkerPool, type Indexed } from '../src/index.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';
import { chunksBeginningAtRecords, datasetFixture } from './support/dataset-fixture.js';
import { rejection as failure } from './support/gzip-fixtures.js';
import { entry, rechecksum, withPayload } from './support/sdx.js';

const tmp = tempDir();
const { csv, rows: truth } = datasetFixture(20_000);
const lines = csv.toString('utf8').split('\n').slice(1, -1);
const pool = new WorkerPool({ size: 2 });
const STAMP = 1_700_000_000;
/** A record inside chunk 1 or later (bzip2 -1: 100 kB blocks, about 1,700 records each). */
const R = 3000;
let path = '';
let index = '';
/** The first record of R's chunk, moved to the chunk's start by the crafted index. */
let f = 0;

beforeAll(async () => {
  path = writeFixture(tmp.sub('cut'), 'cut.csv.bz2', bzip2(csv, 1));
  utimesSync(path, STAMP, STAMP);
  const built = await openIndexed(path, { records: 'csv', timeColumn: 'time', pool });
  const c = built.records.chunkOf(R);
  f = built.records.recordsOf(c).first;
  expect(c).toBeGreaterThan(0);
  expect(built.records.span(f).start).toBeGreaterThan(built.reader.layout.start[c]);
  await built.close();
  index = `${path}.sdx`;
  let bytes: Uint8Array = new Uint8Array(readFileSync(index));
  const view = (): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Record f at offset 0 of chunk c, and chunk c - 1's tail (the rest of f - 1's line, in chunk c) emptied.
  view().setUint32(entry(bytes, 'records.offsets').offset + 4 * f, 0, true);
  const to = entry(bytes, 'records.tailOffsets');
  const from = view().getFloat64(to.offset + 8 * (c - 1), true);
  const cut = view().getFloat64(to.offset + 8 * c, true) - from;
  expect(cut).toBeGreaterThan(0);
  for (let k = c; k < to.count; k++) view().setFloat64(to.offset + 8 * k, view().getFloat64(to.offset + 8 * k, true) - cut, true);
  const tails = entry(bytes, 'records.tails');
  const old = bytes.subarray(tails.offset, tails.offset + tails.length);
  const kept = new Uint8Array(old.length - cut);
  kept.set(old.subarray(0, from));
  kept.set(old.subarray(from + cut), from);
  bytes = withPayload(bytes, 'records.tails', kept);
  rechecksum(bytes);
  writeFileSync(index, bytes);
});
afterAll(async () => {
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

function expectCut(error: unknown): void {
  expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
  expect(String(error)).toContain(index);
  expect(String(error)).toMatch(new RegExp(`record (${f} does not start at a line start|${f - 1} does not end at a line end)`));
}

/** Every row yielded must be the truth's, until the error. */
async function epoch(file: Indexed, shuffle: 'exact' | 'chunked' | false): Promise<void> {
  const ds = new ShuffledBatchDataset(file, { features: ['a', 'b'], batchSize: 250, shuffle, seed: 3 });
  for await (const batch of ds) {
    for (let i = 0; i < batch.size; i++) {
      const row = truth[batch.records[i] % truth.length];
      expect(batch.xs[2 * i + 1], `record ${batch.records[i]}`).toBe(row.b);
    }
  }
}

async function opened(parallelism?: 1): Promise<Indexed> {
  const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', ifStale: 'error', ...(parallelism === 1 ? { parallelism: 1 } : { pool }) });
  expect(file.report.status).toBe('loaded');
  return file;
}

describe('a line cut in two at a chunk boundary by a crafted index is CORRUPT_INDEX', () => {
  it.each([
    ['get of the record at the chunk start', (file: Indexed) => file.records.get(f)],
    ['get of the record before it', (file: Indexed) => file.records.get(f - 1)],
    ['getMany of the record at the chunk start', (file: Indexed) => file.records.getMany([f])],
    ['getMany of the record before it', (file: Indexed) => file.records.getMany([f - 1])],
    ['slice from the record at the chunk start', (file: Indexed) => file.records.slice(f, f + 3)],
    ['slice across the boundary', (file: Indexed) => file.records.slice(f - 2, f + 2)],
  ] as const)('%s', async (_, read) => {
    const file = await opened();
    try {
      expectCut(await failure(read(file)));
    } finally {
      await file.close();
    }
  });

  it.each([
    ['file order, parallelism 2', false, undefined],
    ['chunked, parallelism 2', 'chunked', undefined],
    ['exact, parallelism 1', 'exact', 1],
  ] as const)('ShuffledBatchDataset (%s): no wrong row before the error', async (_, shuffle, parallelism) => {
    const file = await opened(parallelism);
    try {
      expectCut(await failure(epoch(file, shuffle)));
    } finally {
      await file.close();
    }
  });

  it('a TimeRangeDataset over the boundary', async () => {
    const file = await opened();
    try {
      const ds = new TimeRangeDataset(file, { features: ['b'], batchSize: 100, from: truth[f - 50].time, to: truth[f + 50].time });
      const run = async (): Promise<void> => {
        for await (const batch of ds) for (let i = 0; i < batch.size; i++) expect(batch.xs[i]).toBe(truth[batch.records[i]].b);
      };
      expectCut(await failure(run()));
    } finally {
      await file.close();
    }
  });

  it.each([
    ['ending with the record before the cut', () => [truth[f - 50].time, truth[f].time]],
    ['starting at the record at the chunk start', () => [truth[f].time, truth[f + 50].time]],
  ] as const)('timeRangeToArrow %s', async (_, range) => {
    const file = await opened();
    try {
      const [from, to] = range();
      expectCut(await failure(timeRangeToArrow(file, from, to)));
    } finally {
      await file.close();
    }
  });

  it('sampleBatches', async () => {
    const file = await opened();
    try {
      const sample = async (): Promise<void> => {
        for await (const batch of sampleBatches(file, { batchSize: 1000, shuffle: false })) {
          batch.numbers.forEach((r, k) => expect(Buffer.from(batch.records[k]).toString()).toBe(lines[r]));
        }
      };
      expectCut(await failure(sample()));
    } finally {
      await file.close();
    }
  });

  it('a collection of the file and an honest one', async () => {
    const coll = await openCollection([path, writeFixture(tmp.sub('honest'), 'honest.csv.bz2', bzip2(csv, 1))], { records: 'csv', timeColumn: 'time', pool });
    try {
      expectCut(await failure(epoch(coll, 'chunked')));
    } finally {
      await coll.close();
    }
  });
});

describe('an honest file whose chunks end at line ends reads exactly from its loaded index', () => {
  it('gzip members of whole lines: records at chunk starts are checked once and read right on every path', async () => {
    // Members of 400 lines each: runs of ~64 KiB of them are the chunks, which then end at a member's end.
    const header = `${csv.toString('utf8').split('\n')[0]}\n`;
    const members: Buffer[] = [gzipSync(Buffer.from(header))];
    for (let at = 0; at < lines.length; at += 400) members.push(gzipSync(Buffer.from(`${lines.slice(at, at + 400).join('\n')}\n`)));
    const gz = writeFixture(tmp.sub('members'), 'members.csv.gz', Buffer.concat(members));
    const options = { records: 'csv' as const, pool, gzipSpacingBytes: 64 << 10 };
    await (await openIndexed(gz, options)).close();
    const file = await openIndexed(gz, { ...options, ifStale: 'error' });
    try {
      expect(file.report.status).toBe('loaded');
      expect(chunksBeginningAtRecords(file)).toBeGreaterThan(5);
      await epoch(file, 'chunked');
      await epoch(file, false);
      const some = [0, 399, 400, 401, 7999, 8000, lines.length - 1];
      expect((await file.records.getMany(some)).map((b) => Buffer.from(b).toString())).toEqual(some.map((r) => lines[r]));
      for (const r of some) expect(await file.records.text(r)).toBe(lines[r]);
      expect((await file.records.slice(398, 403)).map((b) => Buffer.from(b).toString())).toEqual(lines.slice(398, 403));
    } finally {
      await file.close();
    }
  });
});
