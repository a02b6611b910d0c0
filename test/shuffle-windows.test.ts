/**
 * TimeRangeDataset with `shuffle: 'exact'`: each pass gives exactly the examples (rows, record windows,
 * time windows, with targets, gaps and malformed records) of the time-order pass — each once, with the
 * same values — in a uniform random order of their places that differs between passes and seeds and
 * repeats for the same seed and pass; small budgets take several passes, each round holding at most its
 * budget of rows. On a sorted and an unsorted (time order ≠ file order) file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed, TimeRangeDataset, type Batch, type IndexedFile, type TimeRangeOptions } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture, xz } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';

const N = 6000;
const { csv, rows } = datasetFixture(N, 9);
const tmp = tempDir();
const files: Record<'sorted' | 'unsorted', IndexedFile | undefined> = { sorted: undefined, unsorted: undefined };

beforeAll(async () => {
  files.sorted = await openIndexed(writeFixture(tmp.dir, 's.csv.xz', xz(csv, '--block-size=16KiB')), { records: 'csv', timeColumn: 'time' });
  const lines = csv.toString().trimEnd().split('\n');
  const rand = prng(4);
  const order = rows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const shuffled = [lines[0], ...order.map((i) => lines[i + 1])].join('\n') + '\n';
  files.unsorted = await openIndexed(writeFixture(tmp.dir, 'u.csv.bz2', bzip2(Buffer.from(shuffled), 1)), { records: 'csv', timeColumn: 'time' });
});
afterAll(async () => {
  await files.sorted?.close();
  await files.unsorted?.close();
  await closeSharedPool();
  tmp.cleanup();
});

function file(which: 'sorted' | 'unsorted'): IndexedFile {
  const f = files[which];
  if (f === undefined) throw new Error('fixture not open');
  return f;
}

/** The examples of a pass as `record|xs|ys` keys, in the order given. */
async function pass(ds: AsyncIterable<Batch>): Promise<string[]> {
  const out: string[] = [];
  for await (const b of ds) {
    const x = b.xs.length / b.size;
    const y = b.ys === undefined ? 0 : b.ys.length / b.size;
    for (let k = 0; k < b.size; k++) out.push(`${b.records[k]}|${Array.from(b.xs.subarray(k * x, (k + 1) * x)).join(',')}|${b.ys === undefined ? '' : Array.from(b.ys.subarray(k * y, (k + 1) * y)).join(',')}`);
  }
  return out;
}

const from = rows[200].time;
const to = rows[5500].time;
const features: TimeRangeOptions = { features: ['a', 'b', 'cat'], labels: 'label', batchSize: 50, from, to, onWarning: () => undefined };
/** A parsed row of a round: 4 bytes per feature and label value, 13 bytes of bookkeeping and 4 for planning. */
const rowBytes = (options: TimeRangeOptions): number => 4 * (3 + (options.labels === undefined ? 0 : 1)) + 13 + 4;
const ROW_BYTES = rowBytes(features);
const shapes: Array<[string, Partial<TimeRangeOptions>]> = [
  ['rows', {}],
  ['record windows with a target and gaps', { sequenceLength: 6, sequenceStride: 2, samplingRate: 2, targetOffset: 3, maxGapMs: 60_000 }],
  ['time windows with a time target', { sequenceLength: 4, windowMs: 8_000, strideMs: 8_000, targetOffsetMs: 5_000 }],
  ['record windows without labels, forecasting features', { sequenceLength: 3, targetOffset: 1 }],
];

describe.each(['sorted', 'unsorted'] as const)('shuffle: exact on the %s file', (which) => {
  it.each(shapes)('%s: each pass gives the time-order examples once each, in orders that differ between passes and seeds', async (_name, shape) => {
    const options: TimeRangeOptions = { ...features, ...shape };
    if (_name.includes('without labels')) delete options.labels;
    const timeOrder = new TimeRangeDataset(file(which), options);
    const truth = await pass(timeOrder);
    expect(truth.length).toBeGreaterThan(100);
    const sortedTruth = [...truth].sort();
    for (const budget of [undefined, 700 * rowBytes(options)]) {
      const ds = new TimeRangeDataset(file(which), { ...options, shuffle: 'exact', seed: 3, ...(budget === undefined ? {} : { shuffleMemoryBytes: budget }) });
      const passes = ds.passesPerIteration;
      if (budget === undefined) expect(passes).toBe(1);
      else expect(passes).toBeGreaterThan(1);
      const first = await pass(ds);
      expect(ds.passesMade).toBe(passes);
      expect([...first].sort()).toEqual(sortedTruth);
      expect(ds.skippedWindows).toBe(timeOrder.skippedWindows);
      if (budget !== undefined) expect(ds.peakRoundRows).toBeLessThanOrEqual(700);
      expect(first).not.toEqual(truth);
      const second = await pass(ds);
      expect([...second].sort()).toEqual(sortedTruth);
      expect(second).not.toEqual(first);
      // The same seed repeats the passes; another seed does not.
      expect(await pass(new TimeRangeDataset(file(which), { ...options, shuffle: 'exact', seed: 3 }))).toEqual(first);
      expect(await pass(new TimeRangeDataset(file(which), { ...options, shuffle: 'exact', seed: 4 }))).not.toEqual(first);
    }
  });
});

describe('shuffle: exact on time ranges', () => {
  it('counts the range’s skipped records once per pass, as the time order does', async () => {
    const options: TimeRangeOptions = { ...features, onWarning: () => undefined };
    const timeOrder = new TimeRangeDataset(file('sorted'), options);
    await pass(timeOrder);
    const ds = new TimeRangeDataset(file('sorted'), { ...options, shuffle: 'exact', shuffleMemoryBytes: 500 * ROW_BYTES });
    await pass(ds);
    expect(timeOrder.skipped).toBeGreaterThan(0);
    expect(ds.skipped).toBe(timeOrder.skipped);
    await pass(ds);
    expect(ds.skipped).toBe(timeOrder.skipped);
  });

  it('the first example of a pass is spread over the range (chi-square over 40 bins)', async () => {
    // Records 10..409: none malformed, no gap.
    const ds = new TimeRangeDataset(file('sorted'), { ...features, from: rows[10].time, to: rows[410].time, batchSize: 1, shuffle: 'exact', prefetch: 0 });
    const bins = new Array<number>(40).fill(0);
    const passes = 800;
    for (let p = 0; p < passes; p++) {
      for await (const b of ds) {
        bins[Math.floor((b.records[0] - 10) / 10)]++;
        break;
      }
    }
    const expected = passes / 40;
    // 39 degrees of freedom: the 99.9th percentile is 72.1.
    const chi2 = bins.reduce((s, k) => s + (k - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(72.1);
  });

  it('refuses another shuffle, and a shuffle buffer with it, naming the option', () => {
    expect(() => new TimeRangeDataset(file('sorted'), { ...features, shuffle: 'chunked' as never })).toThrow(/options\.shuffle/);
    expect(() => new TimeRangeDataset(file('sorted'), { ...features, shuffle: 'exact', shuffleBuffer: 10 })).toThrow(/options\.shuffleBuffer/);
    expect(() => new TimeRangeDataset(file('sorted'), { ...features, shuffle: 'exact', shuffleMemoryBytes: 0 })).toThrow(/options\.shuffleMemoryBytes/);
  });
});
