/**
 * Findings of the hostile test of collections and datasets (lead's part): weighted sampling is sharded
 * (ranks draw disjoint shares of one global stream, equal counts), csvDataset takes the collection options,
 * an opened file passed where a source belongs is refused with a short message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, csvDataset, openIndexed, SeekdataError, type Batch } from '../src/index.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir('seekdata-hostile-lead-');
let file = '';
let dir = '';

beforeAll(() => {
  const lines = ['x,label'];
  for (let i = 0; i < 1500; i++) lines.push(`${i},${i % 3}`);
  file = writeFixture(tmp.dir, 'w.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n')));
  dir = join(tmp.dir, 'shards');
  mkdirSync(dir);
  writeFixture(dir, 'a.csv', Buffer.from('x,label\n1,0\n2,1\n'));
  writeFixture(dir, 'b.csv', Buffer.from('other\n1\n'));
});

afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

async function drawnXs(batches: AsyncIterable<Batch>): Promise<{ xs: number[]; batches: number }> {
  const xs: number[] = [];
  let n = 0;
  for await (const b of batches) {
    n++;
    for (let k = 0; k < b.size; k++) xs.push(b.xs[k * b.xsShape[1]]);
  }
  return { xs, batches: n };
}

describe('weighted sampling across ranks', () => {
  it('the ranks draw every-worldSize-th draw of the one global stream: together exactly the unsharded epoch, equal counts', async () => {
    const whole = await csvDataset(file, { columnConfigs: { label: { isLabel: true } }, batchSize: 50, seed: 5 });
    const all = await drawnXs(await whole.weighted({ weights: 'x', numSamples: 301 }));
    await whole.close();
    expect(all.xs).toHaveLength(301);
    const shares: number[][] = [];
    const counts: number[] = [];
    for (const rank of [0, 1, 2]) {
      const ds = await csvDataset(file, { columnConfigs: { label: { isLabel: true } }, batchSize: 50, seed: 5, rank, worldSize: 3 });
      const weighted = await ds.weighted({ weights: 'x', numSamples: 301 });
      expect(weighted.batchesPerEpoch).toBe(Math.ceil(Math.ceil(301 / 3) / 50));
      const got = await drawnXs(weighted);
      shares.push(got.xs);
      counts.push(got.xs.length);
      await ds.close();
    }
    // Equal counts: 301 rounded up to 303 draws, 101 each.
    expect(counts).toEqual([101, 101, 101]);
    // Dealt round-robin from the same stream: rank r has global draws r, r + 3, ...
    for (let g = 0; g < 301; g++) expect(shares[g % 3][Math.floor(g / 3)]).toBe(all.xs[g]);
    // Different ranks draw different samples (before the fix every rank drew the unsharded epoch).
    expect(shares[0]).not.toEqual(shares[1]);
  });

  it('rank without worldSize is refused', async () => {
    const ds = await csvDataset(file, { columnConfigs: { label: { isLabel: true } }, batchSize: 50 });
    try {
      await expect(ds.weighted({ weights: 'x', numSamples: 10, rank: 1 })).rejects.toThrow(/options\.worldSize must be given together with rank/);
    } finally {
      await ds.close();
    }
  });
});

describe('csvDataset: collection options and sources', () => {
  it('onBadFile: skip reaches the collection (a file of other columns is left out with a warning)', async () => {
    const warnings: string[] = [];
    const ds = await csvDataset(dir, { columnConfigs: { label: { isLabel: true } }, onBadFile: 'skip', shuffle: false, onWarning: (w: unknown) => warnings.push(String(w)) } as never);
    try {
      expect(ds.recordsPerEpoch).toBe(2);
    } finally {
      await ds.close();
    }
  });

  it('onBadFile on one file is refused; an opened file passed as the source gets a short message', async () => {
    await expect(csvDataset(file, { onBadFile: 'skip' })).rejects.toThrow(/options\.onBadFile must be given for a collection only/);
    const opened = await openIndexed(file, { records: 'csv' });
    try {
      const error = await csvDataset(opened as never, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SeekdataError);
      expect((error as Error).message.length).toBeLessThan(400);
    } finally {
      await opened.close();
    }
  });
});
