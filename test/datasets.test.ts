/**
 * Datasets against the generated truth: every record exactly once per epoch, seeded orders, shards,
 * resume, uniformity of the exact shuffle, parsed values, policies, and worker failures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, FeistelPermutation, openIndexed, ShuffledBatchDataset, SequentialStream, WorkerPool, type Batch, type IndexedFile, type ShuffledBatchOptions } from '../src/index.js';
import { bzip2, tempDir, writeFixture, xz } from './support/fixtures.js';
import { CATS, datasetFixture } from './support/dataset-fixture.js';
import { runTsx } from './support/process.js';

const N = 20_000;
const { csv, rows } = datasetFixture(N);
const tmp = tempDir();
let bzFile: IndexedFile;
let xzFile: IndexedFile;
const valid = rows.filter((r) => !r.bad).map((r) => r.record);

beforeAll(async () => {
  bzFile = await openIndexed(writeFixture(tmp.dir, 'ds.csv.bz2', bzip2(csv, 1)), { records: 'csv', timeColumn: 'time', cacheBytes: 800_000 });
  xzFile = await openIndexed(writeFixture(tmp.dir, 'ds.csv.xz', xz(csv, '--block-size=48KiB')), { records: 'csv', timeColumn: 'time' });
});
afterAll(async () => {
  await bzFile.close();
  await xzFile.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function collect(ds: AsyncIterable<Batch>): Promise<{ records: number[]; batches: Batch[] }> {
  const records: number[] = [];
  const batches: Batch[] = [];
  for await (const b of ds) {
    batches.push(b);
    records.push(...b.records);
  }
  return { records, batches };
}

const base: ShuffledBatchOptions = { batchSize: 100, labels: 'label', features: ['a', 'b', 'cat'] };

describe.each(['exact', 'chunked', false] as const)('shuffle %s', (shuffle) => {
  it('yields every valid record exactly once per epoch, in seeded orders that differ between epochs', async () => {
    for (const file of [bzFile, xzFile]) {
      const ds = new ShuffledBatchDataset(file, { ...base, shuffle, seed: 7, windowChunks: 3 });
      const first = await collect(ds);
      expect([...first.records].sort((x, y) => x - y)).toEqual(valid);
      expect(ds.skipped).toBe(N - valid.length);
      expect(ds.skippedExamples[0].reason).toMatch(/a is not a number/);
      expect(first.batches.slice(0, -1).every((b) => b.size === 100)).toBe(true);
      expect(ds.epoch).toBe(1);
      const second = await collect(ds);
      expect([...second.records].sort((x, y) => x - y)).toEqual(valid);
      if (shuffle === false) expect(second.records).toEqual(valid);
      else expect(second.records).not.toEqual(first.records);
      // A new dataset with the same seed and epoch repeats the order.
      const again = new ShuffledBatchDataset(file, { ...base, shuffle, seed: 7, windowChunks: 3, epoch: 1 });
      expect((await collect(again)).records).toEqual(second.records);
    }
  });

  it('shards together cover each epoch, equal in batches (20,000 records over 3 ranks: one padding repeat)', async () => {
    const all: number[] = [];
    const batches: number[] = [];
    for (let rank = 0; rank < 3; rank++) {
      const ds = new ShuffledBatchDataset(bzFile, { ...base, shuffle, seed: 3, rank, worldSize: 3 });
      const got = await collect(ds);
      all.push(...got.records);
      batches.push(got.batches.length);
    }
    expect(new Set(batches).size).toBe(1);
    expect([...new Set(all)].sort((x, y) => x - y)).toEqual(valid);
    expect(all.length - valid.length).toBeLessThanOrEqual(1);
  });

  it('state() resumes exactly where the dataset stopped', async () => {
    const full = await collect(new ShuffledBatchDataset(bzFile, { ...base, shuffle, seed: 11, epoch: 2 }));
    const ds = new ShuffledBatchDataset(bzFile, { ...base, shuffle, seed: 11, epoch: 2 });
    const head: Batch[] = [];
    for await (const b of ds) {
      head.push(b);
      if (head.length === 37) break;
    }
    const state = ds.state();
    expect(state).toEqual({ seed: 11, epoch: 2, position: expect.any(Number), plan: expect.objectContaining({ worldSize: 1, records: N }) });
    const rest = await collect(new ShuffledBatchDataset(bzFile, { ...base, shuffle, state }));
    expect([...head.flatMap((b) => [...b.records]), ...rest.records]).toEqual(full.records);
    for (let k = 0; k < 5; k++) expect(Array.from(rest.batches[k].xs)).toEqual(Array.from(full.batches[37 + k].xs));
  });
});

describe('orders', () => {
  it('the same seed gives the same order in a fresh process', async () => {
    const script = `
      import { openIndexed, ShuffledBatchDataset, closeSharedPool } from './src/index.ts';
      const file = await openIndexed(${JSON.stringify(join(tmp.dir, 'ds.csv.bz2'))}, { records: 'csv', timeColumn: 'time', ifStale: 'error' });
      const out = [];
      for (const shuffle of ['exact', 'chunked']) out.push(Array.from(new ShuffledBatchDataset(file, { labels: 'label', shuffle, seed: 99, epoch: 4 }).order()).slice(0, 2000));
      console.log(JSON.stringify(out));
      await file.close(); await closeSharedPool();`;
    const child = await runTsx(['--input-type=module', '-e', script]);
    expect(child.code, child.stderr).toBe(0);
    const [exact, chunked] = JSON.parse(child.stdout.toString()) as number[][];
    expect(exact).toEqual(Array.from(new ShuffledBatchDataset(bzFile, { labels: 'label', shuffle: 'exact', seed: 99, epoch: 4 }).order()).slice(0, 2000));
    expect(chunked).toEqual(Array.from(new ShuffledBatchDataset(bzFile, { labels: 'label', shuffle: 'chunked', seed: 99, epoch: 4 }).order()).slice(0, 2000));
  });

  it('the exact shuffle is uniform: chi-square of the first position over many epochs', () => {
    const n = 40;
    const epochs = 8000;
    const counts = new Array<number>(n).fill(0);
    const lastCounts = new Array<number>(n).fill(0);
    for (let e = 0; e < epochs; e++) {
      const p = new FeistelPermutation(n, e * 7919 + 13);
      counts[p.at(0)]++;
      lastCounts[p.at(n - 1)]++;
    }
    const expected = epochs / n;
    for (const c of [counts, lastCounts]) {
      const chi2 = c.reduce((s, k) => s + (k - expected) ** 2 / expected, 0);
      // 39 degrees of freedom: the 99.9th percentile is 72.1.
      expect(chi2).toBeLessThan(72.1);
    }
  });

  it('a permutation is a bijection for many sizes', () => {
    for (const n of [1, 2, 3, 5, 17, 64, 1000, 65_537]) {
      const p = new FeistelPermutation(n, n);
      const seen = new Uint8Array(n);
      for (let i = 0; i < n; i++) seen[p.at(i)]++;
      expect(seen.every((v) => v === 1)).toBe(true);
    }
  });
});

describe('parsing', () => {
  it('features and labels equal a direct parse of the original lines; categories are ids; missing is the mean', async () => {
    const ds = new ShuffledBatchDataset(xzFile, { ...base, shuffle: false });
    const stats = Object.fromEntries(xzFile.stats.map((s) => [s.name, s]));
    const meanA = stats.a.mean ?? NaN;
    expect(stats.a.missing).toBe(rows.filter((r) => r.a === null && !r.bad).length);
    for await (const b of ds) {
      expect(b.xsShape).toEqual([b.size, 3]);
      expect(b.ysShape).toEqual([b.size, 1]);
      expect(b.ys).toBeInstanceOf(Int32Array);
      for (let i = 0; i < b.size; i++) {
        const truth = rows[b.records[i]];
        expect(b.xs[i * 3]).toBeCloseTo(truth.a ?? meanA, 3);
        expect(b.xs[i * 3 + 1]).toBe(truth.b);
        expect(b.xs[i * 3 + 2]).toBe(CATS.indexOf(truth.cat));
        expect(b.ys?.[i]).toBe(truth.label);
      }
    }
  });

  it('standardisation uses the index statistics; one-hot labels; default features are the numeric columns', async () => {
    const ds = new ShuffledBatchDataset(bzFile, { labels: 'label', standardize: true, oneHot: true, shuffle: false, batchSize: 500 });
    expect(ds.featureNames).toEqual(['a', 'b']);
    const stats = Object.fromEntries(bzFile.stats.map((s) => [s.name, s]));
    const { batches } = await collect(ds);
    const b = batches[0];
    expect(b.ysShape).toEqual([500, 3]);
    for (let i = 0; i < b.size; i++) {
      const truth = rows[b.records[i]];
      const a = truth.a ?? stats.a.mean ?? 0;
      expect(b.xs[i * 2]).toBeCloseTo((a - (stats.a.mean ?? 0)) / (stats.a.std ?? 1), 4);
      expect(b.xs[i * 2 + 1]).toBeCloseTo((truth.b - (stats.b.mean ?? 0)) / (stats.b.std ?? 1), 4);
      expect(Array.from(b.ys?.subarray(i * 3, i * 3 + 3) ?? [])).toEqual([0, 1, 2].map((c) => (c === truth.label ? 1 : 0)));
    }
    // Over the whole file the standardised features have mean ~0 and std ~1 (missing values at the mean).
    const all = batches.flatMap((x) => Array.from({ length: x.size }, (_, i) => x.xs[i * 2 + 1]));
    const mean = all.reduce((s, v) => s + v, 0) / all.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
  });

  it('policies: malformed records as errors naming the record; missing values skipped or as errors', async () => {
    const strict = new ShuffledBatchDataset(bzFile, { ...base, shuffle: false, onMalformed: 'error' });
    await expect(collect(strict)).rejects.toMatchObject({ code: 'PARSE_ERROR', record: 3 });
    const skipMissing = new ShuffledBatchDataset(bzFile, { ...base, shuffle: false, missing: 'skip' });
    const got = (await collect(skipMissing)).records;
    expect(got).toEqual(rows.filter((r) => !r.bad && r.a !== null).map((r) => r.record));
    const errorMissing = new ShuffledBatchDataset(bzFile, { ...base, shuffle: false, missing: 'error' });
    await expect(collect(errorMissing)).rejects.toMatchObject({ code: 'PARSE_ERROR', record: 7 });
    const filled = new ShuffledBatchDataset(bzFile, { ...base, shuffle: false, missing: -1, batchSize: 10 });
    const first = (await collect(filled)).batches[0];
    const at = Array.from(first.records).indexOf(7);
    expect(first.xs[at * 3]).toBe(-1);
  });

  it('bad options are INVALID_OPTION naming the field', () => {
    expect(() => new ShuffledBatchDataset(bzFile, { batchSize: 0 })).toThrow(/options.batchSize must be a positive integer, got 0/);
    expect(() => new ShuffledBatchDataset(bzFile, { features: ['nope'] })).toThrow(/options.features must be columns of/);
    expect(() => new ShuffledBatchDataset(bzFile, { rank: 2, worldSize: 2 })).toThrow(/options.rank must be below worldSize/);
    expect(() => new ShuffledBatchDataset(bzFile, { features: ['note'] })).toThrow(/categorical.note/);
  });
});

describe('sequential stream', () => {
  it('file order, wrapping around at the end across batch boundaries', async () => {
    const stream = new SequentialStream(bzFile, { ...base, batchSize: 333, wrap: true, startRecord: 5000 });
    const records: number[] = [];
    for await (const b of stream) {
      records.push(...b.records);
      if (records.length > valid.length + 2000) break;
    }
    const order = [...valid.filter((r) => r >= 5000), ...valid.filter((r) => r < 5000)];
    expect(records.slice(0, valid.length)).toEqual(order);
    expect(records.slice(valid.length, valid.length + 1000)).toEqual(order.slice(0, 1000));
  });
});

describe('worker failures', () => {
  it('a worker that dies rejects the pending batches with a clear error; the pool recovers for the next epoch', async () => {
    const flag = join(tmp.dir, 'crash-once');
    writeFileSync(flag, '');
    // Worker threads copy the environment when they start: set the flag's path first.
    process.env.SEEKDATA_CRASH_FLAG = flag;
    const pool = new WorkerPool({ size: 2, filename: new URL('./support/crashing-worker.ts', import.meta.url).href });
    const file = await openIndexed(join(tmp.dir, 'ds.csv.bz2'), { records: 'csv', timeColumn: 'time', pool, ifStale: 'error' });
    try {
      const ds = new ShuffledBatchDataset(file, { ...base, shuffle: 'chunked', seed: 1 });
      const error = await collect(ds).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'WORKER_ERROR' });
      expect(String(error)).toMatch(/worker/i);
      expect(existsSync(flag)).toBe(false);
      ds.setEpoch(1);
      const next = await collect(ds);
      expect([...next.records].sort((x, y) => x - y)).toEqual(valid);
    } finally {
      await file.close();
      await pool.close();
      delete process.env.SEEKDATA_CRASH_FLAG;
    }
  });
});

describe('JSONL datasets', () => {
  it('dotted paths, categories of strings, booleans, missing and malformed values, against the truth', async () => {
    const lines = rows.map((r) =>
      r.bad
        ? '{"broken": '
        : JSON.stringify({ time: new Date(r.time).toISOString(), m: { a: r.a, b: r.b }, cat: r.cat, flag: r.b % 2 === 0, label: r.label }),
    );
    const path = writeFixture(tmp.dir, 'ds.jsonl.bz2', bzip2(Buffer.from(lines.join('\n') + '\n'), 1));
    const file = await openIndexed(path, { records: 'jsonl', timeColumn: 'time' });
    try {
      const byName = Object.fromEntries(file.stats.map((s) => [s.name, s]));
      expect(byName['m.b']).toMatchObject({ numeric: true, integer: true, min: 0, max: 49 });
      expect(byName.cat.categories?.map((c) => c.value)).toEqual(CATS);
      const ds = new ShuffledBatchDataset(file, { features: ['m.a', 'm.b', 'cat', 'flag'], labels: 'label', shuffle: 'chunked', seed: 2, batchSize: 64 });
      const meanA = byName['m.a'].mean ?? NaN;
      let seen = 0;
      for await (const b of ds) {
        for (let i = 0; i < b.size; i++) {
          const truth = rows[b.records[i]];
          expect(b.xs[i * 4]).toBeCloseTo(truth.a ?? meanA, 3);
          expect(b.xs[i * 4 + 1]).toBe(truth.b);
          expect(b.xs[i * 4 + 2]).toBe(CATS.indexOf(truth.cat));
          expect(b.xs[i * 4 + 3]).toBe(truth.b % 2 === 0 ? 1 : 0);
          expect(b.ys?.[i]).toBe(truth.label);
          seen++;
        }
      }
      expect(seen).toBe(valid.length);
      expect(ds.skippedExamples[0].reason).toMatch(/not valid JSON/);
    } finally {
      await file.close();
    }
  });
});
