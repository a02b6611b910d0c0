/**
 * Named inputs and outputs (issue 11 §2): batches as dicts of columns for multi-input / multi-output
 * tfjs models, next to the row-major matrix. The truth is the matrix form of the same batches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchColumns, closeSharedPool, csvDataset, type FileDataset } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-ergo-named-');
let path = '';

beforeAll(() => {
  const rand = prng(9);
  const lines = ['a,b,c,y'];
  for (let i = 0; i < 1200; i++) {
    const a = rand() * 2 - 1;
    const b = rand() * 2 - 1;
    const c = rand() * 2 - 1;
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${c.toFixed(4)},${a + 0.5 * c > 0 ? 'up' : b > 0.3 ? 'flat' : 'down'}`);
  }
  path = writeFixture(tmp.dir, 'named.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n')));
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const open = (extra: Record<string, unknown> = {}): Promise<FileDataset> => csvDataset(path, { columnConfigs: { y: { isLabel: true } }, shuffle: false, batchSize: 100, oneHot: true, ...extra });

/** Columns `cols` (positions) of a row-major [rows, width] array. */
function pick(values: ArrayLike<number>, width: number, cols: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / width; r++) for (const c of cols) out.push(values[r * width + c]);
  return out;
}

describe('named inputs and outputs', () => {
  it('toTf gives dict xs / ys whose tensors are the named columns of the matrix batches', async () => {
    const dataset = await open();
    try {
      const matrices: Array<{ xs: Float32Array; ys: Float32Array | Int32Array | undefined }> = [];
      for await (const b of dataset) matrices.push({ xs: b.xs.slice(), ys: b.ys?.slice() });
      const named = dataset.toTf(tf, { inputs: { first: ['a'], rest: ['c', 'b'] }, outputs: 'columns' });
      let k = 0;
      await named.forEachAsync((element) => {
        const e = element as unknown as { xs: Record<string, tf.Tensor>; ys: Record<string, tf.Tensor> };
        const m = matrices[k++];
        expect(Object.keys(e.xs)).toEqual(['first', 'rest']);
        expect(e.xs.first.shape).toEqual([100, 1]);
        expect(e.xs.rest.shape).toEqual([100, 2]);
        expect(Array.from(e.xs.first.dataSync())).toEqual(pick(m.xs, 3, [0]));
        expect(Array.from(e.xs.rest.dataSync())).toEqual(pick(m.xs, 3, [2, 1]));
        // A one-hot label owns its whole width.
        expect(e.ys.y.shape).toEqual([100, 3]);
        expect(Array.from(e.ys.y.dataSync())).toEqual(Array.from(m.ys ?? []));
        tf.dispose([...Object.values(e.xs), ...Object.values(e.ys)]);
      });
      expect(k).toBe(12);
      // 'columns': one [batch, 1] tensor per feature, as tf.data.csv's dict elements, batched.
      const columns = dataset.toTf(tf, { inputs: 'columns', xsOnly: true });
      const first = (await (await columns.iterator()).next()).value as { xs: Record<string, tf.Tensor> };
      expect(Object.keys(first.xs)).toEqual(['a', 'b', 'c']);
      expect(first.xs.c.shape).toEqual([100, 1]);
      expect(Array.from(first.xs.c.dataSync())).toEqual(pick(matrices[0].xs, 3, [2]));
      tf.dispose(Object.values(first.xs));
    } finally {
      await dataset.close();
    }
  });

  it('a two-input functional model trains on them through fitDataset, without leaking tensors', async () => {
    const dataset = await open({ standardize: true, shuffle: 'chunked', seed: 2 });
    try {
      const first = tf.input({ name: 'first', shape: [1] });
      const rest = tf.input({ name: 'rest', shape: [2] });
      const hidden = tf.layers.dense({ units: 8, activation: 'relu' }).apply(tf.layers.concatenate().apply([first, rest])) as tf.SymbolicTensor;
      const y = tf.layers.dense({ units: 3, activation: 'softmax', name: 'y' }).apply(hidden) as tf.SymbolicTensor;
      const model = tf.model({ inputs: [first, rest], outputs: y });
      model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
      const before = tf.memory().numTensors;
      const history = await model.fitDataset(dataset.toTf(tf, { inputs: { first: ['a'], rest: ['b', 'c'] }, outputs: { y: ['y'] } }), { epochs: 4, verbose: 0 });
      const loss = history.history.loss as number[];
      expect(loss[3]).toBeLessThan(loss[0]);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    } finally {
      await dataset.close();
    }
  });

  it('batchColumns gives a batch as dicts of typed columns for hand-written loops', async () => {
    const dataset = await open({ oneHot: false });
    try {
      for await (const b of dataset) {
        const { xs, ys } = batchColumns(b, dataset.featureNames, dataset.labelNames);
        expect(Object.keys(xs)).toEqual(['a', 'b', 'c']);
        expect(Array.from(xs.b)).toEqual(pick(b.xs, 3, [1]));
        expect(ys.y).toBeInstanceOf(Int32Array);
        expect(Array.from(ys.y)).toEqual(Array.from(b.ys ?? []));
        break;
      }
    } finally {
      await dataset.close();
    }
  });

  it('refuses names the dataset does not have', async () => {
    const dataset = await open();
    try {
      expect(() => dataset.toTf(tf, { inputs: { x: ['a', 'nope'] } })).toThrow(/options\.inputs\.x must be column names among a, b, c, got "nope"/);
      expect(() => dataset.toTf(tf, { outputs: 'rows' as never })).toThrow(/options\.outputs must be 'matrix', 'columns' or an object of input name → column names/);
    } finally {
      await dataset.close();
    }
  });
});
