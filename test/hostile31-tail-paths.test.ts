/**
 * A loaded index whose stored tail of a middle chunk differs from the data (one byte flipped, checksums
 * recomputed) must be CORRUPT_INDEX naming the index file on every path whose records need that tail, whichever
 * chunk a job reaches first: a time range, an exact shuffle (whose rounds parse only some records of a chunk), the
 * shard that holds the chunk, a collection's member, the calling thread (parallelism 1), and several epochs at
 * once over one file. The shard that holds neither the chunk nor its successor reads right rows. No rejection may
 * go unhandled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, isSeekdataError, openCollection, openIndexed, ShuffledBatchDataset, TimeRangeDataset, WorkerPool, type Batch, type Indexed } from '../src/index.js';
import { ChunkedOrder } from '../src/datasets/order.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';
import { entry, rechecksum } from './support/sdx.js';

const tmp = tempDir();
const { csv, rows: truth } = datasetFixture(24_000);
const pool = new WorkerPool({ size: 2 });
const STAMP = 1_700_000_000;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
let path = '';
let honest = '';
/** The chunk whose stored tail is wrong. */
let crafted = 0;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  honest = writeFixture(tmp.sub('honest'), 'honest.csv.bz2', bzip2(csv, 1));
  path = join(tmp.sub('crafted'), 'crafted.csv.bz2');
  copyFileSync(honest, path);
  for (const p of [honest, path]) {
    utimesSync(p, STAMP, STAMP);
    await (await openIndexed(p, { records: 'csv', timeColumn: 'time', pool })).close();
  }
  const index = new Uint8Array(readFileSync(`${path}.sdx`));
  const stored = entry(index, 'records.tailStored');
  const chunks = stored.count;
  expect(chunks).toBeGreaterThan(8);
  crafted = Math.floor(chunks / 2);
  while (index[stored.offset + crafted] !== 1) crafted++;
  const at = new DataView(index.buffer).getFloat64(entry(index, 'records.tailOffsets').offset + 8 * crafted, true);
  index[entry(index, 'records.tails').offset + at] ^= 0x01;
  rechecksum(index);
  writeFileSync(`${path}.sdx`, index);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

/** Every batch's rows against the truth (a collection holds two copies of the file); the first error, or undefined. */
async function drain(batches: AsyncIterable<Batch>): Promise<unknown> {
  try {
    for await (const batch of batches) {
      for (let i = 0; i < batch.size; i++) expect(batch.xs[i], `record ${batch.records[i]}`).toBe(truth[batch.records[i] % truth.length].b);
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

function expectCorrupt(error: unknown): void {
  expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
  expect(String(error)).toContain(`${path}.sdx`);
  expect(String(error)).toContain(`stored tail of chunk ${crafted} differs`);
}

const ds = (file: Indexed, options: Record<string, unknown>): ShuffledBatchDataset => new ShuffledBatchDataset(file, { features: ['b'], batchSize: 400, seed: 4, ...options });

describe('a crafted stored tail on every read path', () => {
  it.each([1, 2])('a time range, an exact shuffle, a chunked epoch (parallelism %i, no cache)', async (parallelism) => {
    const file = await openIndexed(path, { records: 'csv', cacheBytes: 1, ifStale: 'error', ...(parallelism === 1 ? { parallelism: 1 } : { pool }) });
    try {
      expect(file.report.status).toBe('loaded');
      expectCorrupt(await drain(new TimeRangeDataset(file, { from: truth[0].time, to: truth[truth.length - 1].time + 1, features: ['b'], batchSize: 400 })));
      expectCorrupt(await drain(ds(file, { shuffle: 'exact', shuffleMemoryBytes: 150_000 })));
      expectCorrupt(await drain(ds(file, { shuffle: 'chunked', windowChunks: 2 })));
    } finally {
      await file.close();
    }
  });

  it('shards: the rank holding the chunk reports it; a rank holding neither it nor its successor reads right rows', async () => {
    const file = await openIndexed(path, { records: 'csv', pool, ifStale: 'error' });
    try {
      const worldSize = 4;
      const params = (rank: number): ConstructorParameters<typeof ChunkedOrder>[1] => ({ mode: 'chunked', seed: 4, epoch: 0, rank, worldSize, windowChunks: 2 });
      const chunksOf = (rank: number): number[] => new ChunkedOrder(file.records, params(rank)).chunks;
      const holding = [0, 1, 2, 3].filter((r) => chunksOf(r).includes(crafted));
      const clear = [0, 1, 2, 3].filter((r) => !chunksOf(r).includes(crafted) && !chunksOf(r).includes(crafted + 1));
      expect(holding.length).toBeGreaterThan(0);
      expect(clear.length).toBeGreaterThan(0);
      for (const rank of holding) expectCorrupt(await drain(ds(file, { shuffle: 'chunked', windowChunks: 2, rank, worldSize })));
      for (const rank of clear) expect(await drain(ds(file, { shuffle: 'chunked', windowChunks: 2, rank, worldSize }))).toBeUndefined();
    } finally {
      await file.close();
    }
  });

  it('a collection of an honest copy and the crafted file: the crafted member is named', async () => {
    const coll = await openCollection([honest, path], { records: 'csv', pool, cacheBytes: 1 });
    try {
      expectCorrupt(await drain(ds(coll, { shuffle: 'chunked', windowChunks: 2 })));
    } finally {
      await coll.close();
    }
  });

  it('three epochs at once over one file: each reports it, and nothing is left unhandled', async () => {
    const file = await openIndexed(path, { records: 'csv', pool, cacheBytes: 1, ifStale: 'error' });
    try {
      const errors = await Promise.all([1, 2, 3].map((seed) => drain(ds(file, { shuffle: 'chunked', windowChunks: 2, seed }))));
      errors.forEach(expectCorrupt);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      await file.close();
    }
  });
});
