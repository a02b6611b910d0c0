/**
 * Training throughput work (toTfDataset pacing, next-epoch loads, the chunked epoch's faster batch
 * assembly): batches stay exactly those of the epoch's order (checked against the order and the generated
 * truth, paced or not, preloaded or not, sharded, resumed), tensors are made without copies and all
 * disposed, a paced dataset never runs more worker jobs at once than asked, and the next epoch's first
 * chunks are loaded before it starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  closeSharedPool,
  openIndexed,
  ShuffledBatchDataset,
  toTfDataset,
  WorkerPool,
  type Batch,
  type IndexedFile,
  type ShuffledBatchOptions,
} from '../src/index.js';
import { JobGate, PacedLoads } from '../src/datasets/pace.js';
import { bzip2, tempDir, writeFixture, xz } from './support/fixtures.js';
import { CATS, datasetFixture, type TruthRow } from './support/dataset-fixture.js';

const N = 12_000;
const { csv, rows } = datasetFixture(N, 5);
const tmp = tempDir();
const pool = new WorkerPool({ size: 2 });

interface Counter {
  /** Jobs posted to the pool and not settled; the most at once; jobs posted. */
  inFlight: number;
  most: number;
  posted: number;
}

/** A runner in front of the pool that counts the jobs of one file (a test's own, so nothing else is counted). */
function counting(): { runner: Pick<WorkerPool, 'run'>; counter: Counter } {
  const counter: Counter = { inFlight: 0, most: 0, posted: 0 };
  const runner: Pick<WorkerPool, 'run'> = {
    async run(job, signal, transfer) {
      counter.posted++;
      counter.inFlight++;
      counter.most = Math.max(counter.most, counter.inFlight);
      try {
        return await pool.run(job, signal, transfer);
      } finally {
        counter.inFlight--;
      }
    },
  };
  return { runner, counter };
}

const { runner } = counting();
const opened: IndexedFile[] = [];

/** The xz fixture on its loaded index, its jobs counted, its chunk tails checked (an epoch read). */
async function countedFile(): Promise<{ file: IndexedFile; counter: Counter }> {
  const { runner: own, counter } = counting();
  const file = await openIndexed(xzPath, { records: 'csv', timeColumn: 'time', parallelism: 2, pool: own });
  opened.push(file);
  for await (const b of new ShuffledBatchDataset(file, base)) void b;
  counter.posted = 0;
  counter.most = 0;
  return { file, counter };
}

/** Waits until `counter` has seen `n` jobs posted and none is in flight. */
async function postedAtLeast(counter: Counter, n: number): Promise<void> {
  while (counter.posted < n || counter.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
}
let xzPath: string;
let bzFile: IndexedFile;
let xzFile: IndexedFile;

beforeAll(async () => {
  xzPath = writeFixture(tmp.dir, 'fit.csv.xz', xz(csv, '--block-size=32KiB'));
  const options = { records: 'csv' as const, timeColumn: 'time', parallelism: 2, pool: runner };
  bzFile = await openIndexed(writeFixture(tmp.dir, 'fit.csv.bz2', bzip2(csv, 1)), options);
  // Built, saved, then loaded: the path every real training run takes.
  await (await openIndexed(xzPath, options)).close();
  xzFile = await openIndexed(xzPath, options);
  expect(xzFile.report.status).toBe('loaded');
  expect(xzFile.reader.layout.count).toBeGreaterThan(12);
});
afterAll(async () => {
  for (const f of opened) await f.close();
  await bzFile.close();
  await xzFile.close();
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

// The fixture's malformed records are skipped (and checked below): their warnings are not this file's subject.
const base: ShuffledBatchOptions = { features: ['a', 'b', 'cat'], labels: 'label', batchSize: 64, seed: 9, windowChunks: 3, onWarning: () => undefined };

/** The values a batch row must hold for a record (the truth of the fixture, missing `a` at the index mean). */
function expectRow(b: Batch, i: number, truth: TruthRow, meanA: number): void {
  expect(b.xs[i * 3]).toBeCloseTo(truth.a ?? meanA, 3);
  expect(b.xs[i * 3 + 1]).toBe(truth.b);
  expect(b.xs[i * 3 + 2]).toBe(CATS.indexOf(truth.cat));
  expect(b.ys?.[i]).toBe(truth.label);
}

/**
 * The batches an epoch must give, from the epoch's order alone: one rank, so malformed records are
 * skipped and each batch refilled with the next draws.
 */
function expectedBatches(ds: ShuffledBatchDataset, epoch: number): number[][] {
  const valid = Array.from(ds.order(epoch)).filter((r) => !rows[r].bad);
  const out: number[][] = [];
  for (let i = 0; i < valid.length; i += ds.batchSize) out.push(valid.slice(i, i + ds.batchSize));
  return out;
}

function checkEpoch(file: IndexedFile, ds: ShuffledBatchDataset, epoch: number, batches: Batch[]): void {
  const want = expectedBatches(ds, epoch);
  expect(batches.map((b) => Array.from(b.records))).toEqual(want);
  const meanA = file.stats.find((s) => s.name === 'a')?.mean ?? 0;
  for (const b of batches) for (let i = 0; i < b.size; i++) expectRow(b, i, rows[b.records[i]], meanA);
}

/** The batches tfjs sees through the adapter, one epoch per iterator (as fitDataset asks for them). */
async function epochThroughAdapter(data: tf.data.Dataset<tf.TensorContainer>): Promise<number> {
  const it = await data.iterator();
  let n = 0;
  for (;;) {
    const step = await it.next();
    if (step.done === true) return n;
    const value = step.value as { xs: tf.Tensor; ys: tf.Tensor };
    tf.dispose([value.xs, value.ys]);
    n++;
  }
}

/** Records the batches a dataset yields (the adapter's input). */
function recording(ds: AsyncIterable<Batch>, seen: Batch[]): AsyncIterable<Batch> & { setTrainingPace?: unknown } {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const b of ds) {
        seen.push(b);
        yield b;
      }
    },
  };
}

describe('JobGate', () => {
  it('runs at most `limit` jobs at once, in the order given; a raised limit starts waiting jobs at once', async () => {
    const gate = new JobGate(2);
    const started: number[] = [];
    const release: Array<() => void> = [];
    const jobs = Array.from({ length: 5 }, (_, k) =>
      gate.run(async () => {
        started.push(k);
        await new Promise<void>((resolve) => release.push(resolve));
        return k * 10;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect([gate.active, gate.queued]).toEqual([2, 3]);
    release[1]();
    await new Promise((r) => setTimeout(r, 0));
    expect(started).toEqual([0, 1, 2]);
    gate.limit = 4;
    expect(started).toEqual([0, 1, 2, 3, 4]);
    for (const r of release) r();
    expect(await Promise.all(jobs)).toEqual([0, 10, 20, 30, 40]);
    expect(gate.active).toBe(0);
  });

  it('a failing job rejects its own promise only, and frees its place', async () => {
    const gate = new JobGate(1);
    const bad = gate.run(async () => {
      throw new Error('boom');
    });
    const thrown = gate.run(() => {
      throw new Error('sync');
    });
    const good = gate.run(async () => 'ok');
    await expect(bad).rejects.toThrow('boom');
    await expect(thrown).rejects.toThrow('sync');
    await expect(good).resolves.toBe('ok');
    expect(gate.active).toBe(0);
  });
});

describe('PacedLoads: the next epoch\'s loads started ahead', () => {
  /** Starts two loads ahead for `epoch`, each settling when `release` is called; returns their signals. */
  function startAhead(loads: PacedLoads<number>, epoch: number): { signals: AbortSignal[]; release: () => void } {
    const signals: AbortSignal[] = [];
    const waits: Array<() => void> = [];
    loads.startEpoch(epoch, 2, (slot, signal) => {
      signals[slot] = signal;
      return new Promise<number>((resolve) => waits.push(() => resolve(slot)));
    });
    return { signals, release: () => waits.forEach((w) => w()) };
  }

  it('taken by their epoch from its start: stopped when that epoch is left, not before', async () => {
    const loads = new PacedLoads<number>();
    loads.pace = { jobs: 2, nextEpoch: true };
    const { signals, release } = startAhead(loads, 3);
    await Promise.resolve();
    expect(signals.length).toBe(2);
    const epoch = new AbortController();
    const taken = loads.take(3, 0, epoch.signal);
    expect(taken?.size).toBe(2);
    expect(signals.some((s) => s.aborted)).toBe(false);
    epoch.abort();
    expect(signals.every((s) => s.aborted)).toBe(true);
    // Taken once.
    expect(loads.take(3, 0, new AbortController().signal)).toBeUndefined();
    release();
    expect(await Promise.all(taken?.values() ?? [])).toEqual([0, 1]);
  });

  it('taken by an epoch already left: stopped at once', async () => {
    const loads = new PacedLoads<number>();
    loads.pace = { jobs: 2, nextEpoch: true };
    const { signals, release } = startAhead(loads, 1);
    await Promise.resolve();
    const epoch = new AbortController();
    epoch.abort();
    expect(loads.take(1, 0, epoch.signal)?.size).toBe(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
    release();
  });

  it('dropped — resumed past the start, a later epoch, replaced, pace without nextEpoch — and stopped', async () => {
    const live = new AbortController().signal;
    const cases: Array<[string, (loads: PacedLoads<number>) => void]> = [
      ['resumed past its start', (loads) => expect(loads.take(1, 5, live)).toBeUndefined()],
      ['a later epoch began', (loads) => expect(loads.take(2, 0, live)).toBeUndefined()],
      ['another epoch loaded ahead', (loads) => startAhead(loads, 4)],
      ['pace without nextEpoch', (loads) => (loads.pace = { jobs: 2, nextEpoch: false })],
    ];
    for (const [name, drop] of cases) {
      const loads = new PacedLoads<number>();
      loads.pace = { jobs: 4, nextEpoch: true };
      const { signals, release } = startAhead(loads, 1);
      await Promise.resolve();
      expect(signals.some((s) => s.aborted), name).toBe(false);
      drop(loads);
      expect(signals.length, name).toBe(2);
      expect(signals.every((s) => s.aborted), name).toBe(true);
      release();
    }
    // An earlier epoch does not take (nor drop) them.
    const loads = new PacedLoads<number>();
    loads.pace = { jobs: 2, nextEpoch: true };
    const { signals, release } = startAhead(loads, 5);
    await Promise.resolve();
    expect(loads.take(4, 0, live)).toBeUndefined();
    expect(signals.some((s) => s.aborted)).toBe(false);
    expect(loads.take(5, 0, live)?.size).toBe(2);
    release();
  });
});

describe('chunked and file-order batches through the paced adapter', () => {
  it.each([
    ['chunked', 'bzip2'],
    ['chunked', 'xz (index loaded from disk)'],
    [false, 'xz (index loaded from disk)'],
  ] as const)('shuffle %s, %s: every epoch is exactly its order, paced and preloaded or not', async (shuffle, which) => {
    const file = which === 'bzip2' ? bzFile : xzFile;
    const plain = new ShuffledBatchDataset(file, { ...base, shuffle });
    const paced = new ShuffledBatchDataset(file, { ...base, shuffle });
    const seen: Batch[] = [];
    const data = toTfDataset(recording(paced, seen), tf);
    // The recording wrapper hides the dataset from the adapter: pace it as toTfDataset would.
    paced.setTrainingPace({ jobs: 1, nextEpoch: true });
    for (let epoch = 0; epoch < 3; epoch++) {
      seen.length = 0;
      const n = await epochThroughAdapter(data);
      expect(n).toBe(seen.length);
      checkEpoch(file, paced, epoch, seen);
      const unpaced: Batch[] = [];
      for await (const b of plain) unpaced.push(b);
      expect(seen.map((b) => Array.from(b.xs))).toEqual(unpaced.map((b) => Array.from(b.xs)));
      expect(seen.map((b) => Array.from(b.ys ?? []))).toEqual(unpaced.map((b) => Array.from(b.ys ?? [])));
    }
  });

  it('sharded ranks and a resumed dataset give the same batches paced as unpaced', async () => {
    for (const rank of [0, 1]) {
      const options: ShuffledBatchOptions = { ...base, shuffle: 'chunked', rank, worldSize: 2 };
      const plain: Batch[] = [];
      for await (const b of new ShuffledBatchDataset(xzFile, options)) plain.push(b);
      const paced = new ShuffledBatchDataset(xzFile, options);
      paced.setTrainingPace({ jobs: 1, nextEpoch: true });
      const got: Batch[] = [];
      for await (const b of paced) got.push(b);
      expect(got.map((b) => Array.from(b.records))).toEqual(plain.map((b) => Array.from(b.records)));
      expect(got.map((b) => Array.from(b.xs))).toEqual(plain.map((b) => Array.from(b.xs)));
    }
    const whole = new ShuffledBatchDataset(xzFile, { ...base, shuffle: 'chunked', epoch: 1 });
    const all: Batch[] = [];
    for await (const b of whole) all.push(b);
    const head = new ShuffledBatchDataset(xzFile, { ...base, shuffle: 'chunked', epoch: 1 });
    head.setTrainingPace({ jobs: 1, nextEpoch: true });
    let k = 0;
    for await (const b of head) {
      void b;
      if (++k === 40) break;
    }
    const resumed = new ShuffledBatchDataset(xzFile, { ...base, shuffle: 'chunked', state: head.state() });
    resumed.setTrainingPace({ jobs: 1, nextEpoch: true });
    const rest: Batch[] = [];
    for await (const b of resumed) rest.push(b);
    expect(rest.map((b) => Array.from(b.records))).toEqual(all.slice(40).map((b) => Array.from(b.records)));
    expect(rest.map((b) => Array.from(b.xs))).toEqual(all.slice(40).map((b) => Array.from(b.xs)));
  });
});

describe('pacing worker jobs for training', () => {
  it('toTfDataset runs at most workerJobs chunk jobs at once (default: parallelism - 1), next-epoch loads included', async () => {
    const chunks = xzFile.reader.layout.count;
    const paced = await countedFile();
    const data = toTfDataset(new ShuffledBatchDataset(paced.file, { ...base, shuffle: 'chunked' }), tf);
    await epochThroughAdapter(data);
    await epochThroughAdapter(data);
    await postedAtLeast(paced.counter, 2 * chunks + 6);
    expect(paced.counter.most).toBe(1);
    // The same with two at once: the limit is what kept it at one (the pool runs two).
    const two = await countedFile();
    const data2 = toTfDataset(new ShuffledBatchDataset(two.file, { ...base, shuffle: 'chunked' }), tf, { workerJobs: 2 });
    await epochThroughAdapter(data2);
    await epochThroughAdapter(data2);
    await postedAtLeast(two.counter, 2 * chunks + 6);
    expect(two.counter.most).toBe(2);
  });

  it("the next epoch's first chunks are loaded during the last batches of an epoch; the first batch then needs no job", async () => {
    const chunks = xzFile.reader.layout.count;
    const { file, counter } = await countedFile();
    const data = toTfDataset(new ShuffledBatchDataset(file, { ...base, shuffle: 'chunked' }), tf);
    await epochThroughAdapter(data);
    // The epoch's own chunks, then the next epoch's first window (3 chunks) and its read-ahead (2 × 2 - 1).
    await postedAtLeast(counter, chunks + 6);
    await new Promise((r) => setTimeout(r, 50));
    expect(counter.posted).toBe(chunks + 6);
    const it = await data.iterator();
    const first = (await it.next()).value as { xs: tf.Tensor; ys: tf.Tensor };
    tf.dispose([first.xs, first.ys]);
    expect(counter.posted).toBe(chunks + 6);
    // Without preloading, nothing is loaded ahead: the first batch of the next epoch waits for its window.
    const cold = await countedFile();
    const coldData = toTfDataset(new ShuffledBatchDataset(cold.file, { ...base, shuffle: 'chunked' }), tf, { preloadNextEpoch: false });
    await epochThroughAdapter(coldData);
    await new Promise((r) => setTimeout(r, 50));
    expect(cold.counter.posted).toBe(chunks);
    const coldIt = await coldData.iterator();
    const coldFirst = (await coldIt.next()).value as { xs: tf.Tensor; ys: tf.Tensor };
    tf.dispose([coldFirst.xs, coldFirst.ys]);
    expect(cold.counter.posted).toBeGreaterThanOrEqual(chunks + 3);
  });

  it('next-epoch loads of a file closed after training are dropped without an unhandled rejection', async () => {
    const file = await openIndexed(xzPath, { records: 'csv', timeColumn: 'time', parallelism: 2, pool: runner });
    // A window as large as the file: the next epoch's loads are queued behind this one's until its end.
    const data = toTfDataset(new ShuffledBatchDataset(file, { ...base, shuffle: 'chunked', windowChunks: 64 }), tf);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      await epochThroughAdapter(data);
      await file.close();
      await new Promise((r) => setTimeout(r, 500));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('fitDataset calls with batchesPerEpoch continue one iteration: the window is not decoded again', async () => {
    const { file, counter } = await countedFile();
    const options: ShuffledBatchOptions = { ...base, shuffle: 'chunked', repeat: true };
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1 })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const ds = new ShuffledBatchDataset(file, options);
    const data = toTfDataset(ds, tf, { preloadNextEpoch: false });
    for (let call = 0; call < 4; call++) await model.fitDataset(data, { epochs: 1, batchesPerEpoch: 40, verbose: 0 });
    await postedAtLeast(counter, 1);
    const inCalls = counter.posted;
    // The same 160 batches in one iteration: the same chunk loads.
    const { file: file2, counter: counter2 } = await countedFile();
    const one = new ShuffledBatchDataset(file2, options);
    one.setTrainingPace({ jobs: 1, nextEpoch: false });
    let n = 0;
    for await (const b of one) if ((void b, ++n) === 160) break;
    await postedAtLeast(counter2, 1);
    expect(ds.state().position).toBe(one.state().position);
    expect(inCalls).toBe(counter2.posted);
    // Moved in between (setEpoch): the next call starts the new place, not the old iteration.
    ds.setEpoch(5);
    const it = await data.iterator();
    const first = (await it.next()).value as tf.TensorContainerObject;
    tf.dispose(first);
    expect(ds.state().epoch).toBe(5);
    expect(ds.state().position).toBeLessThan(2 * 64);
    model.dispose();
  });

  it('options are checked, naming the field', () => {
    const ds = new ShuffledBatchDataset(xzFile, base);
    expect(() => toTfDataset(ds, tf, { workerJobs: 0 })).toThrow('options.workerJobs must be a positive integer, got 0');
    expect(() => toTfDataset(ds, tf, { preloadNextEpoch: 'yes' as unknown as boolean })).toThrow(/options\.preloadNextEpoch must be/);
  });
});

describe('tensors', () => {
  it('are made from the batch arrays without copies, with float32 one-hot labels', async () => {
    const seen: Batch[] = [];
    const ds = new ShuffledBatchDataset(xzFile, { ...base, oneHot: true, shuffle: 'chunked' });
    const it = await toTfDataset(recording(ds, seen), tf).iterator();
    const value = (await it.next()).value as { xs: tf.Tensor; ys: tf.Tensor };
    expect(value.xs.dtype).toBe('float32');
    expect(value.ys.dtype).toBe('float32');
    expect(seen[0].ys).toBeInstanceOf(Float32Array);
    expect(value.ys.shape).toEqual([64, 3]);
    // The pure-JS backend keeps the array it was given: no copy on the main thread.
    expect(value.xs.dataSync()).toBe(seen[0].xs);
    expect(value.ys.dataSync()).toBe(seen[0].ys);
    tf.dispose([value.xs, value.ys]);
    expect(() => new ShuffledBatchDataset(xzFile, { ...base, oneHot: true, labelType: 'int32' })).toThrow("options.labelType must be 'float32' (or unset) with oneHot, got \"int32\"");
  });

  it('fitDataset over several epochs (next epochs preloaded), and an epoch left half-way, leave no tensor behind', async () => {
    const ds = new ShuffledBatchDataset(xzFile, { ...base, oneHot: true, standardize: true, features: ['a', 'b'], shuffle: 'chunked' });
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 8, activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const data = toTfDataset(ds, tf);
    await model.fitDataset(data, { epochs: 1, batchesPerEpoch: 2, verbose: 0 });
    const baseline = tf.memory().numTensors;
    await model.fitDataset(data, { epochs: 3, verbose: 0 });
    expect(tf.memory().numTensors).toBe(baseline);
    await model.fitDataset(data, { epochs: 1, batchesPerEpoch: 30, verbose: 0 });
    expect(tf.memory().numTensors).toBe(baseline);
    model.dispose();
  });
});
