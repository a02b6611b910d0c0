/**
 * configureSharedPool takes WorkerPool's options (README, the `pool` row of openReader's options): each of
 * them applies to the shared pool created next, none is accepted and then ignored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeSharedPool, configureSharedPool } from '../src/index.js';
import { sharedPool } from '../src/workers/pool.js';

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
