/**
 * `map.timeoutMs`: a map call (one row, or one batched call) that runs past the limit — an endless
 * synchronous loop, a promise that never settles — stops the dataset with a MAP_ERROR naming the file, the
 * record(s), the module and the limit, on every path that runs a map; its worker thread is terminated and
 * the pool stays usable. A map that is merely slow is never stopped, however long its jobs wait in the
 * pool's queue or take in all. The truth: the record the fixture module stalls on, and the plain rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  closeSharedPool,
  csvDataset,
  jsonlDataset,
  openCollection,
  openIndexed,
  SeekdataError,
  SequentialStream,
  ShuffledBatchDataset,
  TimeRangeDataset,
  type Batch,
} from '../src/index.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-map-timeout-');
const ROWS = 3000;
/** The record the stalling modules stall on. */
const STALL = 1700;
const START = Date.UTC(2024, 0, 1);
const STEP = 60_000;
/** The limit of the stalling tests: a call past it is stopped. */
const LIMIT = 300;
/** How long a stalled dataset may take to reject before the test calls it hung (generous: a loaded machine). */
const BOUND = 90_000;
const xzOptions = ['--block-size=8KiB', '-T1'];
let csvPath = '';
let jsonlPath = '';
let collectionGlob = '';
let baselineThreads = 0;
const modules: Record<string, string> = {};
const rows: Array<{ a: number; b: number; y: number }> = [];

function threads(): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
}

function module(name: string, code: string): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, code);
  modules[name] = file;
  return file;
}

async function count(dataset: AsyncIterable<Batch>): Promise<number> {
  let n = 0;
  for await (const b of dataset) n += b.size;
  return n;
}

/** The outcome of running `work` to its end: a MAP_ERROR expected, well within BOUND. */
async function stops(work: Promise<unknown>): Promise<SeekdataError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${BOUND} ms`), BOUND)));
  const outcome = await Promise.race([work.then(() => 'finished without an error', (error: unknown) => error), hung]);
  clearTimeout(timer);
  expect(outcome).toBeInstanceOf(SeekdataError);
  const error = outcome as SeekdataError;
  expect(error.code).toBe('MAP_ERROR');
  return error;
}

const columns = { columnConfigs: { a: {}, b: {}, y: { isLabel: true } }, configuredColumnsOnly: true, timeColumn: 'ts' };

beforeAll(async () => {
  const csv = ['ts,a,b,y,w'];
  const jsonl: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    const row = { a: i % 97, b: (i * 7) % 13, y: i % 3 };
    rows.push(row);
    const ts = new Date(START + i * STEP).toISOString();
    // w: a weight column that only the stalling record has (weighted draws then draw it).
    csv.push(`${ts},${row.a},${row.b},${row.y},${i === STALL ? 1 : 0}`);
    jsonl.push(JSON.stringify({ ts, ...row }));
  }
  // Blocks of 8 KiB: about 14 chunks, so a dataset runs many jobs.
  csvPath = writeFixture(tmp.dir, 'rows.csv.xz', xz(Buffer.from(csv.join('\n') + '\n'), ...xzOptions));
  jsonlPath = writeFixture(tmp.dir, 'rows.jsonl.xz', xz(Buffer.from(jsonl.join('\n') + '\n'), ...xzOptions));
  const parts = join(tmp.dir, 'parts');
  mkdirSync(parts);
  writeFixture(parts, 'part-0.csv.xz', xz(Buffer.from([csv[0], ...csv.slice(1, 1501)].join('\n') + '\n'), ...xzOptions));
  writeFixture(parts, 'part-1.csv.xz', xz(Buffer.from([csv[0], ...csv.slice(1501)].join('\n') + '\n'), ...xzOptions));
  collectionGlob = join(parts, '*.csv.xz');

  module('loop.mjs', `export default ({ xs, record }) => { if (record === ${STALL}) for (;;) {} return { xs }; };\n`);
  module('never.mjs', `export default ({ xs, records }) => (records.includes(${STALL}) ? new Promise(() => {}) : { xs });\n`);
  module('never-loads.mjs', `await new Promise(() => {});\nexport default ({ xs }) => ({ xs });\n`);
  module('throws.mjs', `export default ({ xs, record }) => { if (record === ${STALL}) throw new Error('no'); return { xs }; };\n`);
  // Slow, never past the limit in one call: 1 ms a row (a job of ~230 rows takes longer than the limit), 150 ms a batched call.
  const sleep = 'const pause = new Int32Array(new SharedArrayBuffer(4)); const sleep = (ms) => Atomics.wait(pause, 0, 0, ms);';
  module('slow-rows.mjs', `${sleep}\nexport default ({ xs }) => { sleep(1); return { xs: { twice: xs.a * 2 } }; };\n`);
  module('slow-batches.mjs', `${sleep}\nexport default ({ xs, size }) => { sleep(150); return { xs: { sum: xs.a.map((a, k) => a + xs.b[k]) } }; };\n`);

  // The thread count of this process with the shared pool closed, after a dataset has run (so the threads
  // Node starts on first use exist): no thread of a stopped map may outlive the pool.
  const warm = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 500 });
  expect(await count(warm)).toBe(ROWS);
  await warm.close();
  await closeSharedPool();
  baselineThreads = threads();
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

describe('map.timeoutMs stops a map that does not return', () => {
  it('an endless loop in a row map: MAP_ERROR naming the file, the record, the module and the limit', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 100, map: { module: modules['loop.mjs'], timeoutMs: LIMIT } });
    try {
      const error = await stops(count(dataset));
      expect(error.message).toBe(`${csvPath}: map ${modules['loop.mjs']} did not return within ${LIMIT} ms on record ${STALL}`);
      expect(error.record).toBe(STALL);
      expect(error.file).toBe(csvPath);
    } finally {
      await dataset.close();
    }
  });

  it('a batched call whose promise never settles: MAP_ERROR naming the first and last record of the call', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 100, map: { module: modules['never.mjs'], batched: true, timeoutMs: LIMIT } });
    try {
      const error = await stops(count(dataset));
      const match = /^(.*): map (.*) did not return within 300 ms on records (\d+) to (\d+) \(a batched call of (\d+) rows\)$/.exec(error.message);
      expect(match).not.toBeNull();
      const [, file, mod, first, last, size] = match ?? [];
      expect([file, mod]).toEqual([csvPath, modules['never.mjs']]);
      expect(Number(first)).toBeLessThanOrEqual(STALL);
      expect(Number(last)).toBeGreaterThanOrEqual(STALL);
      // One chunk's records (a job of the 8 KiB blocks), all of them: nothing is skipped in this file.
      expect(Number(size)).toBe(Number(last) - Number(first) + 1);
      expect(error.record).toBe(Number(first));
    } finally {
      await dataset.close();
    }
  });

  it('a module whose loading never ends: MAP_ERROR saying it did not load, as of the first record of the job', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 100, map: { module: modules['never-loads.mjs'], timeoutMs: LIMIT } });
    try {
      const error = await stops(count(dataset));
      expect(error.message).toMatch(new RegExp(`^${csvPath}: map ${modules['never-loads.mjs']} did not load within ${LIMIT} ms on record \\d+$`));
      expect(error.record).toBeGreaterThanOrEqual(0);
    } finally {
      await dataset.close();
    }
  });

  it('after the error, next() behaves as after a MAP_ERROR thrown by the map', async () => {
    const after = async (name: string, timeoutMs?: number): Promise<unknown[]> => {
      const dataset = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 100, map: { module: modules[name], ...(timeoutMs === undefined ? {} : { timeoutMs }) } });
      try {
        const it = dataset[Symbol.asyncIterator]();
        let error: unknown;
        for (let k = 0; k < 100 && error === undefined; k++) await it.next().catch((e: unknown) => (error = e));
        const outcome = (p: Promise<IteratorResult<Batch>>): Promise<unknown> => p.then((r) => (r.done === true ? 'done' : 'a batch'), (e: unknown) => (e instanceof SeekdataError ? e.code : String(e)));
        return [error instanceof SeekdataError ? error.code : String(error), await outcome(it.next()), await outcome(it.next())];
      } finally {
        await dataset.close();
      }
    };
    const thrown = await after('throws.mjs');
    expect(thrown[0]).toBe('MAP_ERROR');
    expect(await after('loop.mjs', LIMIT)).toEqual(thrown);
  });

  it('on every path that runs a map: shuffles (chunked, exact), time ranges (rows, windows), streams, JSONL, weighted draws', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', timeColumn: 'ts' });
    const loop = { features: ['a', 'b'], labels: 'y', batchSize: 64, map: { module: modules['loop.mjs'], timeoutMs: LIMIT } };
    const never = { ...loop, map: { module: modules['never.mjs'], batched: true, timeoutMs: LIMIT } };
    const range = { from: START, to: START + ROWS * STEP };
    try {
      const cases: Array<[string, () => AsyncIterable<Batch>, 'row' | 'batched']> = [
        ['chunked shuffle', () => new ShuffledBatchDataset(file, { ...loop, shuffle: 'chunked', seed: 3 }), 'row'],
        ['exact shuffle', () => new ShuffledBatchDataset(file, { ...never, shuffle: 'exact', seed: 3 }), 'batched'],
        ['exact shuffle, row map', () => new ShuffledBatchDataset(file, { ...loop, shuffle: 'exact', seed: 4 }), 'row'],
        ['time range rows', () => new TimeRangeDataset(file, { ...loop, ...range }), 'row'],
        ['time range windows', () => new TimeRangeDataset(file, { ...never, ...range, sequenceLength: 8, targetOffset: 1, labelType: 'float32' }), 'batched'],
        ['sequential stream', () => new SequentialStream(file, { ...loop }), 'row'],
      ];
      for (const [name, make, kind] of cases) {
        const error = await stops(count(make()));
        const mod = kind === 'row' ? modules['loop.mjs'] : modules['never.mjs'];
        expect(error.message, name).toContain(`map ${mod} did not return within ${LIMIT} ms on record`);
        if (kind === 'row') expect(error.record, name).toBe(STALL);
        else expect(error.message, name).toMatch(/on records \d+ to \d+ \(a batched call of \d+ rows\)$/);
      }
    } finally {
      await file.close();
    }
    const json = await jsonlDataset(jsonlPath, { ...columns, shuffle: 'chunked', batchSize: 64, map: { module: modules['loop.mjs'], timeoutMs: LIMIT } });
    try {
      const error = await stops(count(json));
      expect(error.message).toBe(`${jsonlPath}: map ${modules['loop.mjs']} did not return within ${LIMIT} ms on record ${STALL}`);
    } finally {
      await json.close();
    }
    // Weighted draws parse the records drawn in jobs of their own (not whole chunks); only STALL weighs > 0.
    const base = await csvDataset(csvPath, { ...columns, batchSize: 64, map: { module: modules['loop.mjs'], timeoutMs: LIMIT } });
    try {
      const weighted = await base.weighted({ weights: 'w', numSamples: 20 });
      const error = await stops(count(weighted));
      expect(error.record).toBe(STALL);
    } finally {
      await base.close();
    }
  });

  it('over a collection: the error names the member file and its own record', async () => {
    const collection = await openCollection(collectionGlob, { records: 'csv', timeColumn: 'ts' });
    try {
      const dataset = new ShuffledBatchDataset(collection, { features: ['a', 'b'], labels: 'y', batchSize: 64, shuffle: 'chunked', map: { module: modules['loop.mjs'], timeoutMs: LIMIT } });
      const error = await stops(count(dataset));
      const member = join(tmp.dir, 'parts', 'part-1.csv.xz');
      expect(error.message).toBe(`${member}: map ${modules['loop.mjs']} did not return within ${LIMIT} ms on record ${STALL - 1500} (collection record ${STALL})`);
      expect(error.record).toBe(STALL - 1500);
    } finally {
      await collection.close();
    }
  });

  it('a big unit read in pieces (whose steps otherwise run in the calling thread) is stopped in a worker', async () => {
    const lines = ['a,b,y', ...rows.map((r) => `${r.a},${r.b},${r.y}`)];
    const one = writeFixture(tmp.dir, 'one-block.csv.xz', xz(Buffer.from(lines.join('\n') + '\n'), '-T1'));
    const file = await openIndexed(one, { records: 'csv', bigUnitBytes: 16 << 10, pieceBytes: 4 << 10 });
    try {
      expect(file.info().chunks).toBeGreaterThan(4);
      const error = await stops(count(new ShuffledBatchDataset(file, { features: ['a', 'b'], batchSize: 64, shuffle: false, map: { module: modules['loop.mjs'], timeoutMs: LIMIT } })));
      expect(error.record).toBe(STALL);
    } finally {
      await file.close();
    }
  });
});

describe('map.timeoutMs never stops a map that is merely slow', () => {
  it('two datasets at once, a long queue, jobs longer than the limit: every row arrives, mapped', async () => {
    // Each job of the row map takes ~230 rows × 1 ms (longer than the limit), the batched map 150 ms a call,
    // and with both datasets' jobs in the pool most jobs wait in its queue for longer than the limit.
    const limit = 200;
    const slowRows = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 1, batchSize: 128, map: { module: modules['slow-rows.mjs'], features: ['twice'], timeoutMs: limit } });
    const slowBatches = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 128, map: { module: modules['slow-batches.mjs'], batched: true, features: ['sum'], timeoutMs: limit } });
    try {
      const seen = async (dataset: AsyncIterable<Batch>): Promise<Map<number, number>> => {
        const out = new Map<number, number>();
        for await (const b of dataset) for (let k = 0; k < b.size; k++) out.set(b.records[k], b.xs[k]);
        return out;
      };
      const [twice, sum] = await Promise.all([seen(slowRows), seen(slowBatches)]);
      expect(twice.size).toBe(ROWS);
      expect(sum.size).toBe(ROWS);
      rows.forEach((r, i) => {
        expect(twice.get(i)).toBe(r.a * 2);
        expect(sum.get(i)).toBe(r.a + r.b);
      });
    } finally {
      await slowRows.close();
      await slowBatches.close();
    }
  });
});

describe('map.timeoutMs is validated', () => {
  it('a positive finite number of ms, named in the error; a misspelling gets a did-you-mean', async () => {
    for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, '300', null]) {
      const error = await csvDataset(csvPath, { ...columns, map: { module: modules['loop.mjs'], timeoutMs: bad as number } }).catch((e: unknown) => e);
      expect(error, String(bad)).toBeInstanceOf(SeekdataError);
      expect((error as SeekdataError).code).toBe('INVALID_OPTION');
      expect((error as SeekdataError).option).toBe('map.timeoutMs');
      expect((error as SeekdataError).message).toMatch(/^options\.map\.timeoutMs must be a positive finite number of milliseconds, got /);
    }
    const typo = await csvDataset(csvPath, { ...columns, map: { module: modules['loop.mjs'], timeoutMS: 300 } as unknown as { module: string } }).catch((e: unknown) => e);
    expect((typo as SeekdataError).message).toMatch(/options\.map\.timeoutMS is not an option of map; did you mean timeoutMs\?/);
    const fine = await csvDataset(csvPath, { ...columns, shuffle: false, batchSize: 1000, map: { module: modules['throws.mjs'], timeoutMs: 0.5 } });
    expect(fine.featureNames).toEqual(['a', 'b']);
    await fine.close();
  });

  it('without worker threads (parallelism 1) a limit cannot be kept: INVALID_OPTION naming map.timeoutMs', async () => {
    const file = await openIndexed(csvPath, { records: 'csv', parallelism: 1 });
    try {
      const error = (() => {
        try {
          return new ShuffledBatchDataset(file, { features: ['a', 'b'], map: { module: modules['loop.mjs'], timeoutMs: LIMIT } });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(SeekdataError);
      expect((error as SeekdataError).code).toBe('INVALID_OPTION');
      expect((error as SeekdataError).option).toBe('map.timeoutMs');
      expect((error as SeekdataError).message).toMatch(/parallelism 1/);
    } finally {
      await file.close();
    }
  });
});

describe('after stopped maps', () => {
  it('the pool is usable, closes, and no thread of a stopped map is left', async () => {
    const dataset = await csvDataset(csvPath, { ...columns, shuffle: 'chunked', seed: 9, batchSize: 256 });
    const seen = new Set<number>();
    for await (const b of dataset) for (let k = 0; k < b.size; k++) seen.add(b.records[k]);
    await dataset.close();
    expect(seen.size).toBe(ROWS);
    // A stuck job would keep closeSharedPool waiting for ever (it waits for the jobs in flight).
    const closed = await Promise.race([closeSharedPool().then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, BOUND, 'still waiting')).then(String)]);
    expect(closed).toBe('closed');
    // The terminated threads are gone: back to the count with no pool (polled: a thread exits a moment after it is terminated).
    let now = threads();
    for (let k = 0; k < 100 && now > baselineThreads; k++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = threads();
    }
    expect(now).toBeLessThanOrEqual(baselineThreads);
  });
});
