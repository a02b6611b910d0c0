/**
 * Collections: many files as one data set. Shards in five formats (bzip2, xz, gzip, zstd, plain) of one
 * generated CSV; the truth is the generator's rows and lines in collection order, and a single plain file
 * holding them all (its statistics are what the merged statistics must equal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  closeSharedPool,
  openCollection,
  openIndexed,
  recordsToArrow,
  SequentialStream,
  ShuffledBatchDataset,
  TimeRangeDataset,
  WorkerPool,
  type Batch,
  type IndexedCollection,
  type ShuffledBatchOptions,
  type TimeRangeOptions,
} from '../src/index.js';
import { environmentShard } from '../src/datasets/plan.js';
import { tempDir } from './support/fixtures.js';
import { collectionShards } from './support/collection-fixture.js';

const tmp = tempDir('seekdata-collections-');
const dir = join(tmp.dir, 'shards');
mkdirSync(dir);
// Uneven sizes, one shard of a single record; bzip2 -1 and xz blocks of 20 kB give several chunks each.
const SIZES = [1500, 700, 1, 2300, 900, 1200];
const { shards, header } = collectionShards(SIZES);
for (const s of shards) writeFileSync(join(dir, s.name), s.bytes);
const lines = shards.flatMap((s) => s.lines);
const rows = shards.flatMap((s) => s.rows);
const N = lines.length;
const pool = new WorkerPool({ size: 2 });
const open = { records: 'csv', timeColumn: 'time', pool } as const;
let coll: IndexedCollection;

beforeAll(async () => {
  coll = await openCollection(join(dir, '*'), open);
});
afterAll(async () => {
  await coll.close();
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const recordsOf = (batches: Batch[]): number[] => batches.flatMap((b) => [...b.records]);

describe('a collection numbers records across its files', () => {
  it('opens a glob in name order with the record count and chunk numbering of its files', async () => {
    expect(coll.files.map((f) => f.name)).toEqual(shards.map((s) => join(dir, s.name)));
    expect(coll.records.count).toBe(N);
    expect(coll.info().formats).toEqual({ bzip2: 2, xz: 1, gzip: 1, zstd: 1, plain: 1 });
    const chunks = coll.files.reduce((n, f) => n + f.records.firstRecord.length - 1, 0);
    expect(coll.records.firstRecord.length).toBe(chunks + 1);
    expect(chunks).toBeGreaterThan(SIZES.length);
    // Every chunk's records are those chunkOf maps back to it.
    for (let c = 0; c < chunks; c++) {
      const { first, end } = coll.records.recordsOf(c);
      if (end > first) expect([coll.records.chunkOf(first), coll.records.chunkOf(end - 1)]).toEqual([c, c]);
    }
  });

  it('gives record k of the collection as line k of the shards, alone, in slices across files and in any order', async () => {
    for (const i of [0, 1499, 1500, 2199, 2200, 2201, N - 1]) expect(await coll.records.text(i)).toBe(lines[i]);
    const sliced = await coll.records.slice(1400, 2300);
    expect(sliced.map((b) => Buffer.from(coll.records.content(b)).toString())).toEqual(lines.slice(1400, 2300));
    const picks = [N - 1, 0, 2200, 1500, 17, 4000, 2201];
    const got = await coll.records.getMany(picks);
    expect(got.map((b) => Buffer.from(coll.records.content(b)).toString())).toEqual(picks.map((i) => lines[i]));
    await expect(coll.records.get(N)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    expect(coll.locate(2200)).toMatchObject({ first: 2200, count: 1, position: 2 });
  });

  it('merges statistics exactly as one file of all the rows has them (Chan merge, vocabularies added)', async () => {
    const one = join(tmp.dir, 'all.csv');
    writeFileSync(one, [header, ...lines].join('\n') + '\n');
    const whole = await openIndexed(one, open);
    try {
      expect(coll.columns).toEqual(whole.columns);
      for (const s of whole.stats) {
        const m = coll.stats.find((x) => x.name === s.name);
        expect(m, s.name).toBeDefined();
        expect({ ...m, mean: 0, std: 0 }).toEqual({ ...s, mean: 0, std: 0 });
        if (s.mean !== null && s.mean !== undefined) expect(m?.mean).toBeCloseTo(s.mean, 9);
        if (s.std !== null && s.std !== undefined) expect(m?.std).toBeCloseTo(s.std, 9);
      }
      expect(coll.stats.find((s) => s.name === 'cat')?.categories?.map((c) => c.value)).toEqual(['x', 'y', 'z']);
    } finally {
      await whole.close();
    }
  });

  it('takes a list (in its order), a directory and a manifest', async () => {
    const reversed = [...shards].reverse().map((s) => join(dir, s.name));
    const list = await openCollection(reversed, open);
    try {
      expect(await list.records.text(0)).toBe(shards[shards.length - 1].lines[0]);
      expect(list.records.count).toBe(N);
    } finally {
      await list.close();
    }
    const whole = await openCollection(dir, open);
    try {
      expect(whole.files.length).toBe(shards.length);
      expect(await whole.records.text(N - 1)).toBe(lines[N - 1]);
    } finally {
      await whole.close();
    }
    const manifest = join(tmp.dir, 'list.txt');
    writeFileSync(manifest, `# two shards\nshards/${shards[3].name}\n\n${join(dir, shards[0].name)}\n`);
    const listed = await openCollection(`@${manifest}`, open);
    try {
      expect(listed.records.count).toBe(SIZES[3] + SIZES[0]);
      expect(await listed.records.text(SIZES[3])).toBe(shards[0].lines[0]);
    } finally {
      await listed.close();
    }
    await expect(openCollection(join(dir, '*.parquet'), open)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(openCollection([join(dir, shards[0].name), join(dir, shards[0].name)], open)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('validates its own options, naming the field', async () => {
    await expect(openCollection(join(dir, '*'), { ...open, readAhead: 0 })).rejects.toThrow(/readAhead/);
    await expect(openCollection(join(dir, '*'), { ...open, onBadFile: 'ignore' as 'skip' })).rejects.toThrow(/onBadFile/);
    await expect(openCollection(join(dir, '*'), { ...open, index: join(dir, shards[0].name) })).rejects.toThrow(/options\.index/);
    const ahead = await openCollection(join(dir, '*'), { ...open, readAhead: 7 });
    expect(ahead.readAhead).toBe(7);
    await ahead.close();
  });

  it('reports the progress of indexing all files as one total', async () => {
    const seen: Array<{ bytesDone: number; bytesTotal: number; decodedBytes?: number | undefined }> = [];
    const c = await openCollection(join(dir, '*'), { ...open, index: false, onProgress: (p) => seen.push(p) });
    await c.close();
    const total = shards.reduce((n, s) => n + s.bytes.length, 0);
    expect(seen.at(-1)).toMatchObject({ bytesDone: total, bytesTotal: total });
    for (let k = 1; k < seen.length; k++) expect(seen[k].bytesDone).toBeGreaterThanOrEqual(seen[k - 1].bytesDone);
  });
});

describe('bad files', () => {
  it("is a typed error naming the file, or with onBadFile: 'skip' left out, reported and warned", async () => {
    const bad = join(tmp.dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, shards[0].name), shards[0].bytes);
    const broken = Buffer.from(shards[1].bytes);
    broken[Math.floor(broken.length / 2)] ^= 0xff;
    writeFileSync(join(bad, shards[1].name), broken);
    writeFileSync(join(bad, shards[3].name), shards[3].bytes);
    const error = await openCollection(bad, { ...open, index: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ file: join(bad, shards[1].name) });
    expect(String((error as Error).message)).toContain(shards[1].name);
    const warnings: string[] = [];
    const c = await openCollection(bad, { ...open, index: false, onBadFile: 'skip', onWarning: (m) => warnings.push(m) });
    try {
      expect(c.records.count).toBe(SIZES[0] + SIZES[3]);
      expect(c.report.skipped.map((s) => s.file)).toEqual([join(bad, shards[1].name)]);
      expect(warnings.some((w) => w.includes(shards[1].name) && w.includes('skip'))).toBe(true);
      expect(await c.records.text(SIZES[0])).toBe(shards[3].lines[0]);
      // The dataset says so too: its records are those of the files left.
      const said: string[] = [];
      const ds = new ShuffledBatchDataset(c, { features: ['b'], batchSize: 64, onWarning: (m) => said.push(m) });
      expect(ds.file.skippedFiles.map((s) => s.file)).toEqual([join(bad, shards[1].name)]);
      expect(said.some((m) => m.includes('1 file(s) of the collection left out') && m.includes(shards[1].name))).toBe(true);
    } finally {
      await c.close();
    }
    await expect(openCollection(join(bad, 'missing.csv'), open)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses files whose columns, delimiter or time column differ from the first', async () => {
    const other = join(tmp.dir, 'other-columns.csv');
    writeFileSync(other, 'time,z\n2024-01-01T00:00:00Z,1\n');
    await expect(openCollection([join(dir, shards[0].name), other], open)).rejects.toThrow(/other-columns\.csv: cannot join the collection: its columns/);
    // Indexed before with another delimiter: the stored options are inherited, and would parse it otherwise.
    const semi = join(tmp.dir, 'semicolon.csv');
    writeFileSync(semi, [header, ...shards[0].lines].join('\n').replaceAll(',', ';') + '\n');
    await (await openIndexed(semi, { records: 'csv', delimiter: ';', timeColumn: null })).close();
    const plainCsv = join(tmp.dir, 'comma.csv');
    writeFileSync(plainCsv, [header, ...shards[0].lines].join('\n') + '\n');
    await (await openIndexed(plainCsv, { records: 'csv', timeColumn: null })).close();
    await expect(openCollection([plainCsv, semi], { pool })).rejects.toThrow(/semicolon\.csv: cannot join the collection: it is indexed with delimiter ";"/);
    await expect(openCollection([join(dir, shards[0].name), plainCsv], { pool })).rejects.toThrow(/comma\.csv: cannot join the collection: it has no time index/);
  });
});

describe('datasets over a collection', () => {
  const base: ShuffledBatchOptions = { features: ['b'], labels: 'label', batchSize: 256 };

  it('a chunked and an exact shuffle draw every record of every file once per epoch, with its own values', async () => {
    for (const shuffle of ['chunked', 'exact'] as const) {
      const ds = new ShuffledBatchDataset(coll, { ...base, shuffle, seed: 7 });
      const batches = await all(ds);
      const got = recordsOf(batches);
      expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
      for (const b of batches) for (let j = 0; j < b.records.length; j++) expect([b.xs[j], b.ys?.[j]]).toEqual([rows[b.records[j]].b, rows[b.records[j]].label]);
      expect(got).not.toEqual(Array.from({ length: N }, (_, i) => i));
    }
  });

  it('a SequentialStream reads all files in order and the Arrow export reads records of several files', async () => {
    const seq = await all(new SequentialStream(coll, { ...base, batchSize: 1000 }));
    expect(recordsOf(seq)).toEqual(Array.from({ length: N }, (_, i) => i));
    const table = await recordsToArrow(coll, [N - 1, 0, 2200, 3000]);
    expect(Array.from(table.getChild('b')?.toArray() as ArrayLike<number>)).toEqual([N - 1, 0, 2200, 3000].map((i) => rows[i].b));
  });

  it('ranks shard the collection disjoint and covering with equal batch counts; state resumes and is refused elsewhere', async () => {
    const ranks = await Promise.all([0, 1, 2].map(async (rank) => all(new ShuffledBatchDataset(coll, { ...base, seed: 3, rank, worldSize: 3, shardPolicy: 'drop' }))));
    expect(new Set(ranks.map((r) => r.length)).size).toBe(1);
    const union = ranks.flatMap(recordsOf);
    expect(new Set(union).size).toBe(union.length);
    expect(union.length).toBe(N - (N % 3));
    // Resume: the batches after a saved state are those of an uninterrupted epoch.
    const first = new ShuffledBatchDataset(coll, { ...base, seed: 3, rank: 1, worldSize: 3 });
    const iter = first[Symbol.asyncIterator]();
    await iter.next();
    await iter.next();
    const state = first.state();
    await iter.return?.(undefined);
    const resumed = await all(new ShuffledBatchDataset(coll, { ...base, seed: 3, rank: 1, worldSize: 3, state }));
    const whole = await all(new ShuffledBatchDataset(coll, { ...base, seed: 3, rank: 1, worldSize: 3 }));
    expect(recordsOf(resumed)).toEqual(recordsOf(whole.slice(2)));
    expect(() => new ShuffledBatchDataset(coll, { ...base, seed: 3, rank: 1, worldSize: 2, state })).toThrow();
    const fewer = await openCollection(shards.slice(0, 5).map((s) => join(dir, s.name)), open);
    try {
      expect(() => new ShuffledBatchDataset(fewer, { ...base, seed: 3, rank: 1, worldSize: 3, state })).toThrow();
    } finally {
      await fewer.close();
    }
  });

  it('takes rank and world size from SEEKDATA_RANK / RANK variables; options win', () => {
    expect(environmentShard({ RANK: '2', WORLD_SIZE: '4' })).toEqual({ rank: 2, worldSize: 4 });
    expect(environmentShard({ SEEKDATA_RANK: '1', SEEKDATA_WORLD_SIZE: '3', RANK: '2', WORLD_SIZE: '4' })).toEqual({ rank: 1, worldSize: 3 });
    expect(environmentShard({})).toBeUndefined();
    expect(() => environmentShard({ RANK: '1' })).toThrow(/WORLD_SIZE/);
    expect(() => environmentShard({ RANK: '3', WORLD_SIZE: '3' })).toThrow(/RANK/);
    const saved = { ...process.env };
    try {
      process.env.SEEKDATA_RANK = '2';
      process.env.SEEKDATA_WORLD_SIZE = '3';
      const ds = new ShuffledBatchDataset(coll, base);
      expect([ds.rank, ds.worldSize]).toEqual([2, 3]);
      const explicit = new ShuffledBatchDataset(coll, { ...base, rank: 0, worldSize: 1 });
      expect([explicit.rank, explicit.worldSize]).toEqual([0, 1]);
    } finally {
      delete process.env.SEEKDATA_RANK;
      delete process.env.SEEKDATA_WORLD_SIZE;
      Object.assign(process.env, saved);
    }
  });
});

describe('time over a collection', () => {
  it('gives a time range in time order, k-way merged from files listed out of time order, without opening files outside it', async () => {
    const reversed = await openCollection([...shards].reverse().map((s) => join(dir, s.name)), open);
    try {
      const t0 = rows[1000].time;
      const t1 = rows[2250].time;
      // Opened from the collection manifest an earlier open wrote, it opens only the files the range needs.
      await reversed.prepare({ from: t0, to: t1 });
      const got = reversed.range(t0, t1);
      // Reversed order: shard k's record j is numbered from the end.
      const base = new Map<number, number>();
      let at = 0;
      for (let k = shards.length - 1; k >= 0; k--) {
        base.set(k, at);
        at += SIZES[k];
      }
      const starts = SIZES.map((_, k) => SIZES.slice(0, k).reduce((a, b) => a + b, 0));
      const expected = rows.filter((r) => r.time >= t0 && r.time < t1).map((r) => {
        const k = starts.findLastIndex((s) => s <= r.record);
        return (base.get(k) ?? 0) + r.record - starts[k];
      });
      expect([...got]).toEqual(expected);
      const ds = new TimeRangeDataset(reversed, { from: t0, to: t1, features: ['b'], batchSize: 500 });
      const seen = recordsOf(await all(ds));
      expect(seen).toEqual(expected);
      // Shards 4 and 5 (positions 0, 1 of the reversed list) hold no time of the range: never decoded.
      expect(reversed.members.slice(0, 2).map((m) => m.file?.reader.stats.decodes ?? 0)).toEqual([0, 0]);
    } finally {
      await reversed.close();
    }
  });

  it('never lets a window span two files unless continuous: true', async () => {
    const windows: TimeRangeOptions = { from: rows[1400].time, to: rows[1600].time, features: ['b'], sequenceLength: 10, batchSize: 1000 };
    // Records 1400..1599: shard 0 ends at 1499, shard 1 starts at 1500.
    const xsOf = async (ds: TimeRangeDataset): Promise<number[]> => (await all(ds)).flatMap((b) => [...b.xs]);
    const expected = (starts: number[]): number[] => starts.flatMap((s) => Array.from({ length: 10 }, (_, k) => rows[s + k].b));
    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);
    expect(await xsOf(new TimeRangeDataset(coll, windows))).toEqual(expected([...range(1400, 1491), ...range(1500, 1591)]));
    expect(await xsOf(new TimeRangeDataset(coll, { ...windows, continuous: true }))).toEqual(expected(range(1400, 1591)));
  });
});
