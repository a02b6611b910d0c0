/**
 * Weighted sampling (issue 11 §2, PyTorch's WeightedRandomSampler): records drawn with replacement in
 * proportion to weights from a column or a function. The truth is the fixture's own weights and values,
 * and the draw frequencies they imply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { closeSharedPool, csvDataset, type FileDataset, type WeightedSampleDataset } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-ergo-weighted-');
const ROWS = 6000;
const rows: Array<{ x: number; y: number; w: number }> = [];
let base: FileDataset;

beforeAll(async () => {
  const rand = prng(17);
  const lines = ['x,y,w'];
  for (let i = 0; i < ROWS; i++) {
    // 90% class 0, 10% class 1; w: 0 for every 10th record, else 1 to 4 by the record's group.
    const y = rand() < 0.1 ? 1 : 0;
    const x = Math.round((rand() + y) * 1000) / 1000;
    const w = i % 10 === 0 ? 0 : 1 + (i % 4);
    rows.push({ x, y, w });
    lines.push(`${x},${y},${w}`);
  }
  const path = writeFixture(tmp.dir, 'weighted.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n'), 1));
  base = await csvDataset(path, { columnConfigs: { x: {}, y: { isLabel: true } }, configuredColumnsOnly: true, batchSize: 250, seed: 6 });
});

afterAll(async () => {
  await base.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function epoch(dataset: WeightedSampleDataset): Promise<Array<{ record: number; x: number; y: number }>> {
  const out: Array<{ record: number; x: number; y: number }> = [];
  for await (const b of dataset) for (let k = 0; k < b.size; k++) out.push({ record: b.records[k], x: b.xs[k], y: b.ys?.[k] ?? -1 });
  return out;
}

describe('weighted sampling', () => {
  it('weights from a column: frequencies follow the weights, weight 0 is never drawn, rows are the records', async () => {
    const dataset = await base.weighted({ weights: 'w', numSamples: 40_000 });
    expect(dataset.batchesPerEpoch).toBe(160);
    const drawn = await epoch(dataset);
    expect(drawn).toHaveLength(40_000);
    const total = rows.reduce((s, r) => s + r.w, 0);
    const byGroup = [0, 0, 0, 0];
    for (const d of drawn) {
      const truth = rows[d.record];
      expect(truth.w).toBeGreaterThan(0);
      expect(d.x).toBeCloseTo(truth.x, 3);
      expect(d.y).toBe(truth.y);
      byGroup[d.record % 4]++;
    }
    // Expected share of each group (weights 1 + i % 4, weight-0 records excluded).
    for (let g = 0; g < 4; g++) {
      const share = rows.reduce((s, r, i) => s + (i % 4 === g ? r.w : 0), 0) / total;
      expect(Math.abs(byGroup[g] / drawn.length - share)).toBeLessThan(0.015);
    }
  });

  it('weights from a function balance imbalanced classes; draws depend only on seed and epoch', async () => {
    const counts = [0, 0];
    for (const r of rows) counts[r.y]++;
    const balanced = await base.weighted({ weights: ({ ys }) => 1 / counts[ys.y] });
    const first = await epoch(balanced);
    expect(first).toHaveLength(ROWS);
    const ones = first.filter((d) => d.y === 1).length / first.length;
    expect(ones).toBeGreaterThan(0.46);
    expect(ones).toBeLessThan(0.54);
    const second = await epoch(balanced);
    expect(second.map((d) => d.record)).not.toEqual(first.map((d) => d.record));
    // A new dataset with the same seed draws the same epochs; draws() lists them without reading.
    const again = await base.weighted({ weights: ({ ys }) => 1 / counts[ys.y] });
    expect(Array.from(again.draws(0))).toEqual(first.map((d) => d.record));
    expect(Array.from(again.draws(1))).toEqual(second.map((d) => d.record));
    const reseeded = await base.weighted({ weights: ({ ys }) => 1 / counts[ys.y], seed: 99 });
    expect(Array.from(reseeded.draws(0))).not.toEqual(first.map((d) => d.record));
  });

  it("over a split's train side, draws only its records", async () => {
    const { train } = base.split({ validation: 0.5, seed: 2 });
    const side = new Set<number>();
    for await (const b of train) for (const r of b.records.subarray(0, b.size)) side.add(r);
    const dataset = await train.weighted({ weights: 'w', numSamples: 5000 });
    expect(Array.from(dataset.draws()).every((r) => side.has(r))).toBe(true);
  });

  it('bad weights are refused naming the record; the dataset feeds fitDataset', async () => {
    await expect(base.weighted({ weights: () => -1 })).rejects.toMatchObject({ code: 'MAP_ERROR', record: 0, message: expect.stringMatching(/record 0 weighs -1, not a finite number ≥ 0/) });
    await expect(base.weighted({ weights: ({ record }) => (record === 77 ? Number.NaN : 1) })).rejects.toThrow(/record 77 weighs NaN/);
    await expect(base.weighted({ weights: () => 0 })).rejects.toThrow(/every record weighs 0/);
    await expect(base.weighted({ weights: 'w', replace: false } as never)).rejects.toThrow(/options\.replace is not an option of weightedSample/);
    const dataset = await base.weighted({ weights: 'w', numSamples: 2000, labelType: 'float32' });
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1, activation: 'sigmoid' })] });
    model.compile({ optimizer: tf.train.sgd(0.5), loss: 'binaryCrossentropy' });
    const history = await model.fitDataset(dataset.toTf(tf), { epochs: 2, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    model.dispose();
  });
});
