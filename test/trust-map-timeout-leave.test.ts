/**
 * `map.timeoutMs` when the consumer goes away while a timed call spins: a `break` out of an epoch (chunked,
 * file-order and exact shuffles, time ranges, streams, collections) or a `close()` of the data set while a
 * batch is awaited. The call must be stopped at once — its thread terminated — not left spinning on a
 * core until its limit (here 10 minutes), and the dataset must resume right after a break. The truth: the
 * module's heartbeat file (written every 20 ms while a call spins), the watcher's count of timed jobs in
 * flight, and the rows the fixture was written from.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
  type Batch,
} from '../src/index.js';
import { spinWatch } from './support/map-spin.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-map-leave-');
const ROWS = 3000;
const START = Date.UTC(2024, 0, 1);
const STEP = 60_000;
/** The limit: far longer than any test, so only leaving can stop a spinning call in time. */
const LIMIT = 600_000;
/** How long a stop may take on a loaded machine before the test fails. */
const BOUND = 30_000;
const FLAG = join(tmp.dir, 'spin-now');
const HEART = join(tmp.dir, 'heart');
const { within, spinning, allStopped } = spinWatch(HEART, BOUND);
const xzOptions = ['--block-size=8KiB', '-T1'];
let csvPath = '';
let longPath = '';
let collectionGlob = '';
let spinner = '';
let lateSpinner = '';
/** Rows of the long fixture, and the first record of its second segment of rows (RangeRows: 16,384 a segment). */
const LONG = 20_000;
const LATE = 16_384;
const truth: Array<{ a: number; b: number; y: number }> = [];
const features = { features: ['a', 'b'], labels: 'y' };
const columns = { columnConfigs: { a: {}, b: {}, y: { isLabel: true } }, configuredColumnsOnly: true, timeColumn: 'ts' };


beforeAll(() => {
  const csv = ['ts,a,b,y'];
  for (let i = 0; i < ROWS; i++) {
    const row = { a: i % 97, b: (i * 7) % 13, y: i % 3 };
    truth.push(row);
    csv.push(`${new Date(START + i * STEP).toISOString()},${row.a},${row.b},${row.y}`);
  }
  // Blocks of 8 KiB: ~14 chunks of ~220 records, so a dataset has jobs in flight ahead of the consumer.
  csvPath = writeFixture(tmp.dir, 'rows.csv.xz', xz(Buffer.from(csv.join('\n') + '\n'), ...xzOptions));
  const parts = join(tmp.dir, 'parts');
  mkdirSync(parts);
  writeFixture(parts, 'part-0.csv.xz', xz(Buffer.from([csv[0], ...csv.slice(1, 1501)].join('\n') + '\n'), ...xzOptions));
  writeFixture(parts, 'part-1.csv.xz', xz(Buffer.from([csv[0], ...csv.slice(1501)].join('\n') + '\n'), ...xzOptions));
  collectionGlob = join(parts, '*.csv.xz');
  const long = ['ts,a,b,y'];
  for (let i = 0; i < LONG; i++) long.push(`${new Date(START + i * STEP).toISOString()},${i % 97},${(i * 7) % 13},${i % 3}`);
  longPath = writeFixture(tmp.dir, 'long.csv.xz', xz(Buffer.from(long.join('\n') + '\n'), ...xzOptions));
  // 1 ms a row (jobs stay in flight a while); once the flag exists, a call spins for ever, beating.
  spinner = join(tmp.dir, 'spinner.mjs');
  writeFileSync(
    spinner,
    `import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
const pause = new Int32Array(new SharedArrayBuffer(4));
export default ({ xs }) => {
  if (existsSync(${JSON.stringify(FLAG)})) {
    for (let beat = 0, last = 0; ; ) {
      const now = Date.now();
      // Written whole, then renamed: a reader never sees a file half written.
      if (now - last >= 20) { last = now; writeFileSync(${JSON.stringify(HEART)} + threadId, threadId + ' ' + beat++); renameSync(${JSON.stringify(HEART)} + threadId, ${JSON.stringify(HEART)}); }
    }
  }
  Atomics.wait(pause, 0, 0, 1);
  return { xs };
};
`,
  );
  // The same from record LATE on; quick before it (a time range's first segment loads at once).
  lateSpinner = join(tmp.dir, 'late-spinner.mjs');
  writeFileSync(lateSpinner, `import spin from ${JSON.stringify(spinner)};\nexport default (row) => (row.record < ${LATE} ? { xs: row.xs } : spin(row));\n`);
});

beforeEach(() => {
  rmSync(FLAG, { force: true });
  rmSync(HEART, { force: true });
});

afterAll(async () => {
  rmSync(FLAG, { force: true });
  await closeSharedPool();
  tmp.cleanup();
});

const timed = { module: '', timeoutMs: LIMIT };
const map = (): typeof timed => ({ ...timed, module: spinner });

/** Takes the first batch, lets calls spin, and breaks out; then the stop is awaited. Returns the rows taken. */
async function leaveWhileSpinning(dataset: AsyncIterable<Batch>, what: string): Promise<Map<number, number>> {
  const rows = new Map<number, number>();
  for await (const b of dataset) {
    for (let k = 0; k < b.size; k++) rows.set(b.records[k], b.xs[k * (b.xs.length / b.size)]);
    writeFileSync(FLAG, '');
    await spinning();
    break;
  }
  expect(rows.size, `${what}: a first batch`).toBeGreaterThan(0);
  const ms = await allStopped(what);
  console.log(`${what}: spinning calls stopped ${ms.toFixed(0)} ms after the break`);
  rmSync(FLAG, { force: true });
  return rows;
}

/** The rest of an epoch, checked against the truth; no record twice. */
async function rest(dataset: AsyncIterable<Batch>, taken: Map<number, number>): Promise<void> {
  const rows = new Map(taken);
  for await (const b of dataset) {
    for (let k = 0; k < b.size; k++) {
      expect(rows.has(b.records[k]), `record ${b.records[k]} twice`).toBe(false);
      rows.set(b.records[k], b.xs[k * (b.xs.length / b.size)]);
    }
  }
  expect(rows.size).toBe(ROWS);
  for (const [record, a] of rows) expect(a).toBe(truth[record].a);
}

describe('a break while timed calls spin stops them, and the dataset resumes right', () => {
  it('file order and exact shuffle: stopped within seconds (limit 10 min), the rest of the epoch right after', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const order = new ShuffledBatchDataset(file, { ...features, shuffle: false, batchSize: 50, map: map() });
      await rest(order, await leaveWhileSpinning(order, 'file order'));
      // Rounds of ~300 rows: the next rounds load while the first is drawn.
      const exact = new ShuffledBatchDataset(file, { ...features, shuffle: 'exact', seed: 7, batchSize: 50, shuffleMemoryBytes: 300 * 40, map: map() });
      await rest(exact, await leaveWhileSpinning(exact, 'exact shuffle'));
      const chunked = new ShuffledBatchDataset(file, { ...features, shuffle: 'chunked', seed: 7, batchSize: 50, map: map() });
      await rest(chunked, await leaveWhileSpinning(chunked, 'chunked shuffle'));
    } finally {
      await file.close();
    }
  });

  it('a sequential stream, time range rows, a collection', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const stream = new SequentialStream(file, { ...features, batchSize: 50, map: map() });
      await leaveWhileSpinning(stream, 'sequential stream');
    } finally {
      await file.close();
    }
    const long = await openIndexed(longPath, { records: 'csv', timeColumn: 'ts' });
    try {
      const range = new TimeRangeDataset(long, { ...features, from: START, to: START + LONG * STEP, batchSize: 50, map: { ...timed, module: lateSpinner } });
      await leaveWhileSpinning(range, 'time range');
    } finally {
      await long.close();
    }
    const collection = await openCollection(collectionGlob, { records: 'csv', timeColumn: 'ts' });
    try {
      const dataset = new ShuffledBatchDataset(collection, { ...features, shuffle: false, batchSize: 50, map: map() });
      await rest(dataset, await leaveWhileSpinning(dataset, 'collection'));
    } finally {
      await collection.close();
    }
  });
});

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('close() while a batch waits on a spinning call', () => {
  it('the batch fails with CLOSED naming the file, module and record; the call is stopped; the pool works after', async () => {
    writeFileSync(FLAG, '');
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 1, batchSize: 50, map: map() });
    try {
      const first = dataset[Symbol.asyncIterator]()
        .next()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await spinning();
      await within(dataset.close(), 'close');
      const error = await within(first, 'the batch awaited');
      expect(error).toBeInstanceOf(SeekdataError);
      expect((error as SeekdataError).code).toBe('CLOSED');
      expect((error as SeekdataError).message).toMatch(new RegExp(`^${escaped(csvPath)}: map ${escaped(spinner)} was stopped on record \\d+: its data set was closed while it ran$`));
      await allStopped('close while awaited');
    } finally {
      // (Again when the test failed early: a call left spinning would hold a thread for the rest of the file.)
      await dataset.close();
    }
    rmSync(FLAG, { force: true });
    const plain = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 2, batchSize: 500 });
    try {
      await rest(plain, new Map());
    } finally {
      await plain.close();
    }
  });

  it('weighted draws (records parsed in jobs of their own): close stops the call', async () => {
    const base = await csvDataset(csvPath, { ...columns, batchSize: 50, map: map() });
    try {
      const weighted = await within(base.weighted({ weights: () => 1, numSamples: 200 }), 'weighted draws');
      writeFileSync(FLAG, '');
      const first = weighted[Symbol.asyncIterator]()
        .next()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      await spinning();
      await within(base.close(), 'close');
      const error = await within(first, 'the batch awaited');
      expect((error as SeekdataError).code).toBe('CLOSED');
      await allStopped('weighted, close while awaited');
    } finally {
      await base.close();
    }
  });
});
