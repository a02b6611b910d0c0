/**
 * Worker jobs carry their own bytes, not the buffers their arrays are views into: posting a view clones
 * its whole ArrayBuffer, and chunk tails used to be views into the buffer of the loaded index file, so
 * every job of a dataset over a LOADED index copied the whole index (a freshly built index does not show
 * it: its tails are a small array of their own). Every job is measured here, as posted, by a runner that
 * sits between the datasets and the pool, with a walk of its own (not the pool's guard).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import {
  closeSharedPool,
  MemorySource,
  openIndexed,
  SequentialStream,
  ShuffledBatchDataset,
  TimeRangeDataset,
  WorkerPool,
  type IndexedFile,
} from '../src/index.js';
import { bzip2, tempDir, writeFixture, xz } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';

type Runner = Pick<WorkerPool, 'run'>;

interface Posted {
  op: string;
  /** Bytes the job's typed arrays view. */
  own: number;
  /** Bytes of the distinct ArrayBuffers behind them: what structured cloning copies. */
  carried: number;
}

/** Every typed array reachable from a message (plain objects and arrays). */
function views(value: unknown, out: ArrayBufferView[] = []): ArrayBufferView[] {
  if (ArrayBuffer.isView(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) views(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) views(v, out);
  return out;
}

function measure(job: unknown): { own: number; carried: number } {
  const all = views(job);
  const buffers = new Set(all.map((v) => v.buffer));
  // A SharedArrayBuffer is not copied by a post (bzip2's scan posts views of its shared search windows):
  // it carries only the bytes its views show, as the pool's own count has it (workers/message.ts).
  const carried = [...buffers].reduce((n, b) => n + (b instanceof SharedArrayBuffer ? all.filter((v) => v.buffer === b).reduce((m, v) => m + v.byteLength, 0) : b.byteLength), 0);
  return { own: all.reduce((n, v) => n + v.byteLength, 0), carried };
}

/** A runner that records what each job would post, then runs it in the real pool. */
function spy(pool: WorkerPool): { runner: Runner; posted: Posted[] } {
  const posted: Posted[] = [];
  const runner: Runner = {
    run(job, signal, transfer) {
      // A chunk decoded (with or without a step), or records parsed from bytes.
      const op = job.input.kind === 'decode' ? 'decode' : (job.step?.name ?? 'bytes');
      posted.push({ op, ...measure(job) });
      return pool.run(job, signal, transfer);
    },
  };
  return { runner, posted };
}

const { csv } = datasetFixture(30_000);
const tmp = tempDir();
const pool = new WorkerPool({ size: 2 });
const options = { records: 'csv' as const, timeColumn: 'time', parallelism: 2 };
const features = { features: ['a', 'b', 'cat'], labels: 'label', batchSize: 128 };
const paths: string[] = [];

beforeAll(async () => {
  paths.push(writeFixture(tmp.dir, 'jobs.csv.bz2', bzip2(csv, 1)), writeFixture(tmp.dir, 'jobs.csv.xz', xz(csv, '--block-size=64KiB')));
  // Build and save the indexes, so the datasets below run on indexes loaded from disk.
  for (const path of paths) await (await openIndexed(path, options)).close();
});
afterAll(async () => {
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

async function drain(iterable: AsyncIterable<unknown>): Promise<void> {
  for await (const item of iterable) void item;
}

describe('worker jobs carry only their own bytes', () => {
  it.each([0, 1])('datasets over a LOADED index (file %i): no job carries more than its own bytes', async (which) => {
    const path = paths[which];
    const { runner, posted } = spy(pool);
    const file: IndexedFile = await openIndexed(path, { ...options, pool: runner, ifStale: 'error' });
    try {
      expect(file.report.status).toBe('loaded');
      const indexBytes = statSync(`${path}.sdx`).size;
      await drain(new ShuffledBatchDataset(file, { ...features, shuffle: 'chunked', seed: 1 }));
      await drain(new ShuffledBatchDataset(file, { ...features, shuffle: false, rank: 1, worldSize: 3 }));
      const exact = new ShuffledBatchDataset(file, { ...features, shuffle: 'exact', seed: 2 });
      let batches = 0;
      for await (const batch of exact) if (++batches === 20 || batch.size === 0) break;
      await drain(new SequentialStream(file, features));
      const t0 = Date.UTC(2024, 4, 1, 2);
      await drain(new TimeRangeDataset(file, { ...features, from: t0, to: t0 + 3_600_000 }));
      // Every dataset above parses in its decode jobs (the exact shuffle too, in rounds); 'parse' jobs
      // remain for the scattered records of a time range over an unsorted file.
      expect(posted.filter((p) => p.op === 'decode').length).toBeGreaterThan(10);
      const worst = posted.reduce((a, b) => (b.carried - b.own > a.carried - a.own ? b : a));
      // Before the fix, every chunk job carried the whole index file (here ~indexBytes) for a tail of a
      // few dozen bytes.
      expect(worst.carried - worst.own, `a ${worst.op} job of ${worst.own} bytes carried ${worst.carried} (index file: ${indexBytes})`).toBe(0);
    } finally {
      await file.close();
    }
  });

  it.each(['Uint8Array', 'Buffer'])('a file in memory (%s): decode jobs carry their block, not the whole file, and leave it intact', async (kind) => {
    const { runner, posted } = spy(pool);
    const { readFileSync } = await import('node:fs');
    const content = readFileSync(paths[0]);
    // The file inside a larger buffer, as an embedder holding it in memory would have it.
    const holder = kind === 'Buffer' ? Buffer.alloc(content.length + 1024) : new Uint8Array(content.length + 1024);
    holder.set(content, 512);
    const source = new MemorySource(holder.subarray(512, holder.length - 512), 'in-memory.csv.bz2');
    const file = await openIndexed(source, { records: 'csv', parallelism: 2, pool: runner });
    try {
      await drain(new ShuffledBatchDataset(file, { ...features, shuffle: 'chunked', seed: 3 }));
      expect(posted.length).toBeGreaterThan(4);
      for (const p of posted) expect(p.carried - p.own).toBe(0);
      // Nothing of the caller's was moved (detached) to a worker.
      expect(holder.buffer.byteLength).toBeGreaterThanOrEqual(content.length + 1024);
      expect(Buffer.from(holder.subarray(512, holder.length - 512)).equals(content)).toBe(true);
    } finally {
      await file.close();
    }
  });

  it("the pool's guard posts no view of a larger buffer and counts what it posts", async () => {
    const own = new WorkerPool({ size: 1 });
    try {
      // A parse job whose bytes are a 30-byte view into a 4 MiB buffer.
      const big = new Uint8Array(4 << 20);
      const line = new TextEncoder().encode('2024-05-01T00:00:00Z,1.5,7,x,1,n');
      big.set(line, 1000);
      const spec = { kind: 'csv' as const, delimiter: 0x2c, file: 'f', features: [{ column: 1, path: [], name: 'a', vocab: undefined, fill: 0, shift: 0, scale: 1 }], labels: [], labelType: 'float32' as const, oneHot: 0, missing: 'fill' as const, malformed: 'error' as const };
      const args = { spans: Uint32Array.of(0, line.length), records: Float64Array.of(0), spec, tail: new Uint8Array(0) };
      const result = await own.run({ input: { kind: 'bytes', bytes: big.subarray(1000, 1000 + line.length) }, step: { name: 'parse', args }, keepBytes: false });
      const parsed = result.step as { rows: { features: Float32Array } } | undefined;
      expect(Array.from(parsed?.rows.features ?? [])).toEqual([1.5]);
      expect(own.stats.leanCopies).toBe(1);
      expect(own.stats.postedBytes).toBeLessThan(1024);
      expect(own.stats.ownBytes).toBe(own.stats.postedBytes);
      // The caller's arrays are untouched.
      expect(big.byteLength).toBe(4 << 20);
    } finally {
      await own.close();
    }
  });

  it('seekdata itself never needs the guard: a shared pool run shows no lean copies', async () => {
    const file = await openIndexed(paths[1], { ...options, pool, ifStale: 'error' });
    try {
      const before = { ...pool.stats };
      await drain(new ShuffledBatchDataset(file, { ...features, shuffle: 'chunked', seed: 4 }));
      expect(pool.stats.jobs).toBeGreaterThan(before.jobs);
      expect(pool.stats.leanCopies).toBe(0);
      expect(pool.stats.postedBytes - before.postedBytes).toBe(pool.stats.ownBytes - before.ownBytes);
    } finally {
      await file.close();
    }
  });
});
