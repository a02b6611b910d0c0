/**
 * The worker pool with two jobs queued on each worker (concurrentTasksPerWorker: 2) and a synchronous job
 * handler: results come back whole and in their own promise, errors stay typed and attached to their
 * job, a crashed worker fails its jobs without a hang, closing waits for every job, and an abort never
 * terminates a job that has started (a worker inside liblzma). The truth: the plain input and the errors
 * lzma-native gives for the same damage.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySource, WorkerPool } from '../src/index.js';
import { LOOKAHEAD_BYTES, scanLookahead } from '../src/readers/scan.js';
import { xzFormat, xzUnits } from '../src/readers/xz/format.js';
import type { UnitTable } from '../src/readers/units.js';
import type { WorkerJob } from '../src/workers/jobs.js';
import { prepareDecoders } from '../src/workers/registry.js';
import handle from '../src/workers/worker.js';
import { makeText, tempDir, xz } from './support/fixtures.js';

const plain = makeText(600_000, 31);
const file = new Uint8Array(xz(plain, '--block-size=50000'));
let units: UnitTable;
const tmp = tempDir();

beforeAll(async () => {
  units = await xzUnits(new MemorySource(file, 'pool.xz'));
  expect(units.count).toBeGreaterThanOrEqual(10);
});
afterAll(() => tmp.cleanup());

/** The decode job of block u of `bytes` (plain data, as the reader posts it). */
async function job(u: number, bytes: Uint8Array = file): Promise<WorkerJob> {
  const { input } = await xzFormat.task(new MemorySource(bytes, 'pool.xz'), units, u);
  return { input };
}

const block = (u: number): Buffer => plain.subarray(units.dStart[u], units.dStart[u + 1]);

describe('the job handler', () => {
  it('is synchronous once the decoders are prepared: a result is posted before the next queued job starts', async () => {
    await prepareDecoders();
    const reply = handle(await job(1));
    expect(reply).not.toBeInstanceOf(Promise);
    const cut = await job(1);
    if (cut.input.kind === 'decode') cut.input.task = { ...(cut.input.task as object), data: file.slice(units.cStart[1], units.cStart[1] + 100) };
    const failed = handle(cut);
    expect(failed).not.toBeInstanceOf(Promise);
    expect(failed).toMatchObject({ ok: false, error: { code: 'TRUNCATED' } });
  });
});

describe('a pool of one worker with two jobs queued on it', () => {
  it('runs many jobs at once: each result whole and its own, a damaged block a typed error of its own', async () => {
    const pool = new WorkerPool({ size: 1 });
    try {
      const damaged = file.slice();
      damaged[units.cStart[4] + Math.floor(units.param[4] / 2)] ^= 0x10;
      const jobs = await Promise.all(Array.from({ length: units.count }, (_, u) => job(u, damaged)));
      const settled = await Promise.allSettled(jobs.map((j) => pool.run(j)));
      settled.forEach((s, u) => {
        if (u === 4) {
          expect(s.status).toBe('rejected');
          expect(s.status === 'rejected' && s.reason).toMatchObject({ code: 'CORRUPT_DATA', message: expect.stringContaining(`pool.xz: xz block at byte ${units.cStart[4]}`) });
        } else {
          expect(s.status === 'fulfilled' && Buffer.from(s.value.bytes).equals(block(u))).toBe(true);
          expect(s.status === 'fulfilled' && s.value.decoder).toBe('node-liblzma');
        }
      });
    } finally {
      await pool.close();
    }
  });

  it('closing waits for every job posted, queued ones too; then the pool is closed', async () => {
    const pool = new WorkerPool({ size: 1 });
    const running = (await Promise.all([0, 1, 2, 3, 4, 5].map((u) => job(u)))).map((j) => pool.run(j));
    const closing = pool.close();
    const results = await Promise.all(running);
    await closing;
    results.forEach((r, u) => expect(Buffer.from(r.bytes).equals(block(u))).toBe(true));
    await expect(pool.run(await job(0))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('an abort does not stop a job once posted (its worker may be inside liblzma); an aborted signal stops the next', async () => {
    const pool = new WorkerPool({ size: 1 });
    try {
      const controller = new AbortController();
      const posted = [0, 1, 2].map(async (u) => pool.run(await job(u), controller.signal));
      await new Promise((resolve) => setTimeout(resolve, 0));
      controller.abort(new Error('stop'));
      const results = await Promise.allSettled(posted);
      // Posted before the abort: run to their end (the callers drop them); posted after: ABORTED.
      for (const [u, r] of results.entries()) {
        if (r.status === 'fulfilled') expect(Buffer.from(r.value.bytes).equals(block(u))).toBe(true);
        else expect(r.reason).toMatchObject({ code: 'ABORTED' });
      }
      await expect(pool.run(await job(3), controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
      // The worker is alive and well.
      expect(Buffer.from((await pool.run(await job(5))).bytes).equals(block(5))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies with two jobs on it fails them with WORKER_ERROR (no hang, no wrong bytes); the next job runs', async () => {
    const flag = join(tmp.dir, 'crash-now');
    const saved = process.env.SEEKDATA_CRASH_FLAG;
    process.env.SEEKDATA_CRASH_FLAG = flag;
    const pool = new WorkerPool({ size: 1, filename: new URL('./support/crashing-worker.ts', import.meta.url).href });
    if (saved === undefined) delete process.env.SEEKDATA_CRASH_FLAG;
    else process.env.SEEKDATA_CRASH_FLAG = saved;
    try {
      // Warm: the worker is up (and its decoders prepared) before the crash.
      expect(Buffer.from((await pool.run(await job(0))).bytes).equals(block(0))).toBe(true);
      writeFileSync(flag, '');
      const line = new TextEncoder().encode('2024-05-01T00:00:00Z,1.5\n');
      const spec = { kind: 'csv' as const, delimiter: 0x2c, file: 'f', features: [{ column: 1, path: [], name: 'a', vocab: undefined, fill: 0, shift: 0, scale: 1 }], labels: [], labelType: 'float32' as const, oneHot: 0, missing: 'fill' as const, malformed: 'error' as const };
      const parse = (): WorkerJob => ({ input: { kind: 'bytes', bytes: line.slice() }, step: { name: 'parse', args: { spans: Uint32Array.of(0, line.length - 1), records: Float64Array.of(0), spec, tail: new Uint8Array(0) } }, keepBytes: false });
      const [first, second] = await Promise.allSettled([pool.run(parse()), pool.run(await job(2))]);
      expect(existsSync(flag)).toBe(false);
      expect(first.status === 'rejected' && first.reason).toMatchObject({ code: 'WORKER_ERROR' });
      // The job queued behind it on the same worker: failed with it, or run again elsewhere — never wrong.
      if (second.status === 'fulfilled') expect(Buffer.from(second.value.bytes).equals(block(2))).toBe(true);
      else expect(second.reason).toMatchObject({ code: 'WORKER_ERROR' });
      expect(Buffer.from((await pool.run(await job(3))).bytes).equals(block(3))).toBe(true);
    } finally {
      await pool.close();
    }
  });
});

describe('scan lookahead', () => {
  it('four chunks per worker, fewer for big chunks (at most LOOKAHEAD_BYTES in flight), never fewer than two per worker', () => {
    expect(scanLookahead(1)).toBe(2);
    expect(scanLookahead(1, 1 << 30)).toBe(2);
    expect(scanLookahead(2)).toBe(8);
    expect(scanLookahead(2, 1 << 20)).toBe(8);
    expect(scanLookahead(2, 48 << 20)).toBe(5);
    expect(scanLookahead(2, 64 << 20)).toBe(4);
    expect(scanLookahead(2, LOOKAHEAD_BYTES)).toBe(4);
    expect(scanLookahead(8, 1 << 20)).toBe(32);
  });
});
