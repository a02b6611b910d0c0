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

/** Runs `f` and gives the process warnings with code SEEKDATA_CLOSE_WAITING emitted meanwhile (and just after). */
async function closeWarnings(f: () => Promise<void>): Promise<Error[]> {
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    if ((warning as Error & { code?: string }).code === 'SEEKDATA_CLOSE_WAITING') warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    await f();
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

describe('closing a pool with a job in flight', () => {
  it('waits for the job, and says so (SEEKDATA_CLOSE_WAITING) once the wait is long', async () => {
    const pool = new WorkerPool({ size: 1, filename: new URL('./support/slow-worker.ts', import.meta.url).href });
    const job = pool.run({ input: { kind: 'bytes', bytes: new Uint8Array([1]) }, step: { name: 'parse', args: {} } });
    job.catch(() => undefined);
    let waited = 0;
    const said = await closeWarnings(async () => {
      // Let the job reach its worker before the close begins.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = performance.now();
      await pool.close({ warnAfterMs: 100 });
      waited = performance.now() - started;
    });
    // The close waited for the job rather than cutting it.
    await expect(job).rejects.toThrow(/slow-worker ran this job/);
    expect(waited).toBeGreaterThan(500);
    expect(said).toHaveLength(1);
    expect(said[0].name).toBe('SeekdataWarning');
    expect(said[0].message).toMatch(/^closing the worker pool: waiting for 1 parse job still running after 0\.\d s .*map\.timeoutMs/);
  });

  it('a close with nothing in flight says nothing', async () => {
    const pool = new WorkerPool({ size: 1 });
    await pool.run({ input: { kind: 'bytes', bytes: new Uint8Array([1]) } });
    expect(await closeWarnings(() => pool.close({ warnAfterMs: 1 }))).toEqual([]);
  });
});
