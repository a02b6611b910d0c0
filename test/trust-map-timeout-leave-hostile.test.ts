/**
 * A hostile review of c2735aa (`map.timeoutMs`: a timed job left behind is stopped when its data set closes
 * or the epoch it reads for is left). Is a job of an epoch still running ever cut by mistake — two datasets
 * on one file, two epochs in a row, a resume from `state()`, tfjs `fitDataset` stopped early, exact
 * shuffles, time-range windows (one file and a collection), parallelism 1, weighted draws? After a break,
 * are the next batches exactly an untimed run's? Are paced loads released when their jobs are stopped?
 * Any unhandled rejection or process warning? Does `close()` racing jobs that finish give wrong data or a
 * hang? The truth: an untimed run of the same map (the same module without `timeoutMs`), the heartbeat
 * file a spinning call writes, and the watcher's count of timed jobs in flight.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  closeSharedPool,
  csvDataset,
  openCollection,
  openIndexed,
  SeekdataError,
  SequentialStream,
  ShuffledBatchDataset,
  TimeRangeDataset,
  toTfDataset,
  type Batch,
  type Indexed,
  type ShuffledBatchOptions,
} from '../src/index.js';
import { watchedMapJobs } from '../src/datasets/map-clock.js';
import { pause, spinWatch } from './support/map-spin.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-map-leave-hostile-');
const ROWS = 3000;
const START = Date.UTC(2024, 0, 1);
const STEP = 60_000;
/** The limit: far longer than any test, so only leaving (or closing) can stop a spinning call in time. */
const LIMIT = 600_000;
/** How long a stop, a break or a close may take on a loaded machine before the test fails. */
const BOUND = 30_000;
/**
 * While it exists, calls on the rows it names spin for ever: `lo hi` (rows lo to hi - 1) or a JSON list. Rows
 * are the fixture's row numbers, taken from the row's time (the same in a file and in a collection).
 */
const FLAG = join(tmp.dir, 'spin-now');
/** While it exists, every call sleeps 1 ms (jobs stay in flight ahead of the consumer). */
const SLOW = join(tmp.dir, 'slow-now');
const HEART = join(tmp.dir, 'heart');
const { within, spinning, allStopped } = spinWatch(HEART, BOUND);
const xzOptions = ['--block-size=8KiB', '-T1'];
/** Rows of the long fixture, and the first row of a time range's second segment (RangeRows: 16,384 a segment). */
const LONG = 20_000;
const LATE = 16_384;
let csvPath = '';
let longPath = '';
let collectionGlob = '';
let longGlob = '';
/** The map: a transform of the row (so a row not mapped, or mapped twice, shows), slowed or spinning on demand. */
let spinner = '';
/** The same transform, never slow, never spinning: the untimed truth. */
let shift = '';
const features = { features: ['a', 'b'], labels: 'y' };
const columns = { columnConfigs: { a: {}, b: {}, y: { isLabel: true } }, configuredColumnsOnly: true, timeColumn: 'ts' };
const timed = (): { module: string; timeoutMs: number } => ({ module: spinner, timeoutMs: LIMIT });
const untimed = (): { module: string } => ({ module: shift });
/** Process warnings and unhandled rejections seen while this file runs (checked by its last test). */
const warnings: string[] = [];
const rejections: unknown[] = [];
const onWarning = (w: Error): void => {
  warnings.push(`${w.name}: ${w.message}`);
};
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};


function csvText(rows: number, from = 0): string[] {
  const lines: string[] = [];
  for (let i = from; i < from + rows; i++) lines.push(`${new Date(START + i * STEP).toISOString()},${i % 97},${(i * 7) % 13},${i % 3}`);
  return lines;
}

beforeAll(() => {
  process.on('warning', onWarning);
  process.on('unhandledRejection', onRejection);
  const header = 'ts,a,b,y';
  // Blocks of 8 KiB: ~12 chunks of ~255 records, so a dataset has jobs in flight ahead of the consumer.
  csvPath = writeFixture(tmp.dir, 'rows.csv.xz', xz(Buffer.from([header, ...csvText(ROWS)].join('\n') + '\n'), ...xzOptions));
  const parts = join(tmp.dir, 'parts');
  mkdirSync(parts);
  writeFixture(parts, 'part-0.csv.xz', xz(Buffer.from([header, ...csvText(1500)].join('\n') + '\n'), ...xzOptions));
  writeFixture(parts, 'part-1.csv.xz', xz(Buffer.from([header, ...csvText(1500, 1500)].join('\n') + '\n'), ...xzOptions));
  collectionGlob = join(parts, '*.csv.xz');
  longPath = writeFixture(tmp.dir, 'long.csv.xz', xz(Buffer.from([header, ...csvText(LONG)].join('\n') + '\n'), ...xzOptions));
  const longParts = join(tmp.dir, 'long-parts');
  mkdirSync(longParts);
  writeFixture(longParts, 'long-0.csv.xz', xz(Buffer.from([header, ...csvText(LONG / 2)].join('\n') + '\n'), ...xzOptions));
  writeFixture(longParts, 'long-1.csv.xz', xz(Buffer.from([header, ...csvText(LONG / 2, LONG / 2)].join('\n') + '\n'), ...xzOptions));
  longGlob = join(longParts, '*.csv.xz');
  shift = join(tmp.dir, 'shift.mjs');
  writeFileSync(shift, `export default ({ xs, ys, time }) => ({ xs: { a: xs.a * 2 + ((time / ${STEP}) % 5), b: xs.b - 1 }, ys });\n`);
  // The row's fixture number comes from its time: the same in a file and in a collection's members.
  spinner = join(tmp.dir, 'spinner.mjs');
  writeFileSync(
    spinner,
    `import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import shift from ${JSON.stringify(shift)};
const pause = new Int32Array(new SharedArrayBuffer(4));
let flagText = '';
let listed;
export default (row) => {
  const i = (row.time - ${START}) / ${STEP};
  if (existsSync(${JSON.stringify(FLAG)})) {
    const text = readFileSync(${JSON.stringify(FLAG)}, 'utf8');
    if (text !== flagText) { flagText = text; listed = text.startsWith('[') ? new Set(JSON.parse(text)) : undefined; }
    const [lo, hi] = text.split(' ').map(Number);
    if (listed === undefined ? i >= lo && i < hi : listed.has(i)) {
      for (let beat = 0, last = 0; ; ) {
        const now = Date.now();
        // Written whole, then renamed: a reader never sees a file half written.
        if (now - last >= 20) { last = now; writeFileSync(${JSON.stringify(HEART)} + threadId, threadId + ' ' + beat++); renameSync(${JSON.stringify(HEART)} + threadId, ${JSON.stringify(HEART)}); }
      }
    }
  }
  if (existsSync(${JSON.stringify(SLOW)})) Atomics.wait(pause, 0, 0, 1);
  return shift(row);
};
`,
  );
});

beforeEach(() => {
  rmSync(FLAG, { force: true });
  rmSync(SLOW, { force: true });
  rmSync(HEART, { force: true });
});

afterAll(async () => {
  rmSync(FLAG, { force: true });
  process.off('warning', onWarning);
  process.off('unhandledRejection', onRejection);
  await closeSharedPool();
  tmp.cleanup();
});

/** Calls on fixture rows [lo, hi) spin from now on (all rows by default). */
function spinFrom(lo = 0, hi = 1e9): void {
  writeFileSync(FLAG, `${lo} ${hi}`);
}

/** Calls on the fixture rows listed spin from now on. */
function spinOn(rows: Iterable<number>): void {
  writeFileSync(FLAG, JSON.stringify([...rows]));
}

/**
 * The rows of the chunks of `file` none of the first `n` draws of `dataset`'s chunked epoch falls in:
 * chunks read ahead of the window (or entering it later), whose calls can spin without holding up the
 * first batches when jobs run one at a time (a training pace) in the order they were asked for.
 */
function rowsOfUndrawnChunks(file: Indexed, dataset: ShuffledBatchDataset, n: number): number[] {
  const records = file.records;
  const drawn = new Set(Array.from(dataset.order().subarray(0, n), (r) => records.chunkOf(r)));
  const rows: number[] = [];
  for (let r = 0; r < records.count; r++) if (!drawn.has(records.chunkOf(r))) rows.push(r);
  expect(rows.length, 'a chunk none of the first draws needs').toBeGreaterThan(0);
  return rows;
}

/**
 * The rows of the chunk of `file` first drawn after draw `n` of `dataset`'s chunked epoch: it enters the
 * window soon after (so it is loaded ahead from the start), but none of the first `n` draws needs it.
 */
function rowsOfNextChunk(file: Indexed, dataset: ShuffledBatchDataset, n: number): number[] {
  const records = file.records;
  const order = dataset.order();
  const drawn = new Set(Array.from(order.subarray(0, n), (r) => records.chunkOf(r)));
  let next = -1;
  for (let i = n; i < order.length && next < 0; i++) if (!drawn.has(records.chunkOf(order[i]))) next = records.chunkOf(order[i]);
  expect(next, 'a chunk none of the first draws needs').toBeGreaterThanOrEqual(0);
  const { first, end } = records.recordsOf(next);
  return Array.from({ length: end - first }, (_, k) => first + k);
}

function stopSpinning(): void {
  rmSync(FLAG, { force: true });
}

/** Waits until no timed job is in flight, failing after BOUND. */
async function noneWatched(what: string): Promise<void> {
  const t0 = performance.now();
  while (watchedMapJobs() > 0 && performance.now() - t0 < BOUND) await pause(20);
  expect(watchedMapJobs(), `${what}: timed jobs still in flight after ${BOUND} ms`).toBe(0);
}

/** A batch as plain numbers (the dataset may reuse nothing, but a copy makes sure). */
interface Snap {
  records: number[];
  xs: number[];
  ys: number[];
}

function snap(b: Batch): Snap {
  return { records: Array.from(b.records.subarray(0, b.size)), xs: Array.from(b.xs), ys: b.ys === undefined ? [] : Array.from(b.ys) };
}

/** Every batch of one iteration (or the first `limit`), as plain numbers; fails on a hang. */
async function collect(dataset: AsyncIterable<Batch>, limit = Infinity): Promise<Snap[]> {
  const out: Snap[] = [];
  const work = (async () => {
    if (limit <= 0) return;
    for await (const b of dataset) {
      out.push(snap(b));
      if (out.length >= limit) break;
    }
  })();
  await within(work, 'an iteration');
  return out;
}

/**
 * Takes `before` batches, then makes calls on rows [lo, hi) spin (unless the test chose the rows before),
 * waits until one does, and breaks out (the break itself must return within BOUND); then waits until every
 * timed job has stopped. The batches taken are returned.
 */
async function leaveWhileSpinning(dataset: AsyncIterable<Batch>, what: string, before = 1, lo = 0, hi = 1e9): Promise<Snap[]> {
  const taken: Snap[] = [];
  const work = (async () => {
    for await (const b of dataset) {
      taken.push(snap(b));
      if (taken.length < before) continue;
      if (!existsSync(FLAG)) spinFrom(lo, hi);
      await spinning();
      break;
    }
  })();
  await within(work, `${what}: the break`);
  expect(taken.length, `${what}: batches before the break`).toBe(before);
  await allStopped(what);
  stopSpinning();
  return taken;
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a job of an epoch still running is never cut', () => {
  it('two datasets on one file: one left again and again while the other reads: the other gets exactly the untimed batches', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const optsA = { ...features, shuffle: 'chunked' as const, seed: 3, batchSize: 50 };
      const optsB = { ...features, shuffle: false as const, batchSize: 64 };
      const truthA = await collect(new ShuffledBatchDataset(file, { ...optsA, map: untimed() }));
      const truthB = await collect(new ShuffledBatchDataset(file, { ...optsB, map: untimed() }));
      writeFileSync(SLOW, '');
      const a = new ShuffledBatchDataset(file, { ...optsA, map: timed() });
      const b = new ShuffledBatchDataset(file, { ...optsB, map: timed() });
      const readB = collect(b);
      // A: one batch, then a break while its jobs (and B's) are in their calls; again and again.
      const gotA: Snap[] = [];
      for (let k = 0; k < 2; k++) gotA.push(...(await collect(a, 1)));
      const gotB = await readB;
      rmSync(SLOW, { force: true });
      gotA.push(...(await collect(a)));
      expect(gotB).toEqual(truthB);
      // Each iteration resumed where the last batch taken left it: together, A's epoch.
      expect(gotA).toEqual(truthA);
    } finally {
      await file.close();
    }
  });

  it('two datasets on one file, one closed (csvDataset owns its file): the other, on its own file, is not touched', async () => {
    const one = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 5, batchSize: 50, map: timed() });
    const two = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 5, batchSize: 50, map: timed() });
    try {
      const truth = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 5, batchSize: 50, map: untimed() });
      const expected = await collect(truth);
      await truth.close();
      writeFileSync(SLOW, '');
      const first = await collect(one, 1);
      const reading = collect(two);
      // Closed while its jobs (and two's) are in their calls.
      await within(one.close(), 'close');
      expect(await reading).toEqual(expected);
      expect(first).toEqual(expected.slice(0, 1));
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('two epochs in a row, left in the first while calls spin: the rest and the next epoch, and a resume from state(), are the untimed batches', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const opts = { ...features, shuffle: 'chunked' as const, seed: 11, batchSize: 50, epochs: 2 };
      const truth = await collect(new ShuffledBatchDataset(file, { ...opts, map: untimed() }));
      const dataset = new ShuffledBatchDataset(file, { ...opts, map: timed() });
      // One chunk read ahead of the window spins (the batches taken and read ahead do not need it; the other
      // worker serves them).
      spinOn(rowsOfNextChunk(file, dataset, 8 * 50));
      const taken = await leaveWhileSpinning(dataset, 'chunked, epoch 0', 3);
      const state = dataset.state();
      expect(state.epoch).toBe(0);
      expect(state.position).toBe(150);
      const resumed = await collect(new ShuffledBatchDataset(file, { ...opts, epochs: 1, state, map: timed() }));
      const rest = await collect(dataset);
      expect(taken).toEqual(truth.slice(0, 3));
      expect(rest).toEqual(truth.slice(3));
      expect(resumed).toEqual(truth.slice(3, truth.length / 2));
    } finally {
      await file.close();
    }
  });

  it('exact shuffle in rounds, left while a round spins: the rest of the epoch and the next one are the untimed batches', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      // Rounds of 2 batches: the next round loads (the batches read ahead) while this one is drawn.
      const opts = { ...features, shuffle: 'exact' as const, seed: 7, batchSize: 50, epochs: 2, shuffleMemoryBytes: 2500 };
      const truth = await collect(new ShuffledBatchDataset(file, { ...opts, map: untimed() }));
      const dataset = new ShuffledBatchDataset(file, { ...opts, map: timed() });
      expect(dataset.roundRows).toBe(100);
      // Every row but the first round's spins: the first batch comes, the second round's load spins.
      const first = new Set(dataset.order().subarray(0, dataset.roundRows));
      spinOn(Array.from({ length: ROWS }, (_, r) => r).filter((r) => !first.has(r)));
      const taken = await leaveWhileSpinning(dataset, 'exact, epoch 0', 1);
      expect(taken).toEqual(truth.slice(0, 1));
      expect(await collect(dataset)).toEqual(truth.slice(1));
    } finally {
      await file.close();
    }
  });

  const windows = { ...features, from: START, to: START + LONG * STEP, batchSize: 256, sequenceLength: 6, sequenceStride: 5 };
  for (const [what, open] of [
    ['one file', () => openIndexed(longPath, { records: 'csv', timeColumn: 'ts' })],
    ['a collection (windows inside each file)', () => openCollection(longGlob, { records: 'csv', timeColumn: 'ts' })],
  ] as const) {
    it(`time-range windows over ${what}: left while a later segment spins, the next pass is the untimed one`, async () => {
      const data: Indexed = await open();
      try {
        const truth = await collect(new TimeRangeDataset(data, { ...windows, map: untimed() }));
        const dataset = new TimeRangeDataset(data, { ...windows, map: timed() });
        // The first segment (rows below LATE) loads at once; the second, read ahead, spins from its second
        // chunk on (its first may hold rows of the first segment: a chunk is parsed whole).
        spinFrom(data.records.recordsOf(data.records.chunkOf(LATE - 1) + 1).first);
        const taken = await leaveWhileSpinning(dataset, `time range over ${what}`, 1);
        expect(taken).toEqual(truth.slice(0, 1));
        expect(await collect(dataset)).toEqual(truth);
      } finally {
        await data.close();
      }
    });
  }

  it('left while calls spin and iterated again at once (the stopped jobs still settling): the rest of the epoch is the untimed batches', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const opts = { ...features, shuffle: false as const, batchSize: 50 };
      const truth = await collect(new ShuffledBatchDataset(file, { ...opts, map: untimed() }));
      const dataset = new ShuffledBatchDataset(file, { ...opts, map: timed() });
      // The batches come from the first chunk; the fourth, read ahead, spins.
      const fourth = file.records.recordsOf(3);
      spinFrom(fourth.first, fourth.end);
      const taken: Snap[] = [];
      for await (const b of dataset) {
        taken.push(snap(b));
        if (taken.length < 2) continue;
        await spinning();
        break;
      }
      // No wait for the stopped call: its job settles while the next iteration's run.
      stopSpinning();
      const rest = await collect(dataset);
      expect(taken).toEqual(truth.slice(0, 2));
      expect(rest).toEqual(truth.slice(2));
      await allStopped('iterated again at once');
    } finally {
      await file.close();
    }
  });

  /**
   * Found by this review: the CLOSED a timed job gets when its collection closes is restated for the member
   * file (rows.ts relocateError); that lookup once needed the member open and gave NOT_OPENED (wrong code,
   * wrong advice, the map and the record lost). It now names the member without opening it (Indexed.fileOf).
   */
  it('a collection closed while a batch waits on a spinning call: CLOSED naming the member file, the map and the record', async () => {
    const collection = await openCollection(collectionGlob, { records: 'csv', timeColumn: 'ts' });
    const dataset = new ShuffledBatchDataset(collection, { ...features, shuffle: false, batchSize: 50, map: timed() });
    // The first batch's chunk spins (the chunks read ahead with it do not).
    spinFrom(0, 50);
    try {
      const first = dataset[Symbol.asyncIterator]()
        .next()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await spinning();
      await within(collection.close(), 'close');
      const error = await within(first, 'the batch awaited');
      await allStopped('collection closed');
      expect(error).toBeInstanceOf(SeekdataError);
      const member = join(collectionGlob, '..', 'part-0.csv.xz');
      expect((error as SeekdataError).message).toMatch(new RegExp(`^${escaped(member)}: map ${escaped(spinner)} was stopped on record \\d+: its data set was closed while it ran \\(collection record \\d+\\)$`));
      expect((error as SeekdataError).code).toBe('CLOSED');
    } finally {
      await collection.close();
    }
  });

  it('a sequential stream left while calls spin: the next pass is the untimed one', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const opts = { ...features, batchSize: 64, startRecord: 700 };
      const truth = await collect(new SequentialStream(file, { ...opts, map: untimed() }));
      const stream = new SequentialStream(file, { ...opts, map: timed() });
      // The stream's fourth chunk (read ahead) spins; the first batches come from the first two.
      const fourth = file.records.recordsOf(file.records.chunkOf(700) + 3);
      spinFrom(fourth.first, fourth.end);
      expect(await leaveWhileSpinning(stream, 'sequential stream', 2)).toEqual(truth.slice(0, 2));
      expect(await collect(stream)).toEqual(truth);
    } finally {
      await file.close();
    }
  });

  it('weighted draws: an epoch left after one batch, then the next epoch: the untimed draws and rows', async () => {
    const base = await csvDataset(csvPath, { ...columns, batchSize: 50, map: timed() });
    const plain = await csvDataset(csvPath, { ...columns, batchSize: 50, map: untimed() });
    try {
      const options = { weights: ({ xs }: { xs: Record<string, number> }) => 1 + (xs.a % 4), numSamples: 400 };
      const weighted = await within(base.weighted(options), 'weighted draws');
      const truth = await within(plain.weighted(options), 'weighted draws');
      writeFileSync(SLOW, '');
      const first = await collect(weighted, 1);
      const next = await collect(weighted);
      expect(first).toEqual((await collect(truth)).slice(0, 1));
      expect(next).toEqual(await collect(truth));
      expect(watchedMapJobs()).toBe(0);
    } finally {
      await base.close();
      await plain.close();
    }
  });

  it('parallelism 1: a timed map is refused by name; an untimed one left mid-epoch (its loads now see the signal) resumes exactly', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts', parallelism: 1 });
    try {
      expect(() => new ShuffledBatchDataset(file, { ...features, map: timed() })).toThrow(/map\.timeoutMs/);
      const opts = { ...features, shuffle: 'chunked' as const, seed: 9, batchSize: 40, map: untimed() };
      const truth = await collect(new ShuffledBatchDataset(file, opts));
      const dataset = new ShuffledBatchDataset(file, opts);
      const got: Snap[] = [];
      for (let k = 0; k < 4; k++) got.push(...(await collect(dataset, 1 + k)));
      got.push(...(await collect(dataset)));
      expect(got).toEqual(truth);
    } finally {
      await file.close();
    }
  });
});

describe('paced loads (training pace)', () => {
  it('jobs: 1, a left epoch: its stopped and gated loads release the gate, the rest of the epoch is the untimed batches', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const opts = { ...features, shuffle: 'chunked' as const, seed: 4, batchSize: 50 };
      const truth = await collect(new ShuffledBatchDataset(file, { ...opts, map: untimed() }));
      const dataset = new ShuffledBatchDataset(file, { ...opts, map: timed() });
      dataset.setTrainingPace({ jobs: 1, nextEpoch: false });
      // One job at a time: the window's chunks, then one read ahead spins, holding the gate; the loads behind
      // it wait in the gate when the epoch is left.
      spinOn(rowsOfUndrawnChunks(file, dataset, 6 * 50));
      const taken = await leaveWhileSpinning(dataset, 'paced, jobs 1', 2);
      expect(taken).toEqual(truth.slice(0, 2));
      // A gate still held by a stopped job would hang here.
      expect(await collect(dataset)).toEqual(truth.slice(2));
    } finally {
      await file.close();
    }
  });

  /**
   * Found by this review: the next epoch's first chunks, loaded ahead under a training pace with `nextEpoch`
   * (toTfDataset's default), were started with no signal: a break in the epoch that took them waited for a
   * spinning call's limit. They now carry a signal of their own, aborted with the taking epoch's (pace.ts).
   */
  it('nextEpoch: a break in the next epoch while a chunk loaded ahead for it spins returns, and the call is stopped', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const chunk1 = file.records.recordsOf(1);
      const dataset = new ShuffledBatchDataset(file, { ...features, shuffle: false, batchSize: 100, epochs: 2, map: timed() });
      dataset.setTrainingPace({ jobs: 1, nextEpoch: true });
      let broke = false;
      const run = (async () => {
        for await (const b of dataset) {
          // Epoch 0 is past chunk 1: from now on only the next epoch's load of it (ahead) spins.
          if (dataset.epoch === 0 && b.records[0] >= chunk1.end + 100 && !existsSync(FLAG)) spinFrom(chunk1.first, chunk1.end);
          if (dataset.epoch === 1) {
            await spinning();
            broke = true;
            break;
          }
        }
      })();
      const left = await Promise.race([run.then(() => true), pause(8_000).then(() => false)]);
      expect(broke, 'reached the next epoch with a call spinning').toBe(true);
      expect(left, 'the break returned').toBe(true);
      await allStopped('paced, next epoch');
    } finally {
      // (The close is what stops the call when the break hangs.)
      stopSpinning();
      await file.close();
      await allStopped('closed');
    }
  });

  /**
   * Loads started ahead for an epoch not begun belong to it (README, map.timeoutMs): the next `for await`
   * takes them. An iteration that starts elsewhere (a later epoch, or past that epoch's beginning) drops
   * them, and they stop; so does a close.
   */
  it('nextEpoch: a spinning load started ahead for an epoch not begun runs on for it, and stops when a later epoch begins instead', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const chunk1 = file.records.recordsOf(1);
      const dataset = new ShuffledBatchDataset(file, { ...features, shuffle: false, batchSize: 100, epochs: 1, map: timed() });
      dataset.setTrainingPace({ jobs: 1, nextEpoch: true });
      const run = (async () => {
        for await (const b of dataset) {
          // Past chunk 1: from now on only the next epoch's load of it (ahead) spins.
          if (b.records[0] >= chunk1.end + 100 && !existsSync(FLAG)) spinFrom(chunk1.first, chunk1.end);
        }
      })();
      await within(run, 'the epoch');
      await spinning();
      // Still the next epoch's: not stopped while nobody iterates.
      await pause(600);
      expect(watchedMapJobs(), 'the load ahead still runs').toBeGreaterThan(0);
      // The next iteration starts at a later epoch: the loads ahead for epoch 1 are nobody's, and stop. (Epoch
      // 3's own loads spin too, from chunk 1 on: the break after its first batch stops those.)
      dataset.setEpoch(3);
      for await (const b of dataset) {
        expect(b.records[0]).toBe(0);
        break;
      }
      await allStopped('loads ahead dropped, the later epoch left');
    } finally {
      stopSpinning();
      await file.close();
      await allStopped('closed');
    }
  });
});

describe('tfjs fitDataset stopped early', () => {
  it('an early stop, then fitDataset again: the batches trained on are exactly the untimed epochs, nothing cut', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const opts: ShuffledBatchOptions = { ...features, shuffle: 'chunked', seed: 21, batchSize: 100, epochs: 1 };
      const truth = [...(await collect(new ShuffledBatchDataset(file, { ...opts, map: untimed() })))];
      const second = new ShuffledBatchDataset(file, { ...opts, map: untimed() });
      second.setEpoch(1);
      truth.push(...(await collect(second)));
      // The timed dataset, seen through a recorder that keeps what tfjs is given (and passes the pace on).
      const dataset = new ShuffledBatchDataset(file, { ...opts, map: timed() });
      const seen: Snap[] = [];
      const recorder = {
        featureNames: dataset.featureNames,
        labelNames: dataset.labelNames,
        parallelism: dataset.parallelism,
        setTrainingPace: (pace: Parameters<ShuffledBatchDataset['setTrainingPace']>[0]) => dataset.setTrainingPace(pace),
        state: () => dataset.state(),
        async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
          for await (const b of dataset) {
            seen.push(snap(b));
            yield b;
          }
        },
      };
      const tfData = toTfDataset(recorder, tf) as unknown as tf.data.Dataset<tf.TensorContainer>;
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
      // (The labels are int32 class ids.)
      model.compile({ optimizer: 'sgd', loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.meanSquaredError(tf.cast(yTrue, 'float32'), yPred) });
      writeFileSync(SLOW, '');
      let batches = 0;
      // Stopped after 4 batches of the first epoch, while its next jobs are in their calls.
      await within(
        model.fitDataset(tfData, {
          epochs: 3,
          verbose: 0,
          callbacks: {
            onBatchEnd: async () => {
              if (++batches === 4) model.stopTraining = true;
            },
          },
        }),
        'fitDataset stopped early',
      );
      rmSync(SLOW, { force: true });
      expect(batches).toBe(4);
      // The rest of epoch 0 (the dropped iteration taken over), then epoch 1.
      await within(model.fitDataset(tfData, { epochs: 2, verbose: 0 }), 'fitDataset again');
      expect(seen.length).toBe(truth.length);
      expect(seen).toEqual(truth);
      model.dispose();
    } finally {
      await file.close();
    }
  });

  /**
   * tfjs `fitDataset` stopped early (model.stopTraining) never closes its iterator, and the adapter keeps
   * the seekdata iteration for the next fitDataset to go on with (tfjs.ts Iterations): the epoch is not
   * left, so its jobs run on (README, map.timeoutMs, says so; this review found it claimed otherwise); a
   * close stops a call of it that spins.
   */
  it('a call spinning when fitDataset is stopped early runs on for the next fitDataset; closing the data set stops it', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const dataset = new ShuffledBatchDataset(file, { ...features, shuffle: false, batchSize: 50, map: timed() });
      // One job at a time: the first three chunks load, the fourth (read ahead) spins.
      const fourth = file.records.recordsOf(3);
      spinFrom(fourth.first, fourth.end);
      const tfData = toTfDataset(dataset, tf, { workerJobs: 1, preloadNextEpoch: false }) as unknown as tf.data.Dataset<tf.TensorContainer>;
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
      model.compile({ optimizer: 'sgd', loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.meanSquaredError(tf.cast(yTrue, 'float32'), yPred) });
      let batches = 0;
      await within(
        model.fitDataset(tfData, {
          epochs: 2,
          verbose: 0,
          callbacks: {
            onBatchEnd: async () => {
              if (++batches === 2) model.stopTraining = true;
            },
          },
        }),
        'fitDataset stopped early',
      );
      expect(batches).toBe(2);
      await spinning();
      await pause(600);
      expect(watchedMapJobs(), 'the kept epoch\'s job still runs').toBeGreaterThan(0);
      model.dispose();
      await within(file.close(), 'close');
      await allStopped('closed after the early stop');
    } finally {
      stopSpinning();
      await file.close();
      await allStopped('closed after the early stop');
    }
  });
});

describe('close() racing jobs that finish', () => {
  it('close at varied moments of an epoch: every batch given is right, a batch awaited is right or CLOSED; no hang; nothing left watched', async () => {
    const opts = { ...columns, shuffle: 'chunked' as const, seed: 13, batchSize: 40 };
    const plain = await csvDataset(csvPath, { ...opts, map: untimed() });
    const truth = await collect(plain);
    await plain.close();
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      if (round % 2 === 1) writeFileSync(SLOW, '');
      else rmSync(SLOW, { force: true });
      const dataset = await csvDataset(csvPath, { ...opts, map: timed() });
      try {
        const iterator = dataset[Symbol.asyncIterator]();
        const got: Snap[] = [];
        for (let k = 0; k < round * 3; k++) {
          const step = await within(iterator.next(), 'a batch');
          if (step.done === true) break;
          got.push(snap(step.value));
        }
        // A batch asked for, then the close at once (round 3 on: a few ms later, as jobs finish).
        type Outcome = { batch: Snap } | { done: true } | { error: unknown };
        const awaited = iterator.next().then(
          (step): Outcome => (step.done === true ? { done: true } : { batch: snap(step.value) }),
          (error: unknown): Outcome => ({ error }),
        );
        if (round >= 3) await pause(round * 7);
        await within(dataset.close(), 'close');
        const last = await within(awaited, 'the batch awaited');
        if ('error' in last) {
          expect(last.error).toBeInstanceOf(SeekdataError);
          expect((last.error as SeekdataError).code, (last.error as SeekdataError).message).toBe('CLOSED');
          outcomes.push('CLOSED');
        } else if ('done' in last) {
          outcomes.push('done');
        } else {
          got.push(last.batch);
          outcomes.push('batch');
        }
        expect(got).toEqual(truth.slice(0, got.length));
        await noneWatched(`close, round ${round}`);
      } finally {
        await dataset.close();
      }
    }
    rmSync(SLOW, { force: true });
    console.log(`close racing jobs: ${outcomes.join(', ')}`);
  });

  it('a break and a close at once while calls spin: both return, the calls stop', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 50, map: timed() });
    try {
      // The first chunk's rows come; the third chunk's load (read ahead) spins.
      const third = dataset.file.records.recordsOf(2);
      spinFrom(third.first, third.end);
      const iterator = dataset[Symbol.asyncIterator]();
      expect((await within(iterator.next(), 'a batch')).done).toBe(false);
      await spinning();
      await within(Promise.all([iterator.return?.(undefined), dataset.close()]), 'break and close');
      await allStopped('break and close');
    } finally {
      stopSpinning();
      await dataset.close();
    }
  });
});

describe('many datasets on one file', () => {
  it('20 datasets each left mid-epoch while calls spin, then the file closed under 10 more: no warning, no stray rejection', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const left = Array.from({ length: 20 }, (_, k) => new ShuffledBatchDataset(file, { ...features, shuffle: 'chunked', seed: k, batchSize: 30, map: timed() }));
      await within(Promise.all(left.map((d) => collect(d, 1))), 'twenty first batches');
      const open = Array.from({ length: 10 }, (_, k) => new ShuffledBatchDataset(file, { ...features, shuffle: k % 2 === 0 ? 'exact' : false, seed: k, batchSize: 30, map: timed() }));
      const running = open.map((d) => collect(d).then(
        () => 'finished',
        (e: unknown) => e,
      ));
      spinFrom();
      await spinning();
      await within(file.close(), 'close');
      for (const outcome of await within(Promise.all(running), 'the ten')) {
        expect(outcome).toBeInstanceOf(SeekdataError);
        expect((outcome as SeekdataError).code).toBe('CLOSED');
      }
      await allStopped('many datasets');
    } finally {
      stopSpinning();
      await file.close();
    }
  });

  it('(last) no process warning (MaxListeners and others) and no unhandled rejection in this file', async () => {
    // Rejections of jobs nobody awaits surface a turn or two after they settle.
    await pause(500);
    expect(warnings).toEqual([]);
    expect(rejections).toEqual([]);
  });
});
