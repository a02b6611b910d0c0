/**
 * Time ranges and windows against a brute-force construction over the generated truth (record and
 * time windows, stride, sampling rate, targets in records and in time, gaps), on sorted and unsorted
 * files; the tfjs adapter trains and does not leak; the Arrow adapter round-trips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  batchToArrow,
  closeSharedPool,
  openIndexed,
  recordsToArrow,
  ShuffledBatchDataset,
  timeRangeToArrow,
  TimeRangeDataset,
  toTfDataset,
  writeArrowFile,
  type Batch,
  type IndexedFile,
  type TimeRangeOptions,
} from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture, xz } from './support/fixtures.js';
import { datasetFixture, type TruthRow } from './support/dataset-fixture.js';

const N = 12_000;
const { csv, rows } = datasetFixture(N, 5);
const tmp = tempDir();
let sorted: IndexedFile;
let unsorted: IndexedFile;
/** Record number in the unsorted file → truth row. */
let unsortedRows: TruthRow[];

beforeAll(async () => {
  sorted = await openIndexed(writeFixture(tmp.dir, 'w.csv.xz', xz(csv, '--block-size=40KiB')), { records: 'csv', timeColumn: 'time' });
  const lines = csv.toString().trimEnd().split('\n');
  const rand = prng(3);
  const order = rows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  unsortedRows = order.map((i) => rows[i]);
  const shuffled = [lines[0], ...order.map((i) => lines[i + 1])].join('\n') + '\n';
  unsorted = await openIndexed(writeFixture(tmp.dir, 'u.csv.bz2', bzip2(Buffer.from(shuffled), 1)), { records: 'csv', timeColumn: 'time' });
});
afterAll(async () => {
  await sorted.close();
  await unsorted.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function collect(ds: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds) out.push(b);
  return out;
}

interface Expected {
  xs: number[][];
  ys: number[];
  last: number;
}

/** The brute-force windows of a range over the truth (positions in time order). */
function bruteWindows(truth: TruthRow[], file: IndexedFile, o: TimeRangeOptions): Expected[] {
  const inRange = truth.map((r, record) => ({ ...r, record })).filter((r) => r.time >= +o.from && r.time < +o.to);
  inRange.sort((a, b) => a.time - b.time || a.record - b.record);
  const meanA = file.stats.find((s) => s.name === 'a')?.mean ?? 0;
  const features = (r: TruthRow): number[] => [r.a ?? meanA, r.b];
  const L = o.sequenceLength ?? 1;
  const out: Expected[] = [];
  const accept = (steps: number[]): void => {
    const last = steps[steps.length - 1];
    let target = last;
    if (o.targetOffset !== undefined) target = last + o.targetOffset;
    if (o.targetOffsetMs !== undefined) {
      target = inRange.findIndex((r, p) => p > last && r.time >= inRange[last].time + (o.targetOffsetMs ?? 0));
      if (target < 0) return;
    }
    if (target >= inRange.length) return;
    const end = Math.max(last, target);
    if (o.maxGapMs !== undefined) for (let p = steps[0]; p < end; p++) if (inRange[p + 1].time - inRange[p].time > o.maxGapMs) return;
    if ([...steps, target].some((p) => inRange[p].bad)) return;
    out.push({ xs: steps.map((p) => features(inRange[p])), ys: [inRange[target].label], last: inRange[last].record });
  };
  if (o.windowMs !== undefined) {
    const stride = o.strideMs ?? o.windowMs;
    for (let start = +o.from; start < +o.to; start += stride) {
      const members = inRange.map((r, p) => ({ r, p })).filter(({ r }) => r.time >= start && r.time < start + (o.windowMs ?? 0));
      if (members.length < L) continue;
      accept(members.slice(-L).map((m) => m.p));
    }
    return out;
  }
  const S = o.sequenceStride ?? 1;
  const R = o.samplingRate ?? 1;
  for (let base = 0; base + (L - 1) * R < inRange.length; base += S) accept(Array.from({ length: L }, (_, k) => base + k * R));
  return out;
}

function flatten(batches: Batch[], L: number): Expected[] {
  const out: Expected[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.size; i++) {
      out.push({
        xs: Array.from({ length: L }, (_, k) => [b.xs[(i * L + k) * 2], b.xs[(i * L + k) * 2 + 1]]),
        ys: [b.ys?.[i] ?? NaN],
        last: b.records[i],
      });
    }
  }
  return out;
}

function expectClose(got: Expected[], want: Expected[]): void {
  expect(got.map((w) => w.last)).toEqual(want.map((w) => w.last));
  expect(got.map((w) => w.ys)).toEqual(want.map((w) => w.ys));
  got.forEach((w, i) => w.xs.forEach((row, k) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i].xs[k][j], 3))));
}

const t0 = Date.UTC(2024, 4, 1, 0, 30);
const t1 = Date.UTC(2024, 4, 1, 3, 10);
const common = { features: ['a', 'b'], labels: 'label', batchSize: 50 };

describe.each([
  ['sorted', () => sorted, () => rows],
  ['unsorted', () => unsorted, () => unsortedRows],
] as const)('%s file', (_name, file, truth) => {
  it('a time range gives its records in time order', async () => {
    const ds = new TimeRangeDataset(file(), { ...common, from: t0, to: t1 });
    const got = (await collect(ds)).flatMap((b) => [...b.records]);
    const want = truth()
      .map((r, record) => ({ ...r, record }))
      .filter((r) => r.time >= t0 && r.time < t1 && !r.bad)
      .sort((a, b) => a.time - b.time || a.record - b.record)
      .map((r) => r.record);
    expect(got).toEqual(want);
  });

  it.each([
    ['record windows', { sequenceLength: 10 }],
    ['stride, sampling rate and a target 3 records ahead', { sequenceLength: 6, sequenceStride: 4, samplingRate: 2, targetOffset: 3 }],
    ['a target 30 s ahead, no gaps over 2 s', { sequenceLength: 8, sequenceStride: 5, targetOffsetMs: 30_000, maxGapMs: 2_000 }],
    ['time windows of 60 s every 25 s', { sequenceLength: 20, windowMs: 60_000, strideMs: 25_000, targetOffset: 1, maxGapMs: 5_000 }],
  ] as const)('%s equal a brute-force construction', async (_label, windows) => {
    const options: TimeRangeOptions = { ...common, from: t0, to: t1, ...windows };
    const ds = new TimeRangeDataset(file(), options);
    const batches = await collect(ds);
    const L = windows.sequenceLength;
    for (const b of batches) expect(b.xsShape).toEqual([b.size, L, 2]);
    const want = bruteWindows(truth(), file(), options);
    expect(want.length).toBeGreaterThan(20);
    expectClose(flatten(batches, L), want);
  });
});

describe('shuffled windows', () => {
  it('a shuffle buffer reorders the same windows, differently on each pass, the same for the same seed', async () => {
    const options: TimeRangeOptions = { ...common, from: t0, to: t1, sequenceLength: 8, sequenceStride: 3, targetOffset: 1 };
    const ordered = flatten(await collect(new TimeRangeDataset(sorted, options)), 8);
    const shuffled = new TimeRangeDataset(sorted, { ...options, shuffleBuffer: 200, seed: 4 });
    const first = flatten(await collect(shuffled), 8);
    const second = flatten(await collect(shuffled), 8);
    const key = (w: Expected): string => JSON.stringify(w);
    expect([...first].map(key).sort()).toEqual([...ordered].map(key).sort());
    expect(first.map((w) => w.last)).not.toEqual(ordered.map((w) => w.last));
    expect(second.map((w) => w.last)).not.toEqual(first.map((w) => w.last));
    const again = flatten(await collect(new TimeRangeDataset(sorted, { ...options, shuffleBuffer: 200, seed: 4 })), 8);
    expect(again.map((w) => w.last)).toEqual(first.map((w) => w.last));
  });
});

describe('tfjs adapter', () => {
  it('fitDataset trains a classifier whose loss decreases, and no tensor leaks', async () => {
    const ds = new ShuffledBatchDataset(sorted, { features: ['a', 'b'], labels: 'label', oneHot: true, standardize: true, batchSize: 128, seed: 1 });
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 16, activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    const data = toTfDataset(ds, tf);
    await model.fitDataset(data, { epochs: 1, verbose: 0 });
    const baseline = tf.memory().numTensors;
    const history = await model.fitDataset(data, { epochs: 4, verbose: 0 });
    expect(tf.memory().numTensors).toBe(baseline);
    const loss = history.history.loss as number[];
    expect(loss[3]).toBeLessThan(loss[0]);
    expect(loss[3]).toBeLessThan(0.6);
    model.dispose();
  });

  it('windows become [batch, steps, features] tensors with int32 labels', async () => {
    const ds = new TimeRangeDataset(sorted, { ...common, from: t0, to: t1, sequenceLength: 12 });
    const it = await toTfDataset(ds, tf).iterator();
    const first = (await it.next()).value as { xs: tf.Tensor; ys: tf.Tensor };
    expect(first.xs.shape).toEqual([50, 12, 2]);
    expect(first.xs.dtype).toBe('float32');
    expect(first.ys.shape).toEqual([50, 1]);
    expect(first.ys.dtype).toBe('int32');
    tf.dispose([first.xs, first.ys]);
  });
});

describe('Arrow adapter', () => {
  it('a time range round-trips through the IPC file format with the index types and nulls', async () => {
    const table = await timeRangeToArrow(sorted, t0, t1);
    const path = join(tmp.dir, 'range.arrow');
    await writeArrowFile(table, path);
    const back = tableFromIPC(readFileSync(path));
    expect(back.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'time:Timestamp<MILLISECOND>',
      'a:Float64',
      'b:Int32',
      'cat:Dictionary<Int32, Utf8>',
      'label:Int32',
      'note:Utf8',
    ]);
    const want = rows.filter((r) => r.time >= t0 && r.time < t1);
    expect(back.numRows).toBe(want.length);
    want.forEach((r, i) => {
      const row = back.get(i)?.toJSON() ?? {};
      expect(row.time).toBe(r.time);
      expect(row.a).toBe(r.bad ? null : r.a);
      expect(row.b).toBe(r.b);
      expect(row.cat).toBe(r.cat);
      expect(row.label).toBe(r.label);
      expect(row.note).toBe(r.record % 7 === 0 ? 'quoted, with comma' : `n${r.record}`);
    });
  });

  it('chosen records and columns; a batch as Float32 features and labels', async () => {
    const table = await recordsToArrow(unsorted, [5, 1, 3], { columns: ['b', 'cat'] });
    expect(table.toArray().map((r) => r.toJSON())).toEqual([5, 1, 3].map((i) => ({ b: unsortedRows[i].b, cat: unsortedRows[i].cat })));
    const [batch] = await collect(new TimeRangeDataset(sorted, { ...common, from: t0, to: t1, batchSize: 5 }));
    const batchTable = tableFromIPC(tableToIPC(batchToArrow(batch, ['a', 'b'], ['label'])));
    expect(batchTable.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(['a:Float32', 'b:Float32', 'label:Int32', 'record:Float64']);
    expect(batchTable.getChild('record')?.toArray()).toEqual(batch.records);
  });
});
