/**
 * Records, the time index and the datasets on gzip and zstd files, against the truth the test generated:
 * every kind of file (gzip single-member with checkpoints, BGZF, multi-member; zstd frames, one frame read
 * in pieces, pzstd and a pipe, which need the decoding scan), built by the one indexing pass and loaded
 * again: record counts and contents, time ranges against a brute-force filter, a ShuffledBatchDataset
 * epoch (every valid record exactly once), a TimeRangeDataset against a filter.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed, ShuffledBatchDataset, TimeRangeDataset, type Batch, type IndexedFile, type IndexedOptions } from '../src/index.js';
import { datasetFixture } from './support/dataset-fixture.js';
import { prng, tempDir, writeFixture } from './support/fixtures.js';
import { bgzip, gzip, pigz } from './support/gzip-fixtures.js';
import { pzstd, zstdFile, zstdPipe } from './support/zstd.js';

const N = 12_000;
const { csv, rows } = datasetFixture(N, 5);
const lines = csv.toString('utf8').split('\n').slice(1, -1);
const tmp = tempDir('seekdata-formats-records-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const third = Math.floor(csv.length / 3);
const variants: Array<[string, Buffer, Partial<IndexedOptions>]> = [
  ['single.csv.gz', gzip(csv, '-6'), { gzipSpacingBytes: 64 << 10 }],
  ['pigz.csv.gz', pigz(csv, '-p', '2'), { gzipSpacingBytes: 64 << 10, parallelism: 1 }],
  ['bgzf.csv.gz', bgzip(csv), { gzipSpacingBytes: 64 << 10 }],
  ['members.csv.gz', Buffer.concat([gzip(csv.subarray(0, third)), gzip(csv.subarray(third, 2 * third), '-1'), gzip(csv.subarray(2 * third))]), {}],
  ['frames.csv.zst', Buffer.concat([zstdFile(csv.subarray(0, third)), zstdFile(csv.subarray(third, 2 * third), '--no-check'), zstdFile(csv.subarray(2 * third))]), {}],
  ['one-frame.csv.zst', zstdFile(csv, '-19'), { bigUnitBytes: 200_000, pieceBytes: 64_000 }],
  ['pzstd.csv.zst', pzstd(csv, '-p', '2'), { parallelism: 1 }],
  ['pipe.csv.zst', zstdPipe(csv), {}],
];

async function collect(ds: AsyncIterable<Batch>): Promise<number[]> {
  const records: number[] = [];
  for await (const b of ds) records.push(...b.records);
  return records;
}

async function check(file: IndexedFile, label: string): Promise<void> {
  expect(file.records.count, label).toBe(N);
  const rand = prng(label.length);
  const picks = Array.from({ length: 300 }, () => Math.floor(rand() * N));
  for (const i of picks.slice(0, 40)) expect(await file.records.text(i), `${label} record ${i}`).toBe(lines[i]);
  const decoder = new TextDecoder();
  const many = await file.records.getMany(picks);
  picks.forEach((i, k) => expect(decoder.decode(many[k]), `${label} getMany ${i}`).toBe(lines[i]));
  // Time ranges against a brute-force filter (records in time order; ties by record number).
  for (let q = 0; q < 30; q++) {
    const t0 = rows[0].time + Math.floor(rand() * (rows[N - 1].time - rows[0].time));
    const t1 = t0 + Math.floor(rand() * 3_600_000);
    const want = rows.filter((r) => r.time >= t0 && r.time < t1).map((r) => r.record);
    expect(Array.from(file.range(t0, t1)), `${label} [${t0}, ${t1})`).toEqual(want);
  }
}

describe.each(variants)('%s', (name, bytes, options) => {
  it('records and time index: built by the one pass, then loaded, equal the truth', async () => {
    const path = writeFixture(tmp.dir, name, bytes);
    for (const expected of ['built', 'loaded']) {
      const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', ifStale: 'error', ...options });
      try {
        expect(file.report.status).toBe(expected);
        await check(file, `${name} (${expected})`);
      } finally {
        await file.close();
      }
    }
  });

  it('a ShuffledBatchDataset epoch yields every valid record once; a TimeRangeDataset equals a filter', async () => {
    const path = writeFixture(tmp.dir, `ds-${name}`, bytes);
    const file = await openIndexed(path, { records: 'csv', timeColumn: 'time', cacheBytes: 300_000, ...options });
    try {
      const valid = rows.filter((r) => !r.bad).map((r) => r.record);
      for (const shuffle of ['exact', 'chunked'] as const) {
        const ds = new ShuffledBatchDataset(file, { batchSize: 64, labels: 'label', features: ['a', 'b', 'cat'], shuffle, seed: 3, windowChunks: 2, onWarning: () => undefined });
        const got = await collect(ds);
        expect([...got].sort((x, y) => x - y), `${name} ${shuffle}`).toEqual(valid);
        expect(got, `${name} ${shuffle}`).not.toEqual(valid);
      }
      const from = rows[2000].time;
      const to = rows[7000].time;
      const ranged = await collect(new TimeRangeDataset(file, { features: ['a', 'b'], labels: 'label', batchSize: 50, from, to, onWarning: () => undefined }));
      expect(ranged).toEqual(rows.filter((r) => r.time >= from && r.time < to && !r.bad).map((r) => r.record));
    } finally {
      await file.close();
    }
  });
});
