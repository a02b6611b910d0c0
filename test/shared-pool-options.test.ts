/**
 * configureSharedPool takes WorkerPool's options (README, the `pool` row of openReader's options): each of
 * them applies to the shared pool created next, none is accepted and then ignored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeSharedPool, configureSharedPool } from '../src/index.js';
import { sharedPool, WorkerPool } from '../src/workers/pool.js';

afterEach(async () => {
  await closeSharedPool();
  configureSharedPool({});
});

describe('configureSharedPool', () => {
  it('passes filename (and size) to the shared pool it creates next', async () => {
    await closeSharedPool();
    configureSharedPool({ size: 1, filename: new URL('./support/refusing-worker.ts', import.meta.url).href });
    const pool = sharedPool();
    expect(pool.size).toBe(1);
    await expect(pool.run({ input: { kind: 'bytes', bytes: new Uint8Array([1, 2, 3]) } })).rejects.toThrow(/refusing-worker ran this job/);
  });

  it('without options, the shared pool runs seekdata’s own worker', async () => {
    await closeSharedPool();
    configureSharedPool({ size: 1 });
    const result = await sharedPool().run({ input: { kind: 'bytes', bytes: new Uint8Array([1, 2, 3]) } });
    expect(Array.from(result.bytes)).toEqual([1, 2, 3]);
  });
});

describe('closing a pool with a job in flight', () => {
  it('waits for the job, and says so (SEEKDATA_CLOSE_WAITING) once the wait is long', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const pool = new WorkerPool({ size: 1, filename: new URL('./support/slow-worker.ts', import.meta.url).href });
      const job = pool.run({ input: { kind: 'bytes', bytes: new Uint8Array([1]) }, step: { name: 'parse', args: {} } });
      job.catch(() => undefined);
      // Let the job reach its worker before the close begins.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = performance.now();
      await pool.close({ warnAfterMs: 100 });
      // The close waited for the job rather than cutting it.
      await expect(job).rejects.toThrow(/slow-worker ran this job/);
      expect(performance.now() - started).toBeGreaterThan(500);
      await new Promise((resolve) => setImmediate(resolve));
      const said = warnings.filter((w) => (w as Error & { code?: string }).code === 'SEEKDATA_CLOSE_WAITING');
      expect(said).toHaveLength(1);
      expect(said[0].name).toBe('SeekdataWarning');
      expect(said[0].message).toMatch(/^closing the worker pool: waiting for 1 parse job still running after 0\.\d s .*map\.timeoutMs/);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a close with nothing in flight says nothing', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const pool = new WorkerPool({ size: 1 });
      await pool.run({ input: { kind: 'bytes', bytes: new Uint8Array([1]) } });
      await pool.close({ warnAfterMs: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(warnings.filter((w) => (w as Error & { code?: string }).code === 'SEEKDATA_CLOSE_WAITING')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
