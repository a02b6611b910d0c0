/**
 * Hostile-tester findings on datasets: a numeric column with a few text values (it stays numeric, the
 * text values are malformed records), a map's output validated like parsed rows (non-finite features are
 * MAP_ERRORs, labels must be class ids), zero-record files, and options named in their errors. The truth
 * is the rows written here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, csvDataset, SeekdataError, type Batch } from '../src/index.js';
import { tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-hostile-datasets-');
let mixed = '';
let labelled = '';
let headerOnly = '';

beforeAll(() => {
  const lines = ['time,x,label'];
  for (let i = 0; i < 600; i++) lines.push(`${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()},${i},${i % 2}`);
  for (let i = 600; i < 610; i++) lines.push(`${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()},oops,${i % 2}`);
  mixed = writeFixture(tmp.dir, 'mixed.csv', Buffer.from(lines.join('\n') + '\n'));
  const rows = ['x,kind'];
  for (let i = 0; i < 30; i++) rows.push(`${i},${['a', 'b', 'c'][i % 3]}`);
  labelled = writeFixture(tmp.dir, 'labelled.csv', Buffer.from(rows.join('\n') + '\n'));
  headerOnly = writeFixture(tmp.dir, 'header-only.csv', Buffer.from('x,y\n'));
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

function module(name: string, code: string): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, code);
  return file;
}

async function rowsOf(dataset: AsyncIterable<Batch>): Promise<{ xs: number[]; ys: number[] }> {
  const out = { xs: [] as number[], ys: [] as number[] };
  for await (const b of dataset) {
    out.xs.push(...Array.from(b.xs));
    if (b.ys !== undefined) out.ys.push(...Array.from(b.ys));
  }
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<SeekdataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SeekdataError);
  return error as SeekdataError;
}

describe('a numeric column with a few text values', () => {
  it('stays numeric: its numbers are kept and the text records are skipped, counted and warned about', async () => {
    const warnings: string[] = [];
    const ds = await csvDataset(mixed, { columnConfigs: { label: { isLabel: true } }, timeColumn: 'time', shuffle: false, batchSize: 1000, onWarning: (w) => warnings.push(w) });
    try {
      expect(ds.featureNames).toEqual(['x']);
      const { xs, ys } = await rowsOf(ds);
      expect(xs).toEqual(Array.from({ length: 600 }, (_, i) => i));
      expect(ys).toEqual(Array.from({ length: 600 }, (_, i) => i % 2));
      expect(ds.skipped).toBe(10);
      expect(warnings.join('\n')).toMatch(/skipped 10 of 610 records.*record 600 x is not a number: "oops"/);
    } finally {
      await ds.close();
    }
  });

  it("onMalformed: 'error' stops at the first text value", async () => {
    const ds = await csvDataset(mixed, { columnConfigs: { label: { isLabel: true } }, timeColumn: 'time', shuffle: false, batchSize: 1000, onMalformed: 'error' });
    try {
      const error = await rejection(rowsOf(ds));
      expect(error.code).toBe('PARSE_ERROR');
      expect(error.message).toMatch(/record 600 x is not a number/);
    } finally {
      await ds.close();
    }
  });
});

describe('a map output is checked', () => {
  it('a non-finite feature is a MAP_ERROR naming the record (one row and batched)', async () => {
    const one = module('nan.mjs', 'export default ({ xs, ys, record }) => ({ xs: { x: record === 7 ? NaN : xs.x }, ys });\n');
    const ds = await csvDataset(labelled, { columnConfigs: { kind: { isLabel: true } }, shuffle: false, batchSize: 8, map: { module: one } });
    try {
      const error = await rejection(rowsOf(ds));
      expect(error.code).toBe('MAP_ERROR');
      expect(error.message).toMatch(/xs\.x NaN, not a finite number on record 7/);
      expect(error.record).toBe(7);
    } finally {
      await ds.close();
    }
    const batched = module('inf.mjs', 'export default ({ xs, ys, records, size }) => ({ xs: { x: Float32Array.from(xs.x, (v, k) => (records[k] === 4 ? Infinity : v)) }, ys });\n');
    const ds2 = await csvDataset(labelled, { columnConfigs: { kind: { isLabel: true } }, shuffle: false, batchSize: 8, map: { module: batched, batched: true } });
    try {
      const error = await rejection(rowsOf(ds2));
      expect(error.code).toBe('MAP_ERROR');
      expect(error.message).toMatch(/xs\.x\[4\] Infinity, not a finite number on record 4/);
    } finally {
      await ds2.close();
    }
  });

  it('a label that is not a class id of the categorical label is skipped, counted and warned about', async () => {
    // kind has classes a, b, c (ids 0..2); the map sends record 5 to class 7.5 and record 6 to class 3.
    const bad = module('label.mjs', 'export default ({ xs, ys, record }) => ({ xs, ys: { kind: record === 5 ? 7.5 : record === 6 ? 3 : ys.kind } });\n');
    const warnings: string[] = [];
    const ds = await csvDataset(labelled, { columnConfigs: { kind: { isLabel: true } }, shuffle: false, batchSize: 64, map: { module: bad }, onWarning: (w) => warnings.push(w) });
    try {
      const { xs, ys } = await rowsOf(ds);
      const kept = Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 5 && i !== 6);
      expect(xs).toEqual(kept);
      expect(ys).toEqual(kept.map((i) => i % 3));
      expect(ds.skipped).toBe(2);
      expect(warnings.join('\n')).toMatch(/record 5 label kind 7\.5 from the map is not a class id in 0\.\.2/);
    } finally {
      await ds.close();
    }
    const strict = await csvDataset(labelled, { columnConfigs: { kind: { isLabel: true } }, shuffle: false, batchSize: 64, map: { module: bad }, onMalformed: 'error' });
    try {
      const error = await rejection(rowsOf(strict));
      expect(error.code).toBe('PARSE_ERROR');
      expect(error.message).toMatch(/record 5 label kind 7\.5/);
    } finally {
      await strict.close();
    }
  });
});

describe('a file with no records', () => {
  it('is a clear error when the feature columns must be found, an empty epoch when they are named', async () => {
    const error = await rejection(csvDataset(headerOnly, { batchSize: 3 }));
    expect(error.code).toBe('OUT_OF_RANGE');
    expect(error.message).toContain(`${headerOnly} has no records`);
    const ds = await csvDataset(headerOnly, { batchSize: 3, columnConfigs: { x: {}, y: { isLabel: true } }, configuredColumnsOnly: true });
    try {
      expect((await rowsOf(ds)).xs).toEqual([]);
    } finally {
      await ds.close();
    }
  });
});

describe('options named in their errors', () => {
  it('weights: an unknown column names options.weights; a function returning a string says so', async () => {
    const ds = await csvDataset(mixed, { columnConfigs: { label: { isLabel: true } }, timeColumn: 'time', shuffle: false, batchSize: 100, onWarning: () => undefined });
    try {
      const unknown = await rejection(ds.weighted({ weights: 'nope' }));
      expect(unknown.code).toBe('INVALID_OPTION');
      expect(unknown.option).toBe('weights');
      expect(unknown.message).toMatch(/^options\.weights must be a column of .*"nope"/);
      const text = await rejection(ds.weighted({ weights: (() => '1') as unknown as () => number }));
      expect(text.code).toBe('MAP_ERROR');
      expect(text.message).toMatch(/weighs "1" \(the weights function returned a string\)/);
    } finally {
      await ds.close();
    }
  });

  it('a misspelled map key is INVALID_OPTION with a did-you-mean', async () => {
    const identity = module('identity.mjs', 'export default (row) => row;\n');
    const error = await rejection(csvDataset(labelled, { columnConfigs: { kind: { isLabel: true } }, map: { module: identity, featurs: ['x'] } as unknown as { module: string } }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.option).toBe('map.featurs');
    expect(error.message).toMatch(/options\.map\.featurs is not an option of map; did you mean features\?/);
  });
});
