/**
 * A loaded index's record tails are checked against the data before use (RecordIndex.verifyTail), and
 * that check must not double the decoding of a first epoch. It used to decode the NEXT chunk whole (and
 * the dataset then decoded that chunk again for its own rows): about two decodes per chunk. Now xz and
 * plain compare the tail with a prefix of the next unit (a few KiB decoded), and a chunk that a tail
 * check decoded whole (bzip2) is reused from the cache by the job that parses it. The check itself stays
 * as strict: a crafted tail is CORRUPT_INDEX, damaged data is CORRUPT_DATA.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { closeSharedPool, isSeekdataError, openIndexed, ShuffledBatchDataset, WorkerPool, type IndexedFile, type ReaderStats } from '../src/index.js';
import { bzip2, tempDir, writeFixture, xz } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';
import { entry, rechecksum } from './support/sdx.js';

const tmp = tempDir();
const { csv, rows: truth } = datasetFixture(60_000);
/** Plain spans are 1 MiB: a larger file, for enough of them. */
const plain = datasetFixture(160_000, 2);
const fixtures: Record<string, string> = {};
const pool = new WorkerPool({ size: 2 });

beforeAll(async () => {
  // ~3.5 MB of CSV: 128 KiB xz blocks, 100 kB bzip2 blocks (and ~9 MB of plain CSV in 1 MiB spans);
  // indexes built and saved, so every test below runs on an index LOADED from disk (tails not yet checked).
  fixtures.xz = writeFixture(tmp.dir, 'tails.csv.xz', xz(csv, '--block-size=128KiB'));
  fixtures.bzip2 = writeFixture(tmp.dir, 'tails.csv.bz2', bzip2(csv, 1));
  fixtures.plain = writeFixture(tmp.dir, 'tails.csv', plain.csv);
  for (const path of Object.values(fixtures)) await (await openIndexed(path, { records: 'csv', pool })).close();
});
afterAll(async () => {
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

/** One epoch over a loaded index: the reader's counts, and every row checked against the truth. */
async function epoch(path: string, shuffle: 'chunked' | false, cacheBytes: number, rows = truth): Promise<{ stats: ReaderStats; chunks: number }> {
  const file = await openIndexed(path, { records: 'csv', pool, cacheBytes, ifStale: 'error' });
  try {
    expect(file.report.status).toBe('loaded');
    const ds = new ShuffledBatchDataset(file, { features: ['b'], labels: 'label', batchSize: 256, shuffle, seed: 5, windowChunks: 8 });
    const seen = new Set<number>();
    const wrong: number[] = [];
    for await (const batch of ds) {
      for (let i = 0; i < batch.size; i++) {
        const row = rows[batch.records[i]];
        if (batch.xs[i] !== row.b || batch.ys?.[i] !== row.label) wrong.push(row.record);
        seen.add(batch.records[i]);
      }
    }
    expect(wrong).toEqual([]);
    expect(seen.size).toBe(rows.length);
    return { stats: { ...file.reader.stats }, chunks: file.reader.layout.count };
  } finally {
    await file.close();
  }
}

describe('the tail check of a loaded index costs no second decode', () => {
  it.each(['xz', 'plain'])('%s, chunked shuffle, 1 MiB cache: one decode per chunk, tails checked on prefixes', async (format) => {
    const { stats, chunks } = await epoch(fixtures[format], 'chunked', 1 << 20, format === 'plain' ? plain.rows : truth);
    expect(chunks).toBeGreaterThan(6);
    // Before: each tail check decoded the next chunk whole, about 2 x chunks decodes.
    expect(stats.decodes).toBeLessThanOrEqual(chunks + 1);
    expect(stats.prefixDecodes).toBeGreaterThanOrEqual(Math.floor(chunks / 2));
  });

  it('bzip2 in file order: the chunk a tail check decoded is parsed from the cache, not decoded again', async () => {
    const { stats, chunks } = await epoch(fixtures.bzip2, false, 64 << 20);
    expect(chunks).toBeGreaterThan(20);
    // Before: ~2 x chunks (the tail check's decode of chunk c + 1, then the parse job's own).
    expect(stats.decodes).toBeLessThanOrEqual(chunks + 1);
    expect(stats.cacheHits).toBeGreaterThanOrEqual(chunks - 2);
    expect(stats.prefixDecodes).toBe(0);
  });

  it('bzip2, chunked shuffle, 1 MiB cache: at most one extra decode per chunk, and some reuse', async () => {
    const { stats, chunks } = await epoch(fixtures.bzip2, 'chunked', 1 << 20);
    // bzip2 has no cheap prefix: a tail check decodes the next block whole (into the cache). In a shuffled
    // order that block's own turn often comes after a 1 MiB cache (~10 blocks) has dropped it.
    expect(stats.decodes).toBeLessThanOrEqual(2 * chunks + 1);
    expect(stats.cacheHits).toBeGreaterThan(0);
  });
});

/** A whole second, so that a damaged copy can be given back its modification time exactly. */
const STAMP = 1_700_000_000;

/** A copy of the xz fixture with its index built, and a chunk whose tail the index stores. */
async function xzCopy(name: string): Promise<{ path: string; chunk: number; nextStart: number }> {
  const path = `${tmp.dir}/${name}`;
  copyFileSync(fixtures.xz, path);
  utimesSync(path, STAMP, STAMP);
  const file: IndexedFile = await openIndexed(path, { records: 'csv', parallelism: 1 });
  try {
    // A chunk in the middle (its next block is outside the fingerprint's first and last 64 KiB) with a stored tail.
    const units = file.reader.units;
    const size = statSync(path).size;
    let chunk = -1;
    for (let c = 0; c + 1 < units.count && chunk < 0; c++) {
      if (file.records.tails.stored[c] === 1 && units.cStart[c + 1] > 70_000 && units.cEnd[c + 1] < size - 70_000) chunk = c;
    }
    expect(chunk).toBeGreaterThanOrEqual(0);
    return { path, chunk, nextStart: units.cStart[chunk + 1] };
  } finally {
    await file.close();
  }
}

describe('the cheap tail check is as strict as the old one', () => {
  it('xz: a crafted stored tail is CORRUPT_INDEX (found on the next block’s prefix)', async () => {
    const { path, chunk } = await xzCopy('crafted.csv.xz');
    const index = new Uint8Array(readFileSync(`${path}.sdx`));
    const offsets = entry(index, 'records.tailOffsets');
    const at = new DataView(index.buffer).getFloat64(offsets.offset + 8 * chunk, true);
    const tails = entry(index, 'records.tails');
    index[tails.offset + at] ^= 0x01;
    rechecksum(index);
    writeFileSync(`${path}.sdx`, index);
    const file = await openIndexed(path, { records: 'csv', ifStale: 'error', parallelism: 1 });
    try {
      expect(file.report.status).toBe('loaded');
      const error = await file.records.verifyTail(chunk).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
      expect(file.reader.stats.prefixDecodes).toBe(1);
    } finally {
      await file.close();
    }
  });

  it('xz: data damaged after indexing makes the tail check CORRUPT_DATA (a verified read decides), not CORRUPT_INDEX', async () => {
    const { path, chunk, nextStart } = await xzCopy('damaged.csv.xz');
    const data = readFileSync(path);
    // Into the LZMA2 data of the next block, right after its header: its first decoded bytes change.
    const header = (data[nextStart] + 1) * 4;
    data[nextStart + header + 6] ^= 0x40;
    writeFileSync(path, data);
    utimesSync(path, STAMP, STAMP);
    const file = await openIndexed(path, { records: 'csv', ifStale: 'error', parallelism: 1 });
    try {
      expect(file.report.status).toBe('loaded');
      const error = await file.records.verifyTail(chunk).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSeekdataError(error, 'CORRUPT_DATA'), String(error)).toBe(true);
    } finally {
      await file.close();
    }
  });
});
