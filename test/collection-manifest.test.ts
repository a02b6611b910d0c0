/**
 * The collection manifest: a collection opened again from it opens none of its files until one is needed;
 * a time range opens only the files whose spans meet it; counts, statistics, vocabularies, the time index and
 * the records read are those of the same collection opened file by file (`manifest: false`, the truth here
 * besides the generator's rows). A changed file is opened again, a damaged manifest is a warning and a normal
 * open, a file the manifest lists that is gone follows onBadFile, and an s3:// collection opens from a
 * fresh manifest without one HEAD request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeS3Clients, closeSharedPool, openCollection, recordsToArrow, sampleBatches, SequentialStream, ShuffledBatchDataset, timeRangeToArrow, TimeRangeDataset, WorkerPool, type Batch, type CollectionOptions, type IndexedCollection, type ShuffledBatchOptions } from '../src/index.js';
import { readManifest, writeManifest } from '../src/index/collection-manifest.js';
import { cli } from './support/cli.js';
import { tempDir } from './support/fixtures.js';
import { collectionShards } from './support/collection-fixture.js';
import { startFaultProxy, startS3, useTestCredentials, type FaultProxy, type S3Server } from './support/s3.js';

const tmp = tempDir('seekdata-collection-manifest-');
const SIZES = [500, 300, 700, 400, 600, 200];
const { shards } = collectionShards(SIZES, 5);
const rows = shards.flatMap((s) => s.rows);
const starts = SIZES.map((_, k) => SIZES.slice(0, k).reduce((a, b) => a + b, 0));
const pool = new WorkerPool({ size: 2 });
const open: CollectionOptions = { records: 'csv', timeColumn: 'time', pool, lazy: true };
const savedEnv = { ...process.env };

beforeAll(() => {
  process.env.SEEKDATA_CACHE_DIR = join(tmp.dir, 'cache');
});
afterAll(async () => {
  await pool.close();
  await closeS3Clients();
  await closeSharedPool();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  tmp.cleanup();
});

/** A fresh directory of the shards. */
function shardDir(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  for (const s of shards) writeFileSync(join(dir, s.name), s.bytes);
  return dir;
}

const manifestsIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.sdc'));

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** What must agree between a lazily and an eagerly opened collection. */
function summary(c: IndexedCollection): unknown {
  const { skipped, ...info } = c.info();
  return { info: { ...info, indexes: undefined }, skipped, stats: c.stats, columns: c.columns, options: c.options, firstRecord: [...c.records.firstRecord], time: c.time?.summary, layout: c.layoutArrays().map((a) => [...Array.from(a)]) };
}

describe('a local collection with a manifest', () => {
  let dir: string;
  let glob: string;
  beforeAll(async () => {
    dir = shardDir('local');
    glob = join(dir, 'part-*');
    const first = await openCollection(glob, open);
    expect(first.report.manifest).toBeUndefined();
    expect(first.openedFiles).toBe(shards.length);
    await first.close();
  });

  it('without lazy (the default) opens every file even with a fresh manifest, so synchronous lookups work on every run', async () => {
    const { lazy: _lazy, ...notLazy } = open;
    void _lazy;
    const c = await openCollection(glob, notLazy);
    try {
      expect(c.report.manifest).toBe(join(dir, manifestsIn(dir)[0]));
      expect(c.openedFiles).toBe(shards.length);
      const times = rows.map((r) => r.time);
      const ds = new TimeRangeDataset(c, { from: Math.min(...times), to: Math.max(...times) + 1, features: ['b'], batchSize: 128 });
      let n = 0;
      for await (const b of ds) n += b.size;
      expect(n).toBe(rows.length);
    } finally {
      await c.close();
    }
    await expect(openCollection(glob, { ...notLazy, lazy: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'lazy' });
  });

  it('is written by the first open and opens the collection without opening a file; every merged view equals the eager one', async () => {
    expect(manifestsIn(dir)).toHaveLength(1);
    const lazy = await openCollection(glob, open);
    const eager = await openCollection(glob, { ...open, manifest: false });
    try {
      expect(lazy.report.manifest).toBe(join(dir, manifestsIn(dir)[0]));
      expect(lazy.openedFiles).toBe(0);
      expect(lazy.report.openedAtStart).toBe(0);
      expect(eager.openedFiles).toBe(shards.length);
      expect(summary(lazy)).toEqual(summary(eager));
      expect(lazy.records.count).toBe(rows.length);
      // Reading a record opens its file only: record 1000 is the third shard's.
      const k = starts.findLastIndex((s) => s <= 1000);
      expect(await lazy.records.text(1000)).toBe(shards[k].lines[1000 - starts[k]]);
      expect(lazy.openedFiles).toBe(1);
      expect(lazy.members.map((m) => m.file !== undefined)).toEqual(shards.map((_, j) => j === k));
      // Synchronous lookups over files not open are refused, naming what to do — never a wrong answer.
      expect(() => lazy.range(rows[0].time, rows[rows.length - 1].time + 1)).toThrow(expect.objectContaining({ code: 'NOT_OPENED' }));
      await lazy.prepare();
      expect(lazy.openedFiles).toBe(shards.length);
      const many = [0, 499, 500, 2699, 1234, 1999];
      expect((await lazy.records.getMany(many)).map((b) => Buffer.from(b).toString())).toEqual((await eager.records.getMany(many)).map((b) => Buffer.from(b).toString()));
    } finally {
      await lazy.close();
      await eager.close();
    }
  });

  it('shuffled and sequential datasets over it need no prepare and give the eager batches, state included', async () => {
    for (const shuffle of ['chunked', 'exact'] as const) {
      const lazy = await openCollection(glob, open);
      const eager = await openCollection(glob, { ...open, manifest: false });
      try {
        const options: ShuffledBatchOptions = { features: ['b'], labels: 'label', batchSize: 200, seed: 7, shuffle, timeFeatures: ['hourOfDay'] };
        const a = new ShuffledBatchDataset(lazy, options);
        const b = new ShuffledBatchDataset(eager, options);
        expect(lazy.openedFiles).toBe(0);
        const got = await all(a);
        const expected = await all(b);
        expect(got.map((x) => [...x.records])).toEqual(expected.map((x) => [...x.records]));
        expect(got.map((x) => [...x.xs])).toEqual(expected.map((x) => [...x.xs]));
        expect(a.state()).toEqual(b.state());
        const seq = await all(new SequentialStream(lazy, { features: ['b'], batchSize: 500 }));
        expect(seq.flatMap((x) => [...x.records])).toEqual(rows.map((r) => r.record));
      } finally {
        await lazy.close();
        await eager.close();
      }
    }
  });

  it('opens nothing once closed', async () => {
    const lazy = await openCollection(glob, open);
    await lazy.close();
    await expect(lazy.records.text(1000)).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(lazy.prepare()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(lazy.openedFiles).toBe(0);
  });

  it('opens only the files whose time spans meet a range, and gives the same records in the same order as the eager open', async () => {
    const t0 = rows[650].time;
    const t1 = rows[1350].time;
    const spans = shards.map((s) => ({ first: Math.min(...s.rows.map((r) => r.time)), last: Math.max(...s.rows.map((r) => r.time)) }));
    const overlapping = spans.map((s) => s.first < t1 && s.last >= t0);
    // The fixture's times rise across shards: the range meets shards 1 and 2 (records 500..1499) only.
    expect(overlapping).toEqual([false, true, true, false, false, false]);
    const fresh = await openCollection(glob, open);
    try {
      // TimeRangeDataset.open opens the files of the range, and only those.
      const ds = await TimeRangeDataset.open(fresh, { from: new Date(t0).toISOString(), to: new Date(t1).toISOString(), features: ['b'], batchSize: 128 });
      expect(fresh.members.map((m) => m.file !== undefined)).toEqual(overlapping);
      expect([...ds.numbers]).toEqual(rows.filter((r) => r.time >= t0 && r.time < t1).map((r) => r.record));
    } finally {
      await fresh.close();
    }
    const lazy = await openCollection(glob, open);
    const eager = await openCollection(glob, { ...open, manifest: false });
    try {
      // Bounds as TimeRangeDataset takes them (here ISO texts); a bad one names the field.
      await expect(lazy.prepare({ from: 'soon', to: t1 })).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'from' });
      await lazy.prepare({ from: new Date(t0).toISOString(), to: new Date(t1).toISOString() });
      expect(lazy.members.map((m) => m.file !== undefined)).toEqual(overlapping);
      const got = lazy.range(t0, t1);
      expect([...got]).toEqual([...eager.range(t0, t1)]);
      expect([...got]).toEqual(rows.filter((r) => r.time >= t0 && r.time < t1).map((r) => r.record));
      const batches: Batch[] = await all(await TimeRangeDataset.open(lazy, { from: t0, to: t1, features: ['b'], batchSize: 128 }));
      const expected: Batch[] = await all(new TimeRangeDataset(eager, { from: t0, to: t1, features: ['b'], batchSize: 128 }));
      expect(batches.map((b) => [...b.records])).toEqual(expected.map((b) => [...b.records]));
      expect(batches.map((b) => [...b.xs])).toEqual(expected.map((b) => [...b.xs]));
      // Still only the overlapping files.
      expect(lazy.openedFiles).toBe(2);
    } finally {
      await lazy.close();
      await eager.close();
    }
  });

  it('the Arrow export and sampling open the files they need themselves', async () => {
    const t0 = rows[650].time;
    const t1 = rows[1350].time;
    const lazy = await openCollection(glob, open);
    const eager = await openCollection(glob, { ...open, manifest: false });
    try {
      const table = await timeRangeToArrow(lazy, t0, t1);
      expect(lazy.members.map((m) => m.file !== undefined)).toEqual([false, true, true, false, false, false]);
      const truth = await timeRangeToArrow(eager, t0, t1);
      expect(table.numRows).toBe(truth.numRows);
      expect(Array.from(table.getChild('b')?.toArray() as ArrayLike<number>)).toEqual(Array.from(truth.getChild('b')?.toArray() as ArrayLike<number>));
      const picked = await recordsToArrow(lazy, [2699, 0, 1600]);
      expect(Array.from(picked.getChild('b')?.toArray() as ArrayLike<number>)).toEqual([2699, 0, 1600].map((r) => rows[r].b));
    } finally {
      await lazy.close();
      await eager.close();
    }
    const sampler = await openCollection(glob, open);
    try {
      expect(sampler.openedFiles).toBe(0);
      const seen: number[] = [];
      const lines = shards.flatMap((sh) => sh.lines);
      for await (const batch of sampleBatches(sampler, { batchSize: 256, shuffle: 'exact', seed: 3 })) {
        seen.push(...batch.numbers);
        expect(batch.records.map((b) => Buffer.from(b).toString())).toEqual(batch.numbers.map((r) => lines[r]));
      }
      expect(seen.sort((a, b) => a - b)).toEqual(rows.map((r) => r.record));
    } finally {
      await sampler.close();
    }
  });
});

describe('a stale, damaged or incomplete manifest', () => {
  it('opens a changed file again (warned), numbers the collection by its new content, and writes a fresh manifest', async () => {
    const dir = shardDir('changed');
    const glob = join(dir, 'part-*');
    await (await openCollection(glob, open)).close();
    // Shard 4 (plain CSV) loses its last 100 records, with a new mtime.
    const plainShard = shards[4];
    expect(plainShard.name.endsWith('.csv')).toBe(true);
    const header = readFileSync(join(dir, plainShard.name), 'utf8').split('\n')[0];
    writeFileSync(join(dir, plainShard.name), [header, ...plainShard.lines.slice(0, 500)].join('\n') + '\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, plainShard.name), later, later);
    const warnings: string[] = [];
    const c = await openCollection(glob, { ...open, onWarning: (m) => warnings.push(m) });
    try {
      expect(warnings.filter((w) => w.includes('changed since the collection manifest'))).toHaveLength(1);
      expect(warnings.join('\n')).toContain(plainShard.name);
      expect(c.openedFiles).toBe(1);
      expect(c.members[4].file).toBeDefined();
      expect(c.records.count).toBe(rows.length - 100);
      const eager = await openCollection(glob, { ...open, manifest: false });
      try {
        expect(summary(c)).toEqual(summary(eager));
      } finally {
        await eager.close();
      }
    } finally {
      await c.close();
    }
    // The new manifest is fresh: the next open opens nothing.
    const again = await openCollection(glob, open);
    expect(again.openedFiles).toBe(0);
    expect(again.records.count).toBe(rows.length - 100);
    await again.close();
  });

  it('refuses to read a file that changed behind an unchanged size and mtime through the old numbering', async () => {
    const dir = shardDir('sneaky');
    const glob = join(dir, 'part-*');
    const path = join(dir, shards[4].name);
    // A whole-second mtime, so that it can be put back exactly.
    const stamp = new Date('2024-01-02T03:04:05Z');
    utimesSync(path, stamp, stamp);
    await (await openCollection(glob, open)).close();
    const before = statSync(path);
    expect(before.mtimeMs).toBe(stamp.getTime());
    // Same size and mtime, but two records merged into one (a newline replaced by a space) and one split elsewhere.
    const text = readFileSync(path, 'utf8');
    const nl = text.indexOf('\n', text.length >> 1);
    const changed = `${text.slice(0, nl)} ${text.slice(nl + 1)}`;
    expect(changed.length).toBe(text.length);
    writeFileSync(path, changed);
    utimesSync(path, stamp, stamp);
    expect(statSync(path).mtimeMs).toBe(before.mtimeMs);
    const c = await openCollection(glob, open);
    try {
      expect(c.openedFiles).toBe(0);
      const record = starts[4] + 10;
      await expect(c.records.text(record)).rejects.toMatchObject({ code: 'STALE_INDEX', file: path });
    } finally {
      await c.close();
    }
  });

  it.each([
    ['truncated', (p: string) => writeFileSync(p, readFileSync(p).subarray(0, 100))],
    ['with a flipped byte', (p: string) => {
      const b = readFileSync(p);
      // In the JSON of the entries (a record count), so only the section's CRC can tell.
      const at = b.indexOf('"records":');
      expect(at).toBeGreaterThan(0);
      b[at + 10] ^= 0x01;
      writeFileSync(p, b);
    }],
    ['another kind of index file', (p: string, dir: string) => copyFileSync(join(dir, `${shards[0].name}.sdx`), p)],
  ])('warns of a manifest %s and opens every file', async (_what, damage) => {
    const dir = shardDir(`damaged-${_what.replace(/\W/g, '')}`);
    const glob = join(dir, 'part-*');
    await (await openCollection(glob, open)).close();
    const path = join(dir, manifestsIn(dir)[0]);
    damage(path, dir);
    const warnings: string[] = [];
    const c = await openCollection(glob, { ...open, onWarning: (m) => warnings.push(m) });
    try {
      expect(warnings.filter((w) => w.includes(path) && w.includes('damaged collection manifest')), warnings.join('\n')).toHaveLength(1);
      expect(c.report.manifest).toBeUndefined();
      expect(c.openedFiles).toBe(shards.length);
      expect(c.records.count).toBe(rows.length);
      expect(await c.records.text(2000)).toBe(shards[4].lines[2000 - starts[4]]);
    } finally {
      await c.close();
    }
    // And it wrote a good one again.
    const again = await openCollection(glob, open);
    expect(again.openedFiles).toBe(0);
    await again.close();
  });

  it('warns of the manifest of another collection (a copied file) and does not use it', async () => {
    const dir = shardDir('copied');
    const glob = join(dir, 'part-*');
    await (await openCollection(glob, open)).close();
    const [own] = manifestsIn(dir);
    // The same shards listed by another glob; its manifest copied over the first one's.
    await (await openCollection(join(dir, 'part-0000*'), open)).close();
    const foreign = manifestsIn(dir).find((n) => n !== own);
    expect(foreign).toBeDefined();
    copyFileSync(join(dir, foreign ?? ''), join(dir, own));
    const warnings: string[] = [];
    const c = await openCollection(glob, { ...open, onWarning: (m) => warnings.push(m) });
    try {
      expect(warnings.filter((w) => w.includes('describes another collection'))).toHaveLength(1);
      expect(c.report.manifest).toBeUndefined();
      expect(c.openedFiles).toBe(shards.length);
    } finally {
      await c.close();
    }
  });

  it('never gives wrong records whatever byte of the manifest is damaged', async () => {
    const dir = shardDir('flips');
    const glob = join(dir, 'part-*');
    await (await openCollection(glob, { ...open, manifest: 'refresh' })).close();
    const path = join(dir, manifestsIn(dir)[0]);
    const good = readFileSync(path);
    const lines = shards.flatMap((sh) => sh.lines);
    const probes = [0, 499, 500, 1500, 2699];
    let lazyOpens = 0;
    for (let at = 0; at < good.length; at += Math.max(1, Math.floor(good.length / 40))) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x24;
      writeFileSync(path, bad);
      const warnings: string[] = [];
      const c = await openCollection(glob, { ...open, manifest: true, onWarning: (m) => warnings.push(m) });
      try {
        if (c.report.manifest !== undefined) lazyOpens++;
        else expect(warnings.some((w) => w.includes('damaged collection manifest')), `byte ${at}`).toBe(true);
        expect(c.records.count).toBe(rows.length);
        expect((await c.records.getMany(probes)).map((b) => Buffer.from(b).toString())).toEqual(probes.map((r) => lines[r]));
      } finally {
        await c.close();
      }
      // Put the manifest back as it was for the next byte (the open above may have written a new one).
      writeFileSync(path, good);
    }
    // Zero padding between sections is the only part a flip leaves usable.
    expect(lazyOpens).toBeLessThan(5);
  });

  it('refuses to read a file through a manifest whose counts lie (checksums recomputed)', async () => {
    const dir = shardDir('lies');
    const glob = join(dir, 'part-*');
    await (await openCollection(glob, open)).close();
    const path = join(dir, manifestsIn(dir)[0]);
    const manifest = await readManifest(path);
    expect(manifest).toBeDefined();
    if (manifest === undefined) return;
    // Shard 1 claims one record more than it has (its last chunk one record longer).
    const facts = manifest.entries[1].facts;
    facts.records += 1;
    facts.firstRecord[facts.firstRecord.length - 1] += 1;
    await writeManifest(path, manifest);
    const c = await openCollection(glob, open);
    try {
      expect(c.openedFiles).toBe(0);
      expect(await c.records.text(0)).toBe(shards[0].lines[0]);
      await expect(c.records.text(starts[1])).rejects.toMatchObject({ code: 'STALE_INDEX', file: join(dir, shards[1].name) });
    } finally {
      await c.close();
    }
  });

  it('follows onBadFile for a file the manifest lists that is gone', async () => {
    const dir = shardDir('gone');
    const glob = join(dir, 'part-*');
    await (await openCollection(glob, open)).close();
    const gone = join(dir, shards[2].name);
    rmSync(gone);
    await expect(openCollection(glob, open)).rejects.toMatchObject({ code: 'NOT_FOUND', file: gone });
    const warnings: string[] = [];
    const c = await openCollection(glob, { ...open, onBadFile: 'skip', onWarning: (m) => warnings.push(m) });
    try {
      expect(c.report.skipped.map((s) => s.file)).toEqual([gone]);
      expect(warnings.filter((w) => w.includes(gone))).toHaveLength(1);
      expect(c.records.count).toBe(rows.length - SIZES[2]);
      expect(c.openedFiles).toBe(0);
      expect(await c.records.text(starts[2])).toBe(shards[3].lines[0]);
    } finally {
      await c.close();
    }
  });
});

describe('statistics JSON cannot hold', () => {
  it('writes no manifest for files whose statistics hold -0 or Infinity, so a later open is the eager one', async () => {
    const dir = join(tmp.dir, 'odd-numbers');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.csv'), 'time,x\n2024-01-01T00:00:00Z,-0\n2024-01-01T00:01:00Z,-0\n');
    writeFileSync(join(dir, 'b.csv'), 'time,x\n2024-01-02T00:00:00Z,1e999\n2024-01-02T00:01:00Z,3\n');
    const first = await openCollection(join(dir, '*.csv'), open);
    expect(Object.is(first.stats[1].min, -0)).toBe(true);
    expect(first.stats[1].max).toBe(Infinity);
    expect(first.report.manifestWritten).toBeUndefined();
    await first.close();
    expect(manifestsIn(dir)).toEqual([]);
    const again = await openCollection(join(dir, '*.csv'), open);
    expect(again.openedFiles).toBe(2);
    expect(again.report.manifest).toBeUndefined();
    await again.close();
  });
});

describe('the command line', () => {
  it('index writes the manifest; range then opens only the files of the range (a damaged file outside it is never read)', async () => {
    const dir = shardDir('cli');
    const glob = join(dir, 'part-*');
    const path = join(dir, shards[0].name);
    // A whole-second mtime, so that it can be put back exactly after the damage below.
    const stamp = new Date('2024-01-02T03:04:05Z');
    utimesSync(path, stamp, stamp);
    const built = await cli('index', glob, '--records', 'csv', '--time-column', 'time', '-p', '1', '-q');
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    expect(manifestsIn(dir)).toHaveLength(1);
    expect(built.stdout.toString()).toContain(`collection manifest: ${join(dir, manifestsIn(dir)[0])}`);
    const info = await cli('info', glob, '-q');
    expect(info.stdout.toString()).toContain(`${join(dir, manifestsIn(dir)[0])} (0 of ${shards.length} files opened)`);
    const t0 = rows[650].time;
    const t1 = rows[1350].time;
    const expected = `${rows.filter((r) => r.time >= t0 && r.time < t1).length}\n`;
    // Shard 0 (bzip2) damaged in the middle behind its old size and mtime: opening it would fail its checks.
    expect(path.endsWith('.bz2')).toBe(true);
    const bytes = readFileSync(path);
    for (let i = 100; i < bytes.length - 100; i += 7) bytes[i] ^= 0x5a;
    writeFileSync(path, bytes);
    utimesSync(path, stamp, stamp);
    expect(statSync(path).mtimeMs).toBe(stamp.getTime());
    const range = await cli('range', glob, '--from', new Date(t0).toISOString(), '--to', new Date(t1).toISOString(), '--count-only', '-q');
    expect(range.stderr).toBe('');
    expect(range.code).toBe(0);
    expect(range.stdout.toString()).toBe(expected);
    // Without the manifest every file is opened, and shard 0's damage is an error naming it.
    rmSync(join(dir, manifestsIn(dir)[0]));
    const eager = await cli('range', glob, '--from', new Date(t0).toISOString(), '--to', new Date(t1).toISOString(), '--count-only', '-q');
    expect(eager.code).not.toBe(0);
    expect(eager.stderr).toContain(shards[0].name);
  });
});

describe('an s3:// collection with a manifest', () => {
  let s3: S3Server;
  let proxy: FaultProxy;
  beforeAll(async () => {
    useTestCredentials();
    s3 = await startS3();
    await s3.createBucket('manifest');
    for (const s of shards) await s3.put('manifest', `data/${s.name}`, s.bytes);
    proxy = await startFaultProxy(s3.port);
  });
  afterAll(async () => {
    await closeS3Clients();
    await proxy.close();
    await s3.close();
  });

  it('opens from a fresh manifest with one listing and no HEAD per object, then opens an object when a record of it is read', async () => {
    const glob = 's3://manifest/data/part-*';
    const options: CollectionOptions = { records: 'csv', timeColumn: 'time', pool, endpoint: proxy.url, lazy: true };
    const first = await openCollection(glob, options);
    expect(first.openedFiles).toBe(shards.length);
    await first.close();
    expect(proxy.seen.filter((r) => r.method === 'HEAD').length).toBeGreaterThanOrEqual(shards.length);
    const before = proxy.seen.length;
    const c = await openCollection(glob, options);
    try {
      const opening = proxy.seen.slice(before);
      expect(opening.filter((r) => r.method === 'HEAD')).toEqual([]);
      expect(opening.length).toBe(1); // the listing
      expect(c.openedFiles).toBe(0);
      expect(c.report.manifest).toContain(join(tmp.dir, 'cache'));
      expect(c.records.count).toBe(rows.length);
      const at = proxy.seen.length;
      expect(await c.records.text(starts[3] + 5)).toBe(shards[3].lines[5]);
      expect(proxy.seen.slice(at).filter((r) => r.method === 'HEAD').map((r) => r.url)).toEqual([`/manifest/data/${shards[3].name}`]);
      expect(c.openedFiles).toBe(1);
    } finally {
      await c.close();
    }
  });
});
