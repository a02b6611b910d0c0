/**
 * Statistics that are not finite (a value like `1e999` reads as Infinity) survive the index file: the
 * metadata is JSON, which has no ±Infinity or NaN, so a loaded index once reported `null` where the freshly
 * built one reported Infinity. Built and loaded indexes must describe the column alike.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

describe('non-finite column statistics', () => {
  it('are the same after the index is loaded from disk as when it was built', async () => {
    const lines = ['up,down,both,plain'];
    for (let i = 0; i < 200; i++) lines.push(`${i === 7 ? '1e999' : i},${i === 9 ? '-1e999' : i},${i === 3 ? '1e999' : i === 4 ? '-1e999' : i},${i}`);
    const path = writeFixture(tmp.dir, 'inf.csv.bz2', bzip2(Buffer.from(lines.join('\n') + '\n'), 1));
    const built = await openIndexed(path, { records: 'csv', parallelism: 1 });
    expect(built.report.status).toBe('built');
    const fresh = built.stats;
    await built.close();
    expect(fresh.find((s) => s.name === 'up')?.max).toBe(Infinity);
    expect(fresh.find((s) => s.name === 'down')?.min).toBe(-Infinity);
    expect(Number.isNaN(fresh.find((s) => s.name === 'both')?.mean)).toBe(true);
    const loaded = await openIndexed(path, { records: 'csv', parallelism: 1 });
    try {
      expect(loaded.report.status).toBe('loaded');
      expect(loaded.stats).toEqual(fresh);
    } finally {
      await loaded.close();
    }
  });
});
