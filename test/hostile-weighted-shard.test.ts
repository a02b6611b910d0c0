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

  it('with a weights function too: the weights pass reads every record on every rank (it is never sharded)', async () => {
    const weightOf = (row: { record: number }): number => 1 + (row.record % 7);
    const whole = await csvDataset(file, { columnConfigs: { label: { isLabel: true } }, batchSize: 64, seed: 9 });
    const all = await drawnXs(await whole.weighted({ weights: weightOf, numSamples: 120 }));
    await whole.close();
    for (const rank of [0, 1]) {
      const ds = await csvDataset(file, { columnConfigs: { label: { isLabel: true } }, batchSize: 64, seed: 9, rank, worldSize: 2 });
      const got = await drawnXs(await ds.weighted({ weights: weightOf, numSamples: 120 }));
      await ds.close();
      expect(got.xs).toEqual(all.xs.filter((_, g) => g % 2 === rank));
    }
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

describe('windows over a collection whose files overlap in time', () => {
  it('windows are built file by file: none lost where the files interleave in time', async () => {
    const { openCollection, TimeRangeDataset } = await import('../src/index.js');
    const t = (m: number): string => new Date(Date.UTC(2024, 0, 1) + m * 60_000).toISOString();
    const ov = join(tmp.dir, 'overlap');
    mkdirSync(ov);
    const rows = (from: number, to: number): string => 'time,x\n' + Array.from({ length: to - from }, (_, k) => `${t(from + k)},${from + k}\n`).join('');
    writeFixture(ov, 'a.csv', Buffer.from(rows(0, 100)));
    writeFixture(ov, 'b.csv', Buffer.from(rows(50, 150)));
    const c = await openCollection(ov, { records: 'csv', timeColumn: 'time' });
    try {
      const windows: number[][] = [];
      const ds = new TimeRangeDataset(c, { from: t(40), to: t(60), features: ['x'], sequenceLength: 4, batchSize: 64 });
      for await (const b of ds) for (let k = 0; k < b.xsShape[0]; k++) windows.push(Array.from(b.xs.subarray(k * 4, k * 4 + 4)));
      // a.csv: minutes 40..59 → 17 windows; b.csv: 50..59 → 7 windows; each window 4 consecutive minutes of one file.
      expect(windows).toHaveLength(24);
      for (const w of windows) expect(w).toEqual([w[0], w[0] + 1, w[0] + 2, w[0] + 3]);
      // Time windows too: 4-minute windows every 4 minutes, per file.
      const timed: number[][] = [];
      const ds2 = new TimeRangeDataset(c, { from: t(40), to: t(60), features: ['x'], sequenceLength: 4, windowMs: 240_000, batchSize: 64 });
      for await (const b of ds2) for (let k = 0; k < b.xsShape[0]; k++) timed.push(Array.from(b.xs.subarray(k * 4, k * 4 + 4)));
      // a.csv: starts 40, 44, 48, 52, 56; b.csv (from minute 50): 52, 56 (48 holds only 50-51: too few, skipped).
      expect(timed).toHaveLength(5 + 2);
    } finally {
      await c.close();
    }
  });
});
