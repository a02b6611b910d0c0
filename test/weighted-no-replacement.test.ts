/**
 * Weighted sampling without replacement (PyTorch's WeightedRandomSampler(replacement=False)): each epoch draws
 * distinct records of weight > 0, in proportion to the weights left. The truth: the fixture's weights, the
 * sequential-draw probabilities they imply (first draw w_i / S, second w_j / (S - w_i)), and the records' values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, csvDataset, isSeekdataError, type FileDataset, type WeightedSampleDataset } from '../src/index.js';
import { raceOrder, raceOrderByComparator } from '../src/datasets/weighted-race.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-weighted-norepl-');
const ROWS = 2000;
/** Weight of record i: 0 for every 10th, else 1 + i % 4. */
const weightOf = (i: number): number => (i % 10 === 0 ? 0 : 1 + (i % 4));
let base: FileDataset;

beforeAll(async () => {
  const lines = ['x,w'];
  for (let i = 0; i < ROWS; i++) lines.push(`${i},${weightOf(i)}`);
  const path = writeFixture(tmp.dir, 'norepl.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n'), 1));
  base = await csvDataset(path, { columnConfigs: { x: {} }, configuredColumnsOnly: true, batchSize: 100, seed: 3 });
});

afterAll(async () => {
  await base.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function epoch(dataset: WeightedSampleDataset): Promise<Array<{ record: number; x: number }>> {
  const out: Array<{ record: number; x: number }> = [];
  for await (const b of dataset) for (let k = 0; k < b.size; k++) out.push({ record: b.records[k], x: b.xs[k] });
  return out;
}

const drawable = Array.from({ length: ROWS }, (_, i) => i).filter((i) => weightOf(i) > 0);

describe('weighted sampling without replacement', () => {
  it('by default an epoch is every record of weight > 0 once, in a weighted order, with its own row', async () => {
    const dataset = await base.weighted({ weights: 'w', replacement: false });
    expect(dataset.replacement).toBe(false);
    expect(dataset.numSamples).toBe(drawable.length);
    const drawn = await epoch(dataset);
    expect(drawn.map((d) => d.record).sort((a, b) => a - b)).toEqual(drawable);
    for (const d of drawn) expect(d.x).toBe(d.record);
    // Heavier records come earlier: the mean position of weight-4 records is before that of weight-1 ones.
    const meanPosition = (w: number): number => {
      const at = drawn.flatMap((d, k) => (weightOf(d.record) === w ? [k] : []));
      return at.reduce((s, k) => s + k, 0) / at.length;
    };
    expect(meanPosition(4)).toBeLessThan(meanPosition(1) * 0.8);
  });

  it('numSamples distinct records per epoch; epochs differ; the same seed gives the same draws', async () => {
    const a = await base.weighted({ weights: 'w', replacement: false, numSamples: 500 });
    const b = await base.weighted({ weights: 'w', replacement: false, numSamples: 500 });
    const e0 = Array.from(a.draws(0));
    expect(e0).toHaveLength(500);
    expect(new Set(e0).size).toBe(500);
    for (const r of e0) expect(weightOf(r)).toBeGreaterThan(0);
    expect(Array.from(b.draws(0))).toEqual(e0);
    expect(Array.from(a.draws(1))).not.toEqual(e0);
    // The first numSamples of the full order: a prefix, not a different draw.
    const full = await base.weighted({ weights: 'w', replacement: false });
    expect(Array.from(full.draws(0)).slice(0, 500)).toEqual(e0);
  });

  it('the first and second draws follow the sequential probabilities w_i / S and w_j / (S - w_i)', () => {
    const weights = Float64Array.from([1, 2, 3, 4, 0]);
    const S = 10;
    const EPOCHS = 20_000;
    const first = [0, 0, 0, 0, 0];
    let firstIs3SecondIs0 = 0;
    for (let e = 0; e < EPOCHS; e++) {
      const order = raceOrder(weights, 2, 11, e);
      expect(order).toHaveLength(2);
      expect(order[0]).not.toBe(order[1]);
      first[order[0]]++;
      if (order[0] === 3 && order[1] === 0) firstIs3SecondIs0++;
    }
    expect(first[4]).toBe(0);
    for (let i = 0; i < 4; i++) {
      const p = weights[i] / S;
      // Within 5 standard deviations of a binomial count.
      expect(Math.abs(first[i] - EPOCHS * p)).toBeLessThan(5 * Math.sqrt(EPOCHS * p * (1 - p)));
    }
    const p30 = (4 / S) * (1 / (S - 4));
    expect(Math.abs(firstIs3SecondIs0 - EPOCHS * p30)).toBeLessThan(5 * Math.sqrt(EPOCHS * p30 * (1 - p30)));
  });

  it('the sort of coarse keys gives the order of the comparator sort exactly, runs of equal coarse keys included', () => {
    for (const n of [1, 7, 300, 60_000]) {
      // Weights 0 (never drawn), a subnormal one (its key overflows to the largest double: one long run) and 1-7.
      const weights = Float64Array.from({ length: n }, (_, i) => (i % 5 === 0 && n > 1 ? 0 : i % 3 === 0 ? 1e-320 : 1 + (i % 7)));
      const m = weights.filter((w) => w > 0).length;
      for (const k of [1, Math.ceil(m / 3), m]) {
        const truth = Array.from(raceOrderByComparator(weights, k, 9, 4));
        expect(truth).toHaveLength(k);
        // 27 record bits (the default) and 32 (20 mantissa bits left: many equal coarse keys to put in order).
        expect(Array.from(raceOrder(weights, k, 9, 4))).toEqual(truth);
        expect(Array.from(raceOrder(weights, k, 9, 4, 32))).toEqual(truth);
      }
    }
  });

  it('sharded: the ranks together draw the unsharded epoch, padded from its start to equal counts', async () => {
    const whole = Array.from((await base.weighted({ weights: 'w', replacement: false, numSamples: 101 })).draws(2));
    const ranks = await Promise.all([0, 1, 2].map((rank) => base.weighted({ weights: 'w', replacement: false, numSamples: 101, rank, worldSize: 3 })));
    const per = ranks.map((d) => Array.from(d.draws(2)));
    for (const p of per) expect(p).toHaveLength(34);
    const stream: number[] = [];
    for (let i = 0; i < 34; i++) for (const p of per) stream.push(p[i]);
    expect(stream.slice(0, 101)).toEqual(whole);
    expect(stream.slice(101)).toEqual(whole.slice(0, 1));
  });

  it('a split side draws only its own records', async () => {
    const { train } = base.split({ validation: 0.5, seed: 2 });
    const dataset = await train.weighted({ weights: 'w', replacement: false });
    const own = new Set<number>();
    for await (const b of train) for (let k = 0; k < b.size; k++) own.add(b.records[k]);
    const drawn = Array.from(dataset.draws(0));
    expect(new Set(drawn).size).toBe(drawn.length);
    for (const r of drawn) expect(own.has(r)).toBe(true);
    expect(drawn.length).toBe([...own].filter((r) => weightOf(r) > 0).length);
  });

  it('more samples than records of weight > 0, or a replacement that is not a boolean, is an INVALID_OPTION', async () => {
    const tooMany = await base.weighted({ weights: 'w', replacement: false, numSamples: drawable.length + 1 }).catch((e: unknown) => e);
    expect(isSeekdataError(tooMany, 'INVALID_OPTION')).toBe(true);
    expect((tooMany as { option?: string }).option).toBe('numSamples');
    expect(String(tooMany)).toMatch(/exceeds the 1800 records of weight > 0/);
    const notBoolean = await base.weighted({ weights: 'w', replacement: 'no' as unknown as boolean }).catch((e: unknown) => e);
    expect(isSeekdataError(notBoolean, 'INVALID_OPTION')).toBe(true);
    expect((notBoolean as { option?: string }).option).toBe('replacement');
  });

  it('with replacement (the default) a record can come twice', async () => {
    const dataset = await base.weighted({ weights: 'w', numSamples: 3000 });
    expect(dataset.replacement).toBe(true);
    const drawn = Array.from(dataset.draws(0));
    expect(new Set(drawn).size).toBeLessThan(drawn.length);
  });
});
