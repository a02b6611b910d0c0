/**
 * Sharding: ranks of one epoch get the same number of records and batches in every shuffle mode, their
 * union is every record (plus the documented padding repeats), a world size the file cannot serve is
 * refused, a saved state resumes only the plan it came from, and `seekdata sample --rank/--world-size`
 * prints the dataset's own shards. On the bundled data/weather.csv.bz2: 2,922 records in two bzip2
 * blocks of 2,413 and 509 records (chunked shards used to be [509, 2413, 0, 0] with 4 ranks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { closeSharedPool, openIndexed, ShuffledBatchDataset, WorkerPool, type IndexedFile, type ShuffledBatchOptions } from '../src/index.js';
import { runCli } from '../src/cli/main.js';
import { bzip2, run, tempDir, writeFixture } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';

const tmp = tempDir();
const bundled = join(tmp.dir, 'weather.csv.bz2');
copyFileSync(new URL('../data/weather.csv.bz2', import.meta.url), bundled);
// The truth, from the bzip2 command: records are the lines after the header.
const lines = run('bzip2', ['-dc'], readFileSync(bundled)).toString().trimEnd().split('\n');
const N = lines.length - 1;
const base: ShuffledBatchOptions = { features: ['precipitation', 'wind'], labels: 'weather', batchSize: 100 };
// A pool of our own: the in-process CLI closes the shared one when it ends.
const pool = new WorkerPool({ size: 2 });
let file: IndexedFile;

beforeAll(async () => {
  file = await openIndexed(bundled, { records: 'csv', pool });
});
afterAll(async () => {
  await file.close();
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function epoch(ds: ShuffledBatchDataset): Promise<{ records: number[]; batches: number }> {
  const records: number[] = [];
  let batches = 0;
  for await (const b of ds) {
    records.push(...b.records);
    batches++;
  }
  return { records, batches };
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]): Writable =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        into.push(Buffer.from(chunk));
        done();
      },
    });
  const code = await runCli([...args, '-p', '1'], { stdout: sink(out), stderr: sink(err) });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

const modes = ['exact', 'chunked', false] as const;

describe('equal shards on the bundled file', () => {
  it('has the two unequal blocks this test is about', () => {
    expect(N).toBe(2922);
    expect(Array.from(file.records.firstRecord)).toEqual([0, 2413, 2922]);
  });

  describe.each(modes)('shuffle %s', (shuffle) => {
    it.each([2, 3, 4])('%i ranks, pad (default): equal records and batches, every record, padding repeats only', async (worldSize) => {
      const per = Math.ceil(N / worldSize);
      const all: number[] = [];
      const batches: number[] = [];
      for (let rank = 0; rank < worldSize; rank++) {
        const ds = new ShuffledBatchDataset(file, { ...base, shuffle, seed: 5, rank, worldSize });
        expect(ds.recordsPerEpoch).toBe(per);
        const got = await epoch(ds);
        expect(got.records.length).toBe(per);
        expect(got.batches).toBe(ds.batchesPerEpoch);
        all.push(...got.records);
        batches.push(got.batches);
      }
      expect(new Set(batches).size).toBe(1);
      expect([...new Set(all)].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
      // The padding: exactly per * worldSize - N draws repeat a record.
      expect(all.length - N).toBe(per * worldSize - N);
    });

    it.each([3, 4])('%i ranks, drop: equal records and batches, no repeats, N mod worldSize records left out', async (worldSize) => {
      const per = Math.floor(N / worldSize);
      const all: number[] = [];
      const batches = new Set<number>();
      for (let rank = 0; rank < worldSize; rank++) {
        const got = await epoch(new ShuffledBatchDataset(file, { ...base, shuffle, seed: 5, rank, worldSize, shardPolicy: 'drop' }));
        expect(got.records.length).toBe(per);
        all.push(...got.records);
        batches.add(got.batches);
      }
      expect(batches.size).toBe(1);
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(N - (N % worldSize));
    });

    it('`seekdata sample --rank --world-size --indices` prints the dataset’s shards', async () => {
      const flag = shuffle === false ? 'none' : shuffle;
      for (const rank of [0, 2]) {
        const printed = await cli('sample', bundled, '--records', 'csv', '-b', '100', '--shuffle', flag, '--seed', '5', '--epoch', '1', '--rank', String(rank), '--world-size', '3', '--indices');
        expect(printed.code, printed.stderr).toBe(0);
        const numbers = printed.stdout.trim().split(/\s+/).map(Number);
        const ds = new ShuffledBatchDataset(file, { ...base, shuffle, seed: 5, epoch: 1, rank, worldSize: 3 });
        expect(numbers).toEqual(Array.from(ds.order()));
        expect(printed.stdout.trim().split('\n')).toHaveLength(ds.batchesPerEpoch);
      }
    });
  });

  it('ranks yield the same number of batches even when malformed records are skipped', async () => {
    const { csv, rows } = datasetFixture(3000);
    const path = writeFixture(tmp.dir, 'bad.csv.bz2', bzip2(csv, 1));
    const bad = await openIndexed(path, { records: 'csv', pool });
    try {
      expect(rows.some((r) => r.bad)).toBe(true);
      for (const shuffle of modes) {
        const counts = new Set<number>();
        const seen: number[] = [];
        for (let rank = 0; rank < 3; rank++) {
          const got = await epoch(new ShuffledBatchDataset(bad, { features: ['a', 'b'], labels: 'label', batchSize: 64, shuffle, seed: 1, rank, worldSize: 3 }));
          counts.add(got.batches);
          seen.push(...got.records);
        }
        expect(counts).toEqual(new Set([Math.ceil(1000 / 64)]));
        expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(rows.filter((r) => !r.bad).map((r) => r.record));
      }
    } finally {
      await bad.close();
    }
  });
});

describe('world sizes that cannot be served', () => {
  it('more ranks than records: INVALID_OPTION naming worldSize (and --world-size in the CLI)', async () => {
    const path = writeFixture(tmp.dir, 'three.csv.bz2', bzip2(Buffer.from('x,y\n1,2\n3,4\n5,6\n')));
    const small = await openIndexed(path, { records: 'csv', pool });
    try {
      for (const shuffle of modes) {
        expect(() => new ShuffledBatchDataset(small, { features: ['x'], shuffle, rank: 0, worldSize: 4 })).toThrow(
          expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/options\.worldSize 4 is more than the 3 records of .*three\.csv\.bz2: some rank would get no record/) }),
        );
      }
      expect(() => new ShuffledBatchDataset(small, { features: ['x'], rank: 2, worldSize: 3 })).not.toThrow();
      const printed = await cli('sample', path, '--records', 'csv', '--world-size', '4', '--indices');
      expect(printed.code).toBe(2);
      expect(printed.stderr).toMatch(/--world-size 4 is more than the 3 records/);
    } finally {
      await small.close();
    }
  });
});

describe('resume checks the plan', () => {
  async function stateAfter(options: ShuffledBatchOptions, batches: number): Promise<ReturnType<ShuffledBatchDataset['state']>> {
    const ds = new ShuffledBatchDataset(file, options);
    let n = 0;
    for await (const b of ds) if (++n === batches || b.size === 0) break;
    // A state survives a trip through JSON (a checkpoint file).
    return JSON.parse(JSON.stringify(ds.state())) as ReturnType<ShuffledBatchDataset['state']>;
  }

  it.each(modes)('shuffle %s: the same plan resumes exactly; another world size, policy or mode is refused', async (shuffle) => {
    const options: ShuffledBatchOptions = { ...base, shuffle, seed: 9, rank: 1, worldSize: 3 };
    const state = await stateAfter(options, 3);
    expect(state.plan).toMatchObject({ worldSize: 3, shardPolicy: 'pad', records: N });
    const full = (await epoch(new ShuffledBatchDataset(file, options))).records;
    const rest = (await epoch(new ShuffledBatchDataset(file, { ...options, state }))).records;
    expect(rest).toEqual(full.slice(state.position));
    // Another rank of the same world resumes at the same position of its own shard.
    expect(() => new ShuffledBatchDataset(file, { ...options, rank: 2, state })).not.toThrow();
    expect(() => new ShuffledBatchDataset(file, { ...options, worldSize: 2, state })).toThrow(/options\.state comes from another worldSize: state\.plan\.worldSize is 3, this dataset's is 2/);
    expect(() => new ShuffledBatchDataset(file, { ...options, shardPolicy: 'drop', state })).toThrow(/another shardPolicy/);
    expect(() => new ShuffledBatchDataset(file, { ...options, shuffle: shuffle === 'exact' ? 'chunked' : 'exact', state })).toThrow(/another shuffle/);
    expect(() => new ShuffledBatchDataset(file, { ...options, state: { ...state, position: 10_000 } })).toThrow(/past the end of the epoch/);
  });

  it('a state from another file is refused, even one with as many records', async () => {
    const options: ShuffledBatchOptions = { ...base, shuffle: 'chunked', seed: 9 };
    const state = await stateAfter(options, 2);
    // The same records compressed with other blocks: another file, same record count.
    const other = writeFixture(tmp.dir, 'weather-9.csv.bz2', bzip2(run('bzip2', ['-dc'], readFileSync(bundled)), 9));
    const otherFile = await openIndexed(other, { records: 'csv', pool });
    try {
      expect(otherFile.records.count).toBe(N);
      expect(() => new ShuffledBatchDataset(otherFile, { ...options, state })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/options\.state comes from another file/) }),
      );
    } finally {
      await otherFile.close();
    }
  });

  it('a state saved without a plan (earlier versions) still loads', async () => {
    const options: ShuffledBatchOptions = { ...base, shuffle: 'exact', seed: 9 };
    const { plan, ...legacy } = await stateAfter(options, 2);
    expect(plan).toBeDefined();
    const full = (await epoch(new ShuffledBatchDataset(file, options))).records;
    expect((await epoch(new ShuffledBatchDataset(file, { ...options, state: legacy }))).records).toEqual(full.slice(legacy.position));
  });
});
