/**
 * Training throughput, second round: a loaded index's chunk-tail checks run outside the training pace
 * (they were holding the one job slot while an asynchronous prefix decode waited on the busy event loop),
 * and `toTfDataset`'s `workerPriority` lowers the pool workers' own priority (Linux: per thread) while
 * they run the dataset's jobs — the training thread's is untouched, the batches are the same, the option
 * is checked.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readdirSync, readFileSync } from 'node:fs';
import { closeSharedPool, openIndexed, SequentialStream, ShuffledBatchDataset, toTfDataset, WorkerPool, type IndexedFile, type ShuffledBatchOptions } from '../src/index.js';
import { PacedLoads } from '../src/datasets/pace.js';
import type { JobRunner } from '../src/workers/pool.js';
import { withJobPriority } from '../src/workers/priority.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';
import { datasetFixture } from './support/dataset-fixture.js';

const { csv } = datasetFixture(12_000, 11);
const tmp = tempDir();
const pool = new WorkerPool({ size: 2 });
const opened: IndexedFile[] = [];
let xzPath: string;

const base: ShuffledBatchOptions = { features: ['a', 'b', 'cat'], labels: 'label', batchSize: 64, seed: 3, windowChunks: 3, shuffle: 'chunked', onWarning: () => undefined };

beforeAll(async () => {
  xzPath = writeFixture(tmp.dir, 'throughput.csv.xz', xz(csv, '--block-size=32KiB'));
  await (await openIndexed(xzPath, { records: 'csv', timeColumn: 'time', parallelism: 2, pool })).close();
});
afterAll(async () => {
  for (const f of opened) await f.close();
  await pool.close();
  await closeSharedPool();
  tmp.cleanup();
});

/** The fixture on its saved index (loaded: chunk tails not checked yet), its jobs through `runner`. */
async function loaded(runner: JobRunner = pool): Promise<IndexedFile> {
  const file = await openIndexed(xzPath, { records: 'csv', timeColumn: 'time', parallelism: 2, pool: runner });
  expect(file.report.status).toBe('loaded');
  opened.push(file);
  return file;
}

/** A runner in front of the pool that holds every job until `release()` (jobs counted as posted). */
function holding(): { runner: JobRunner; posted: () => number; release: () => void } {
  let posted = 0;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    runner: {
      async run(job, signal, transfer) {
        posted++;
        await gate;
        return pool.run(job, signal, transfer);
      },
    },
    posted: () => posted,
    release: () => open(),
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let k = 0; k < 400 && !check(); k++) await new Promise((r) => setTimeout(r, 5));
}

describe('chunk-tail checks of a loaded index run outside the training pace', () => {
  it('PacedLoads.run starts `prepare` at once, while the gate is full; the load itself waits its turn', async () => {
    const loads = new PacedLoads<number>();
    loads.pace = { jobs: 1, nextEpoch: false };
    let releaseFirst: () => void = () => undefined;
    const first = loads.run(() => new Promise<number>((resolve) => (releaseFirst = () => resolve(1))));
    const prepared: number[] = [];
    const ran: number[] = [];
    const second = loads.run(
      async () => {
        ran.push(2);
        return 2;
      },
      async () => {
        prepared.push(2);
      },
    );
    await until(() => prepared.length > 0);
    expect(prepared).toEqual([2]);
    expect(ran).toEqual([]);
    releaseFirst();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(ran).toEqual([2]);
  });

  it('with one job slot held by a running chunk job, the tails of the chunks queued behind it are checked already', async () => {
    const hold = holding();
    const file = await loaded(hold.runner);
    const checked: number[] = [];
    const verify = file.records.verifyTail.bind(file.records);
    vi.spyOn(file.records, 'verifyTail').mockImplementation(async (chunk: number) => {
      checked.push(chunk);
      return verify(chunk);
    });
    const data = toTfDataset(new ShuffledBatchDataset(file, base), tf, { workerJobs: 1 });
    const it = await data.iterator();
    const firstBatch = it.next();
    await until(() => hold.posted() >= 1 && checked.length >= 3);
    // One job posted (the slot's), and held; the chunks loaded next (window and read-ahead) had their
    // tails checked meanwhile. Before, each check ran inside its load's turn: one check, for the held job.
    expect(hold.posted()).toBe(1);
    expect(new Set(checked).size).toBeGreaterThanOrEqual(3);
    hold.release();
    const step = await firstBatch;
    expect(step.done).toBe(false);
    const value = step.value as { xs: tf.Tensor; ys: tf.Tensor };
    tf.dispose([value.xs, value.ys]);
    for (let s = await it.next(); s.done !== true; s = await it.next()) tf.dispose(Object.values(s.value as Record<string, tf.Tensor>));
  });
});

/** Nice value of each thread of this process (Linux /proc). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      out.set(Number(tid), Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]));
    } catch {
      // The thread ended.
    }
  }
  return out;
}

function ownNice(): number {
  return Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[16]);
}

/** The features of every batch of one epoch through the adapter (tensors disposed). */
async function epochFeatures(data: tf.data.Dataset<tf.TensorContainer>): Promise<number[][]> {
  const out: number[][] = [];
  const it = await data.iterator();
  for (;;) {
    const step = await it.next();
    if (step.done === true) return out;
    const value = step.value as { xs: tf.Tensor; ys: tf.Tensor };
    out.push(Array.from(value.xs.dataSync()));
    tf.dispose([value.xs, value.ys]);
  }
}

/** This thread's nice value now; a lower priority asked of the workers. */
const mine = process.platform === 'linux' ? ownNice() : 0;
const lower = Math.min(19, mine + 7);
/** Another one, for the pool's own test (an unprivileged worker niced by an earlier test stays at `lower`). */
const other = Math.min(19, mine + 3);

describe('workerPriority', () => {
  it.runIf(process.platform === 'linux' && lower > mine)('runs the pool workers at that nice value (their own threads only), training untouched, with the same batches', async () => {
    const before = threadNices();
    expect([...before.values()].includes(lower)).toBe(false);
    const prioritised = await epochFeatures(toTfDataset(new ShuffledBatchDataset(await loaded(), base), tf, { workerPriority: lower }));
    const after = threadNices();
    // The pool's worker threads (two at most) ran jobs at the nice value; this thread and the process's
    // main thread did not change.
    const niced = [...after].filter(([, nice]) => nice === lower).map(([tid]) => tid);
    expect(niced.length).toBeGreaterThanOrEqual(1);
    expect(niced.length).toBeLessThanOrEqual(2);
    expect(niced.includes(process.pid)).toBe(false);
    expect(ownNice()).toBe(mine);
    expect(after.get(process.pid)).toBe(before.get(process.pid));
    // The same batches as at the normal priority.
    const normal = await epochFeatures(toTfDataset(new ShuffledBatchDataset(await loaded(), base), tf, { workerPriority: 0 }));
    expect(prioritised.length).toBeGreaterThan(10);
    expect(prioritised).toEqual(normal);
  });

  it.runIf(process.platform === 'linux' && other > mine && other !== lower)('a job of the pool runs at the priority it was submitted under; a later job without one puts its worker back (where allowed)', async () => {
    const own = new WorkerPool({ size: 1 });
    try {
      const job = { input: { kind: 'bytes' as const, bytes: new Uint8Array([1, 2, 3]) } };
      await own.run(job);
      const before = threadNices();
      expect([...before.values()].includes(other)).toBe(false);
      const result = await withJobPriority(other, () => own.run(job));
      expect(result.length).toBe(3);
      const niced = [...threadNices()].filter(([tid, nice]) => nice === other && before.has(tid));
      expect(niced.length).toBe(1);
      await own.run(job);
      // Back to the thread's own nice value needs the privilege to lower it (root here, usually not a user).
      const privileged = process.getuid?.() === 0;
      expect(threadNices().get(niced[0][0])).toBe(privileged ? before.get(niced[0][0]) : other);
    } finally {
      await own.close();
    }
  });

  it('is checked, naming the field, on every dataset', async () => {
    const file = await loaded();
    const ds = new ShuffledBatchDataset(file, base);
    for (const bad of [-1, 20, 2.5, '5']) {
      expect(() => toTfDataset(ds, tf, { workerPriority: bad as number })).toThrow(/options\.workerPriority must be an integer from 0 \(normal\) to 19/);
    }
    const stream = new SequentialStream(file, { features: ['a', 'b'], batchSize: 16, onWarning: () => undefined });
    expect(() => toTfDataset(stream, tf, { workerPriority: 40 })).toThrow(/options\.workerPriority must be/);
    expect(() => toTfDataset(ds, tf, { workerPriority: 0 })).not.toThrow();
  });
});
