/**
 * csvDataset / jsonlDataset over a collection (issues 10 and 11): a glob, a directory or a list of shards in
 * different formats is one data set, records numbered across the files in path order. The truth is the rows
 * as written, shard after shard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, csvDataset, jsonlDataset, type Batch } from '../src/index.js';
import { bzip2, run, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-ergo-coll-');
const SHARDS = 3;
const PER = 700;
/** rows[i] = [x, y] of global record i, in shard order. */
const rows: Array<[number, number]> = [];
let jsonlDir = '';

beforeAll(() => {
  jsonlDir = join(tmp.dir, 'jsonl');
  mkdirSync(jsonlDir);
  let i = 0;
  for (let s = 0; s < SHARDS; s++) {
    const lines = ['x,y'];
    const jsonl: string[] = [];
    for (let k = 0; k < PER; k++, i++) {
      const x = (i * 7919) % 1000;
      const y = x % 2;
      rows.push([x, y]);
      lines.push(`${x},${y}`);
      jsonl.push(JSON.stringify({ x, y }));
    }
    const csv = Buffer.from(lines.join('\n') + '\n');
    // Shards in three formats: bzip2, gzip and zstd.
    const name = `part-${s}.csv`;
    if (s === 0) writeFixture(tmp.dir, `${name}.bz2`, bzip2(csv));
    else if (s === 1) writeFixture(tmp.dir, `${name}.gz`, run('gzip', ['-c'], csv));
    else writeFixture(tmp.dir, `${name}.zst`, run('zstd', ['-q', '-c'], csv));
    writeFixture(jsonlDir, `part-${s}.jsonl.gz`, run('gzip', ['-c'], Buffer.from(jsonl.join('\n') + '\n')));
  }
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

async function collect(dataset: AsyncIterable<Batch>): Promise<Map<number, [number, number]>> {
  const seen = new Map<number, [number, number]>();
  for await (const b of dataset) {
    const F = b.xsShape[1];
    for (let k = 0; k < b.size; k++) seen.set(b.records[k], [b.xs[k * F], b.ys === undefined ? NaN : b.ys[k]]);
  }
  return seen;
}

describe('csvDataset and jsonlDataset over collections', () => {
  it('a quoted glob of shards in three formats: every record once, numbered across the files in path order', async () => {
    const dataset = await csvDataset(join(tmp.dir, 'part-*.csv.*'), { columnConfigs: { y: { isLabel: true } }, batchSize: 128, seed: 3, labelType: 'float32' });
    try {
      const seen = await collect(dataset);
      expect(seen.size).toBe(rows.length);
      for (const [record, [x, y]] of seen) expect([x, y]).toEqual(rows[record]);
    } finally {
      await dataset.close();
    }
  });

  it('a list of shards in file order (shuffle: false) gives the rows in the list order', async () => {
    const list = [join(tmp.dir, 'part-2.csv.zst'), join(tmp.dir, 'part-0.csv.bz2')];
    const dataset = await csvDataset(list, { columnConfigs: { y: { isLabel: true } }, batchSize: 100, shuffle: false, labelType: 'float32' });
    try {
      const xs: number[] = [];
      for await (const b of dataset) for (let k = 0; k < b.size; k++) xs.push(b.xs[k * b.xsShape[1]]);
      expect(xs).toEqual([...rows.slice(2 * PER, 3 * PER), ...rows.slice(0, PER)].map((r) => r[0]));
    } finally {
      await dataset.close();
    }
  });

  it('jsonlDataset over a directory of .jsonl.gz shards', async () => {
    const dataset = await jsonlDataset(jsonlDir, { columnConfigs: { y: { isLabel: true } }, batchSize: 256, shuffle: false, labelType: 'float32' });
    try {
      const seen = await collect(dataset);
      expect(seen.size).toBe(rows.length);
      for (const [record, [x, y]] of seen) expect([x, y]).toEqual(rows[record]);
    } finally {
      await dataset.close();
    }
  });
});
