/**
 * csvDataset / jsonlDataset (issue 11 §1): tf.data.csv's CSVConfig names, one call from a compressed
 * file to batches that model.fitDataset trains on. The truth is tf.data.csv itself reading the plain
 * file (and, for JSONL, JSON.parse).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { closeSharedPool, csvDataset, jsonlDataset, openIndexed, SeekdataError, ShuffledBatchDataset, type Batch, type FileDataset } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-ergo-csv-');
const ROWS = 3000;
const COLORS = ['red', 'green', 'blue'];
let plain = '';
let compressed = '';
let headerless = '';
let rowsText: string[][] = [];

beforeAll(() => {
  const rand = prng(11);
  rowsText = [];
  for (let i = 0; i < ROWS; i++) {
    const ts = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString();
    const a = (rand() * 20 - 10).toFixed(3);
    const b = rand() < 0.05 ? '' : (rand() * 100).toFixed(2);
    const c = COLORS[Math.floor(rand() * 3)];
    const n = (rand() * 10).toFixed(1);
    const flag = ['true', 'false', '1', '0', 'TRUE'][Math.floor(rand() * 5)];
    const y = Number(a) > 0 ? '1' : '0';
    rowsText.push([ts, a, b, c, n, flag, y]);
  }
  const body = rowsText.map((r) => r.join(',')).join('\n') + '\n';
  const text = 'ts,a,b,c,n,flag,y\n' + body;
  plain = writeFixture(tmp.dir, 'data.csv', Buffer.from(text));
  compressed = writeFixture(tmp.dir, 'data.csv.bz2', bzip2(Buffer.from(text)));
  headerless = writeFixture(tmp.dir, 'noheader.csv.bz2', bzip2(Buffer.from(body)));
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

async function allBatches(dataset: AsyncIterable<Batch>): Promise<{ xs: number[][]; ys: number[][]; records: number[] }> {
  const out = { xs: [] as number[][], ys: [] as number[][], records: [] as number[] };
  for await (const b of dataset) {
    const F = b.xsShape[1];
    const L = b.ysShape[1] ?? 0;
    for (let k = 0; k < b.size; k++) {
      out.xs.push(Array.from(b.xs.subarray(k * F, (k + 1) * F)));
      out.ys.push(b.ys === undefined ? [] : Array.from(b.ys.subarray(k * L, (k + 1) * L)));
      out.records.push(b.records[k]);
    }
  }
  return out;
}

/** tf.data.csv's elements of the plain file, with the same column configs. */
async function tfDataCsv(config: Record<string, unknown>): Promise<Array<{ xs: Record<string, number | string>; ys: Record<string, number> }>> {
  const elements: Array<{ xs: Record<string, number | string>; ys: Record<string, number> }> = [];
  await tf.data.csv(pathToFileURL(plain).href, config).forEachAsync((e) => {
    elements.push(e as unknown as { xs: Record<string, number | string>; ys: Record<string, number> });
  });
  return elements;
}

const COLUMN_CONFIGS = { y: { isLabel: true }, b: { default: 9 }, flag: { dtype: 'bool' as const } };

describe('csvDataset', () => {
  it('gives, in file order, the values tf.data.csv reads with the same CSVConfig (text columns as category ids)', async () => {
    const dataset = await csvDataset(compressed, { columnConfigs: COLUMN_CONFIGS, timeColumn: 'ts', shuffle: false, batchSize: 256 });
    try {
      // The time column indexes the records and is left out of the features, as are the labels.
      expect(dataset.featureNames).toEqual(['a', 'b', 'c', 'n', 'flag']);
      expect(dataset.labelNames).toEqual(['y']);
      const got = await allBatches(dataset);
      const truth = await tfDataCsv({ columnConfigs: { ...COLUMN_CONFIGS, ts: {} }, configuredColumnsOnly: false });
      expect(got.xs).toHaveLength(ROWS);
      expect(truth).toHaveLength(ROWS);
      const sortedColors = [...COLORS].sort();
      for (let i = 0; i < ROWS; i++) {
        const t = truth[i];
        const expected = [t.xs.a, t.xs.b, sortedColors.indexOf(String(t.xs.c)), t.xs.n, t.xs.flag].map(Number);
        for (let k = 0; k < expected.length; k++) expect(got.xs[i][k]).toBeCloseTo(expected[k], 4);
        expect(got.ys[i]).toEqual([t.ys.y]);
        expect(got.records[i]).toBe(i);
      }
      // The defaults were used (tf.data.csv filled the same records).
      expect(truth.filter((t) => t.xs.b === 9).length).toBeGreaterThan(50);
    } finally {
      await dataset.close();
    }
  });

  it('reads a headerless file by columnNames, the time column by its name, as the file with a header', async () => {
    const names = ['ts', 'a', 'b', 'c', 'n', 'flag', 'y'];
    const withHeader = await csvDataset(compressed, { columnConfigs: COLUMN_CONFIGS, timeColumn: 'ts', shuffle: false, batchSize: 500 });
    const without = await csvDataset(headerless, { hasHeader: false, columnNames: names, columnConfigs: COLUMN_CONFIGS, timeColumn: 'ts', shuffle: false, batchSize: 500 });
    try {
      expect(without.featureNames).toEqual(withHeader.featureNames);
      expect(without.file.time?.timeOf(ROWS - 1)).toBe(Date.UTC(2024, 0, 1) + (ROWS - 1) * 3_600_000);
      expect(await allBatches(without)).toEqual(await allBatches(withHeader));
    } finally {
      await withHeader.close();
      await without.close();
    }
  });

  it('columnNames on any dataset: the default features leave out the time column and the labels by their new names', async () => {
    const file = await openIndexed(compressed, { records: 'csv', timeColumn: 'ts' });
    try {
      // Renamed columns: labels by their new names (this time column is ISO text, not a numeric feature anyway).
      const dataset = new ShuffledBatchDataset(file, { columnNames: ['when', 'p', 'q', 'colour', 'm', 'flag', 'target'], labels: 'target', shuffle: false });
      expect(dataset.featureNames).toEqual(['p', 'q', 'm']);
      expect(dataset.labelNames).toEqual(['target']);
    } finally {
      await file.close();
    }
    const epochs = writeFixture(tmp.dir, 'epochs.csv', Buffer.from('1700000000,1,0\n1700000060,2,1\n1700000120,3,0\n'));
    const headerlessFile = await openIndexed(epochs, { records: 'csv', header: false, timeColumn: 0 });
    try {
      const dataset = new ShuffledBatchDataset(headerlessFile, { columnNames: ['t', 'x', 'y'], labels: 'y', shuffle: false });
      // The epoch-number time column is numeric, but it is the time index, not a feature.
      expect(dataset.featureNames).toEqual(['x']);
    } finally {
      await headerlessFile.close();
    }
  });

  it('configuredColumnsOnly, dtype int32 (rounded down) and labels of several columns', async () => {
    const dataset = await csvDataset(compressed, {
      columnConfigs: { n: { dtype: 'int32' }, a: {}, y: { isLabel: true }, flag: { isLabel: true, dtype: 'bool' } },
      configuredColumnsOnly: true,
      shuffle: false,
      batchSize: 1000,
    });
    try {
      expect(dataset.featureNames).toEqual(['n', 'a']);
      expect(dataset.labelNames).toEqual(['y', 'flag']);
      const got = await allBatches(dataset);
      for (let i = 0; i < ROWS; i++) {
        const [, a, , , n, flag, y] = rowsText[i];
        expect(got.xs[i][0]).toBe(Math.floor(Number(n)));
        expect(got.xs[i][1]).toBeCloseTo(Number(a), 4);
        expect(got.ys[i]).toEqual([Number(y), flag.toLowerCase() === 'true' || flag === '1' ? 1 : 0]);
      }
    } finally {
      await dataset.close();
    }
  });

  it('a required column missing in a record is a PARSE_ERROR naming the record, whatever onMalformed says', async () => {
    const path = writeFixture(tmp.dir, 'required.csv', Buffer.from('a,b,y\n1,2,0\n3,,1\n5,6,0\n'));
    const dataset = await csvDataset(path, { columnConfigs: { b: { required: true }, y: { isLabel: true } }, shuffle: false, onMalformed: 'skip' });
    try {
      const error = await allBatches(dataset).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SeekdataError);
      expect((error as SeekdataError).code).toBe('PARSE_ERROR');
      expect((error as SeekdataError).message).toMatch(/required\.csv: record 1 is missing b \(a required column\)/);
      expect((error as SeekdataError).record).toBe(1);
    } finally {
      await dataset.close();
    }
    // With a default, the requirement is met by the default (as tf.data.csv).
    const filled = await csvDataset(path, { columnConfigs: { b: { required: true, default: 7 }, y: { isLabel: true } }, shuffle: false });
    try {
      expect((await allBatches(filled)).xs).toEqual([
        [1, 2],
        [3, 7],
        [5, 6],
      ]);
    } finally {
      await filled.close();
    }
  });

  it('refuses unknown options and column configs of columns the file does not have, naming them', async () => {
    await expect(csvDataset(compressed, { batchsize: 4 } as never)).rejects.toThrow(/options\.batchsize is not an option of csvDataset; did you mean batchSize\?/);
    await expect(csvDataset(compressed, { columnConfigs: { z: { isLabel: true } } })).rejects.toThrow(/options\.columnConfigs\.z must be about a column of .*data\.csv\.bz2 \(ts, a, b, c, n, flag, y\)/);
    await expect(csvDataset(compressed, { columnConfigs: { a: { dtype: 'float64' as never } } })).rejects.toThrow(/options\.dtypes\.a must be one of float32, int32, bool, string/);
    await expect(csvDataset(headerless, { hasHeader: false, columnNames: ['x', 'y'] })).rejects.toThrow(/columnNames names 2 columns, but .* has 7/);
  });

  it('feeds model.fitDataset through toTf(tf): the loss falls and no tensor is left behind', async () => {
    const dataset = await csvDataset(compressed, {
      columnConfigs: { a: {}, b: { default: 50 }, y: { isLabel: true } },
      configuredColumnsOnly: true,
      standardize: true,
      labelType: 'float32',
      batchSize: 100,
      seed: 3,
    });
    try {
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1, activation: 'sigmoid' })] });
      // Plain SGD: an optimizer without slot variables, so the tensor count is the model's before and after.
      model.compile({ optimizer: tf.train.sgd(0.5), loss: 'binaryCrossentropy' });
      const before = tf.memory().numTensors;
      const history = await model.fitDataset(dataset.toTf(tf), { epochs: 4, verbose: 0 });
      const loss = history.history.loss as number[];
      expect(loss).toHaveLength(4);
      expect(loss[3]).toBeLessThan(loss[0] * 0.7);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    } finally {
      await dataset.close();
    }
  });
});

describe('jsonlDataset', () => {
  it('reads JSONL fields by their dotted paths, labels by isLabel, as JSON.parse gives them', async () => {
    const rand = prng(5);
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) lines.push(JSON.stringify({ t: 1_700_000_000_000 + i * 1000, m: { a: Math.round(rand() * 1000) / 10, b: i % 7 }, kind: ['cat', 'dog'][i % 2] }));
    const path = join(tmp.dir, 'data.jsonl');
    writeFileSync(path, lines.join('\n') + '\n');
    const dataset: FileDataset = await jsonlDataset(path, { columnConfigs: { kind: { isLabel: true } }, timeColumn: 't', shuffle: false, batchSize: 64 });
    try {
      expect(dataset.featureNames).toEqual(['m.a', 'm.b']);
      const got = await allBatches(dataset);
      lines.forEach((line, i) => {
        const v = JSON.parse(line) as { m: { a: number; b: number }; kind: string };
        expect(got.xs[i][0]).toBeCloseTo(v.m.a, 4);
        expect(got.xs[i][1]).toBe(v.m.b);
        expect(got.ys[i]).toEqual([v.kind === 'cat' ? 0 : 1]);
      });
    } finally {
      await dataset.close();
    }
  });
});
