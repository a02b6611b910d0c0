/**
 * A loaded index's record offsets are untrusted: a record cut out of a chunk must start at a line start, or
 * the index is CORRUPT_INDEX (README, "The index file"). `records.get` / `getMany` / `slice` checked it; the
 * datasets' parse jobs and `sampleBatches` did not: an offset moved past a comma inside its line made a
 * dataset yield the line's later fields as the record's (a wrong row, silently) and `sampleBatches` print
 * the cut line as the record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { closeSharedPool, isSeekdataError, openCollection, openIndexed, sampleBatches, ShuffledBatchDataset, WorkerPool, type Indexed } from '../src/index.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';
import { entry, rechecksum } from './support/sdx.js';

const tmp = tempDir();
const { csv, rows: truth } = datasetFixture(20_000);
const lines = csv.toString('utf8').split('\n').slice(1, -1);
const pool = new WorkerPool({ size: 2 });
/** A whole second, so that the copy's modification time is the one its index records. */
const STAMP = 1_700_000_000;
/** A record in the middle of a chunk (bzip2 -1: 100 kB blocks, about 1,700 records each). */
const R = 3000;
let path = '';
let index = '';

beforeAll(async () => {
  const dir = tmp.sub('crafted');
  path = writeFixture(dir, 'crafted.csv.bz2', bzip2(csv, 1));
  utimesSync(path, STAMP, STAMP);
  const built = await openIndexed(path, { records: 'csv', pool });
  const chunk = built.records.chunkOf(R);
  expect(built.records.recordsOf(chunk).first).toBeLessThan(R);
  await built.close();
  // Record R's offset moved to just after the first comma of its line: "7.172,7,y,…" then reads as a
  // record whose field `a` is the line's `b`.
  index = `${path}.sdx`;
  const bytes = new Uint8Array(readFileSync(index));
  const offsets = entry(bytes, 'records.offsets');
  expect(offsets.length / offsets.count).toBe(4);
  const view = new DataView(bytes.buffer);
  view.setUint32(offsets.offset + 4 * R, view.getUint32(offsets.offset + 4 * R, true) + lines[R].indexOf(',') + 1, true);
  rechecksum(bytes);
  writeFileSync(index, bytes);
});
afterAll(async () => {
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Every row the dataset yields must be the truth's (none may read another part of a line). */
async function epoch(file: Indexed, shuffle: 'exact' | 'chunked' | false): Promise<void> {
  const ds = new ShuffledBatchDataset(file, { features: ['a'], batchSize: 500, shuffle, seed: 1 });
  for await (const batch of ds) {
    for (let i = 0; i < batch.size; i++) {
      const row = truth[batch.records[i] % truth.length];
      // A float32 feature (a missing value is filled in: not compared).
      if (row.a !== null) expect(batch.xs[i] - Math.fround(row.a), `record ${batch.records[i]}: ${batch.xs[i]}`).toBe(0);
    }
  }
}

function expectCorrupt(error: unknown): void {
  expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
  expect(String(error)).toContain(index);
  // Record R's start was moved into its line: R - 1 then ends inside the line, which paths that see its end report first.
  expect(String(error)).toMatch(new RegExp(`record (${R} does not start at a line start|${R - 1} does not end at a line end)`));
}

describe('a loaded record offset that is not at a line start is CORRUPT_INDEX on every read path', () => {
  it('records.get: the reference behaviour', async () => {
    const file = await openIndexed(path, { records: 'csv', pool, ifStale: 'error' });
    try {
      expect(file.report.status).toBe('loaded');
      expectCorrupt(await failure(file.records.get(R)));
    } finally {
      await file.close();
    }
  });

  it.each([
    ['file order, parallelism 2', false, 2],
    ['chunked, parallelism 2', 'chunked', 2],
    ['exact, parallelism 1', 'exact', 1],
  ] as const)('ShuffledBatchDataset (%s)', async (_, shuffle, parallelism) => {
    const file = await openIndexed(path, { records: 'csv', ifStale: 'error', ...(parallelism === 1 ? { parallelism: 1 } : { pool }) });
    try {
      expectCorrupt(await failure(epoch(file, shuffle)));
    } finally {
      await file.close();
    }
  });

  it('a collection of the file and an honest one: the crafted member is named', async () => {
    const coll = await openCollection([path, writeFixture(tmp.sub('honest'), 'honest.csv.bz2', bzip2(csv, 1))], { records: 'csv', pool });
    try {
      expectCorrupt(await failure(epoch(coll, false)));
    } finally {
      await coll.close();
    }
  });

  it('sampleBatches', async () => {
    const file = await openIndexed(path, { records: 'csv', pool, ifStale: 'error' });
    try {
      const sample = async (): Promise<void> => {
        for await (const batch of sampleBatches(file, { batchSize: 1000, shuffle: false })) {
          batch.numbers.forEach((r, k) => expect(Buffer.from(batch.records[k]).toString()).toBe(lines[r]));
        }
      };
      expectCorrupt(await failure(sample()));
    } finally {
      await file.close();
    }
  });
});
