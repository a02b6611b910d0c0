/**
 * Record subsets (issue 11 §2): take, skip, and train / validation splits by fraction (seeded,
 * deterministic, disjoint) or by time, drawn by every shuffle mode, sharded, resumable, and usable as
 * fitDataset's validationData with batchesPerEpoch over a repeating train side. The truth is the record
 * numbers themselves and the times written into the fixture.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { closeSharedPool, csvDataset, RecordSubset, ShuffledBatchDataset, type Batch, type FileDataset } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-ergo-split-');
const ROWS = 20_000;
const START = Date.UTC(2023, 0, 1);
const STEP = 60_000;
let path = '';
let base: FileDataset;

beforeAll(async () => {
  const rand = prng(21);
  const lines = ['ts,x,y'];
  // Times not in record order (a shuffled hour within each day), so a time split is not a record range.
  for (let i = 0; i < ROWS; i++) {
    const x = rand() * 2 - 1;
    lines.push(`${new Date(START + (i ^ 7) * STEP).toISOString()},${x.toFixed(4)},${x > 0 ? 1 : 0}`);
  }
  // bzip2 -1: 100 kB blocks, several chunks.
  path = writeFixture(tmp.dir, 'split.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n'), 1));
  base = await csvDataset(path, { columnConfigs: { y: { isLabel: true } }, timeColumn: 'ts', batchSize: 500, seed: 4, labelType: 'float32' });
  expect(base.file.records.chunkOf(ROWS - 1)).toBeGreaterThan(3);
});

afterAll(async () => {
  await base.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function epochRecords(dataset: AsyncIterable<Batch>): Promise<number[]> {
  const out: number[] = [];
  for await (const b of dataset) out.push(...b.records.subarray(0, b.size));
  return out;
}

const sorted = (a: number[]): number[] => [...a].sort((x, y) => x - y);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('split', () => {
  it('by fraction: disjoint sides holding every record, the same for the same seed, another for another seed', async () => {
    const a = base.split({ validation: 0.2, seed: 1 });
    const again = base.split({ validation: 0.2, seed: 1 });
    const other = base.split({ validation: 0.2, seed: 2 });
    const train = await epochRecords(a.train);
    const validation = await epochRecords(a.validation);
    expect(validation).toHaveLength(4000);
    expect(train).toHaveLength(16000);
    expect(new Set(train).size).toBe(16000);
    const all = new Set([...train, ...validation]);
    expect(all.size).toBe(ROWS);
    // The validation side reads in file order; the train side is shuffled.
    expect(validation).toEqual(sorted(validation));
    expect(train).not.toEqual(sorted(train));
    expect(await epochRecords(again.validation)).toEqual(validation);
    const otherValidation = new Set(await epochRecords(other.validation));
    const shared = validation.filter((r) => otherValidation.has(r)).length;
    // Independent 20% draws share about 20% of their records.
    expect(shared).toBeGreaterThan(600);
    expect(shared).toBeLessThan(1000);
    // Spread over the file, not a block of it.
    expect(validation.filter((r) => r < ROWS / 2).length).toBeGreaterThan(1800);
    expect(a.train.batchesPerEpoch).toBe(32);
    expect(a.validation.batchesPerEpoch).toBe(8);
  });

  it('every shuffle mode draws exactly the side, once per epoch, a new order each epoch', async () => {
    const { train } = base.split({ validation: 0.3, seed: 9 });
    const side = await epochRecords(train.take(ROWS).skip(0));
    for (const shuffle of ['exact', 'chunked', false] as const) {
      const dataset = new ShuffledBatchDataset(base.file, { features: ['x'], labels: 'y', batchSize: 256, shuffle, seed: 5, epochs: 2, subset: train.subset as RecordSubset });
      const both = await epochRecords(dataset);
      const first = both.slice(0, side.length);
      const second = both.slice(side.length);
      expect(sorted(first)).toEqual(sorted(side));
      expect(sorted(second)).toEqual(sorted(side));
      if (shuffle !== false) expect(second).not.toEqual(first);
      // The order of an epoch lists the same draws without reading.
      expect(sorted(Array.from(dataset.order(0)))).toEqual(sorted(side));
    }
  });

  it('by time: records before `at` train, the others validate, whatever their order in the file', async () => {
    const at = START + 12_345 * STEP;
    const { train, validation, unplaced } = base.split({ at: new Date(at).toISOString() });
    expect(unplaced).toBe(0);
    const t = sorted(await epochRecords(train));
    const v = sorted(await epochRecords(validation));
    const timeOf = (r: number): number => START + (r ^ 7) * STEP;
    expect(t).toEqual(range(0, ROWS).filter((r) => timeOf(r) < at));
    expect(v).toEqual(range(0, ROWS).filter((r) => timeOf(r) >= at));
    expect(() => base.split({ at, seed: 3 })).toThrow(/options\.seed must be unset when splitting by time/);
    expect(() => base.split({ validation: 1.5 })).toThrow(/options\.validation must be a fraction in \(0, 1\)/);
  });

  it('take and skip: records of the file order, composable, shuffled within', async () => {
    const first = await epochRecords(base.take(1234));
    expect(sorted(first)).toEqual(range(0, 1234));
    expect(first).not.toEqual(range(0, 1234));
    expect(sorted(await epochRecords(base.skip(19_000)))).toEqual(range(19_000, ROWS));
    expect(sorted(await epochRecords(base.skip(100).take(50)))).toEqual(range(100, 150));
    expect(base.take(10).batchesPerEpoch).toBe(1);
    expect(await epochRecords(base.skip(ROWS))).toEqual([]);
  });

  it('sharded: the ranks of a side get equal shares that together are the side', async () => {
    const { validation } = base.split({ validation: 0.25, seed: 7 });
    const side = await epochRecords(validation);
    const subset = validation.subset as RecordSubset;
    const ranks = await Promise.all(
      [0, 1, 2].map((rank) => epochRecords(new ShuffledBatchDataset(base.file, { features: ['x'], batchSize: 100, shuffle: 'chunked', seed: 1, rank, worldSize: 3, shardPolicy: 'drop', subset }))),
    );
    expect(ranks.map((r) => r.length)).toEqual([1666, 1666, 1666]);
    const union = ranks.flat();
    expect(new Set(union).size).toBe(union.length);
    expect(union.every((r) => side.includes(r))).toBe(true);
  });

  it('a state saved on a side resumes it exactly, and is refused by another side', async () => {
    const { train, validation } = base.split({ validation: 0.1, seed: 3 });
    const subset = train.subset as RecordSubset;
    const options = { features: ['x'], labels: 'y', batchSize: 300, shuffle: 'chunked' as const, seed: 8, subset };
    const whole = await epochRecords(new ShuffledBatchDataset(base.file, options));
    const first = new ShuffledBatchDataset(base.file, options);
    const seen: number[] = [];
    for await (const b of first) {
      seen.push(...b.records.subarray(0, b.size));
      if (seen.length >= 3000) break;
    }
    const state = first.state();
    expect(state.plan?.subset).toBe(subset.id);
    const rest = await epochRecords(new ShuffledBatchDataset(base.file, { ...options, state }));
    expect([...seen, ...rest]).toEqual(whole);
    expect(() => new ShuffledBatchDataset(base.file, { ...options, subset: validation.subset as RecordSubset, state })).toThrow(/state comes from another file .*or another subset of its records|another subset of the records/);
  });

  it('feeds fitDataset: a repeating train side with its batchesPerEpoch, the validation side as validationData', async () => {
    const dataset = await csvDataset(path, { columnConfigs: { x: {}, y: { isLabel: true } }, configuredColumnsOnly: true, batchSize: 500, labelType: 'float32', repeat: true });
    try {
      const { train, validation } = dataset.split({ validation: 0.2, seed: 1 });
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1, activation: 'sigmoid' })] });
      model.compile({ optimizer: tf.train.sgd(1), loss: 'binaryCrossentropy' });
      const before = tf.memory().numTensors;
      const history = await model.fitDataset(train.toTf(tf), { epochs: 3, batchesPerEpoch: train.batchesPerEpoch, validationData: validation.toTf(tf), verbose: 0 });
      expect(history.history.loss).toHaveLength(3);
      const val = history.history.val_loss as number[];
      expect(val).toHaveLength(3);
      expect(val[2]).toBeLessThan(val[0]);
      // The repeating train side stands exactly after its third epoch: tfjs's epochs are the dataset's.
      const state = train.state();
      expect(state.epoch * train.recordsPerEpoch + state.position).toBe(3 * train.recordsPerEpoch);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    } finally {
      await dataset.close();
    }
  });
});

describe('filter', () => {
  it('keeps the rows the predicate accepts, by named values, re-batched to full batches', async () => {
    const all: Array<{ record: number; x: number; y: number }> = [];
    for await (const b of base.take(5000)) for (let k = 0; k < b.size; k++) all.push({ record: b.records[k], x: b.xs[k], y: b.ys?.[k] ?? -1 });
    const kept = base.take(5000).filter(({ xs, ys, record }) => xs.x > 0.5 && ys.y === 1 && record % 2 === 0);
    expect(kept.featureNames).toEqual(['x']);
    const sizes: number[] = [];
    const got: Array<{ record: number; x: number; y: number }> = [];
    for await (const b of kept) {
      sizes.push(b.size);
      expect(b.xsShape).toEqual([b.size, 1]);
      expect(b.ysShape).toEqual([b.size, 1]);
      for (let k = 0; k < b.size; k++) got.push({ record: b.records[k], x: b.xs[k], y: b.ys?.[k] ?? -1 });
    }
    const expected = all.filter((r) => r.x > 0.5 && r.y === 1 && r.record % 2 === 0);
    expect(sorted(got.map((r) => r.record))).toEqual(sorted(expected.map((r) => r.record)));
    for (const r of got) expect(r.y).toBe(1);
    expect(kept.dropped).toBe(5000 - expected.length);
    // Full batches but the last.
    expect(sizes.slice(0, -1).every((s) => s === 500)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(expected.length);
  });

  it('an exception or a non-boolean in the predicate is a MAP_ERROR naming the record', async () => {
    const throwing = base.take(100).filter(({ record }) => {
      if (record === 42) throw new TypeError('bad');
      return true;
    });
    await expect(epochRecords(throwing)).rejects.toMatchObject({ code: 'MAP_ERROR', record: 42, message: 'filter predicate threw TypeError: bad on record 42' });
    const sloppy = base.take(100).filter(() => 1 as unknown as boolean);
    await expect(epochRecords(sloppy)).rejects.toThrow(/filter predicate returned number, not a boolean, on record \d+/);
  });
});
