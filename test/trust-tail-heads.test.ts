/**
 * A loaded index's stored tail of chunk c is checked for free when chunk c + 1 is decoded for its own rows:
 * the rows job sends back the chunk's first bytes (RecordIndex.headComing). bzip2 has no prefix decode, so
 * before this a tail check decoded chunk c + 1 whole, and its rows job decoded it again: a shuffled first
 * epoch over a loaded index did about two decodes per chunk. The check stays as strict: a crafted tail is
 * CORRUPT_INDEX whichever chunk is loaded first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, isSeekdataError, openCollection, openIndexed, ShuffledBatchDataset, WorkerPool, type IndexedFile } from '../src/index.js';
import { ChunkedOrder } from '../src/datasets/order.js';
import { loadChunkRows, type ChunkRows, type RecordSelection } from '../src/datasets/rows.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';
import { entry, rechecksum } from './support/sdx.js';

const tmp = tempDir();
const { csv, rows: truth } = datasetFixture(60_000);
/** Four times as many chunks, for an epoch in which few chunks' loads start together. */
const big = datasetFixture(240_000, 3);
const pool = new WorkerPool({ size: 2 });
/** No chunk fits the reader's cache: every decode a tail check asks for is counted, none is reused. */
const open = { records: 'csv', pool, cacheBytes: 1, ifStale: 'error' } as const;
let path = '';
let bigPath = '';

beforeAll(async () => {
  // ~3.5 MB of CSV in 100 kB bzip2 blocks; the index built and saved, so every test loads it from disk.
  path = writeFixture(tmp.dir, 'heads.csv.bz2', bzip2(csv, 1));
  bigPath = writeFixture(tmp.dir, 'heads-big.csv.bz2', bzip2(big.csv, 1));
  for (const p of [path, bigPath]) await (await openIndexed(p, { records: 'csv', pool })).close();
});
afterAll(async () => {
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

function specOf(file: Parameters<typeof loadChunkRows>[0]): Parameters<typeof loadChunkRows>[2] {
  return new ShuffledBatchDataset(file, { features: ['b'], labels: 'label', batchSize: 256, shuffle: false }).spec;
}

/** The rows must be those of the generator, record by record. */
function expectTruth(loaded: ChunkRows, base = 0): void {
  const { rows } = loaded;
  expect(rows.rows).toBeGreaterThan(0);
  for (let k = 0; k < rows.rows; k++) {
    const row = truth[rows.records[k] - base];
    expect([rows.features[k], rows.labels[k]]).toEqual([row.b, row.label]);
  }
}

/** A chunk in the middle whose tail the index stores (its last record runs into the next chunk). */
function chunkWithTail(file: IndexedFile): number {
  const stored = file.records.tails.stored;
  for (let c = Math.floor(stored.length / 2); c + 2 < stored.length; c++) if (stored[c] === 1) return c;
  throw new Error('no chunk with a stored tail');
}

/** The decompressed bytes from chunk c's end that its tail must be: the plain CSV is the truth. */
function truthTail(file: IndexedFile, c: number): Uint8Array {
  const tail = file.records.tailOf(c);
  const start = file.reader.layout.start[c + 1];
  return new Uint8Array(csv.subarray(start, start + (tail?.length ?? 0)));
}

describe('the rows job of chunk c + 1 checks the stored tail of chunk c', () => {
  const selections: Array<[string, (first: number, end: number) => RecordSelection | undefined]> = [
    ['all its records', () => undefined],
    ['one record of it (a shard’s share)', (first) => ({ first: first + 1, end: first + 2 })],
  ];
  it.each(selections)('chunk c + 1 loaded first (%s): verifyTail(c) then decodes nothing', async (_, select) => {
    const file = await openIndexed(path, open);
    try {
      expect(file.report.status).toBe('loaded');
      const c = chunkWithTail(file);
      expect(file.records.tailOf(c)).toBeUndefined();
      const { first, end } = file.records.recordsOf(c + 1);
      expectTruth(await loadChunkRows(file, c + 1, specOf(file), undefined, select(first, end)));
      const decodes = file.reader.stats.decodes;
      const jobs = pool.stats.jobs;
      await file.records.verifyTail(c);
      // Before: a verified read of chunk c + 1 (bzip2 has no prefix decode), one more decode and job.
      expect(file.reader.stats.decodes - decodes).toBe(0);
      expect(pool.stats.jobs - jobs).toBe(0);
      expect(file.records.tailOf(c)).toEqual(truthTail(file, c));
      // Chunk c's last record is completed from the tail just checked.
      const own = await loadChunkRows(file, c, specOf(file));
      expectTruth(own);
      expect(own.rows.records[own.rows.rows - 1]).toBe(file.records.recordsOf(c).end - 1);
    } finally {
      await file.close();
    }
  });

  it('a tail check asked for while chunk c + 1 is being decoded for its rows waits for that job', async () => {
    const file = await openIndexed(path, open);
    try {
      const c = chunkWithTail(file);
      // Chunk c + 1's own tail checked first, so that its load posts its job at once.
      await file.records.verifyTail(c + 1);
      const decodes = file.reader.stats.decodes;
      const jobs = pool.stats.jobs;
      const loading = loadChunkRows(file, c + 1, specOf(file));
      await new Promise((resolve) => setImmediate(resolve));
      await file.records.verifyTail(c);
      expectTruth(await loading);
      // One job, one decode: chunk c + 1's rows job (before: a second decode for the tail check).
      expect(file.reader.stats.decodes - decodes).toBe(1);
      expect(pool.stats.jobs - jobs).toBe(1);
      expect(file.records.tailOf(c)).toEqual(truthTail(file, c));
    } finally {
      await file.close();
    }
  });

  it('a chunked first epoch decodes a successor again only when it comes after its chunk', async () => {
    const file = await openIndexed(bigPath, open);
    try {
      const chunks = file.reader.layout.count;
      const ds = new ShuffledBatchDataset(file, { features: ['b'], labels: 'label', batchSize: 256, shuffle: 'chunked', seed: 5, windowChunks: 2 });
      // Loads start in the order's slot order: the tail of chunk c needs a decode of its own when chunk
      // c + 1's slot is later (its rows job has not run yet), and may need one when c + 1's load started
      // shortly before c's (its job not posted yet: its own tail check comes first); never otherwise.
      const slots = new ChunkedOrder(file.records, { mode: 'chunked', seed: 5, epoch: 0, rank: 0, worldSize: 1, windowChunks: 2 }).chunks;
      const slotOf = new Map(slots.map((chunk, slot) => [chunk, slot] as const));
      // "Shortly": within the window (2 chunks), the read-ahead and the two the window may take on at once.
      const together = 2 + file.readAhead + 2;
      let tails = 0;
      let later = 0;
      let near = 0;
      for (let c = 0; c + 1 < chunks; c++) {
        if (file.records.tails.stored[c] === 0) continue;
        tails++;
        const after = (slotOf.get(c) ?? 0) - (slotOf.get(c + 1) ?? 0);
        if (after < 0) later++;
        else if (after <= together) near++;
      }
      let n = 0;
      for await (const batch of ds) {
        for (let i = 0; i < batch.size; i++) expect(batch.xs[i]).toBe(big.rows[batch.records[i]].b);
        n += batch.size;
      }
      expect(n).toBe(big.rows.length);
      expect(chunks).toBeGreaterThan(100);
      // Before: a decode of chunk c + 1 for every tail (bar a few shared with a rows job in flight), about
      // 2 x chunks (227 here); the bound must be well below that to mean anything.
      expect(later + near).toBeLessThanOrEqual(0.75 * tails);
      expect(file.reader.stats.decodes).toBeLessThanOrEqual(chunks + later + near);
    } finally {
      await file.close();
    }
  });
});

/** A whole second, so that the copy's modification time is the one its index records. */
const STAMP = 1_700_000_000;

/** A copy of the fixture whose index stores a wrong tail for a middle chunk (one byte flipped). */
async function craftedCopy(name: string): Promise<{ path: string; chunk: number }> {
  const copy = join(tmp.dir, name);
  copyFileSync(path, copy);
  utimesSync(copy, STAMP, STAMP);
  const file = await openIndexed(copy, { records: 'csv', pool });
  const chunk = chunkWithTail(file);
  await file.close();
  const index = new Uint8Array(readFileSync(`${copy}.sdx`));
  const at = new DataView(index.buffer).getFloat64(entry(index, 'records.tailOffsets').offset + 8 * chunk, true);
  index[entry(index, 'records.tails').offset + at] ^= 0x01;
  rechecksum(index);
  writeFileSync(`${copy}.sdx`, index);
  return { path: copy, chunk };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('a crafted stored tail is CORRUPT_INDEX whichever chunk is loaded first', () => {
  it('chunk c + 1 loaded first: its load reports the tail of chunk c, and so does verifyTail(c)', async () => {
    const crafted = await craftedCopy('crafted-successor.csv.bz2');
    const file = await openIndexed(crafted.path, open);
    try {
      expect(file.report.status).toBe('loaded');
      const error = await failure(loadChunkRows(file, crafted.chunk + 1, specOf(file)));
      expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
      expect(String(error)).toContain(`stored tail of chunk ${crafted.chunk} differs`);
      const again = await failure(file.records.verifyTail(crafted.chunk));
      expect(isSeekdataError(again, 'CORRUPT_INDEX'), String(again)).toBe(true);
      expect(file.records.tailOf(crafted.chunk)).toBeUndefined();
    } finally {
      await file.close();
    }
  });

  it('chunk c loaded first: its own tail check reports it', async () => {
    const crafted = await craftedCopy('crafted-first.csv.bz2');
    const file = await openIndexed(crafted.path, open);
    try {
      const error = await failure(loadChunkRows(file, crafted.chunk, specOf(file)));
      expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
      expect(String(error)).toContain(`stored tail of chunk ${crafted.chunk} differs`);
    } finally {
      await file.close();
    }
  });
});

describe('collections: only a chunk of the same file checks a tail', () => {
  it('the first chunk of the second file checks nothing; its second chunk checks the file’s first tail', async () => {
    const dir = join(tmp.dir, 'collection');
    mkdirSync(dir);
    copyFileSync(path, join(dir, 'a.csv.bz2'));
    copyFileSync(path, join(dir, 'b.csv.bz2'));
    await (await openCollection(join(dir, '*'), { records: 'csv', pool })).close();
    const coll = await openCollection(join(dir, '*'), open);
    try {
      const base = coll.records.count - truth.length;
      const firstOfB = coll.records.chunkOf(base);
      expect(coll.records.headSpan(firstOfB)).toBe(0);
      expect(coll.records.headSpan(firstOfB + 1)).toBeGreaterThan(0);
      expectTruth(await loadChunkRows(coll, firstOfB + 1, specOf(coll)), base);
      const home = coll.locate(base);
      const decodes = home.file.reader.stats.decodes;
      await coll.records.verifyTail(firstOfB);
      expect(home.file.reader.stats.decodes - decodes).toBe(0);
      expect(home.file.records.tailOf(0)).toEqual(truthTail(home.file, 0));
    } finally {
      await coll.close();
    }
  });
});
