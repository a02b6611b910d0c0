/**
 * A CSV column whose few distinct values are longer than 64 KiB keeps them as categories in its statistics;
 * the index written for it must load again (it was refused as "invalid statistics" and rebuilt on every open).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

describe('a category value over 64 KiB', () => {
  it('is saved and loaded back, not refused as a corrupt index', async () => {
    const long = 'L'.repeat(70_000);
    const lines = ['a,note'];
    for (let i = 0; i < 50; i++) lines.push(`${i},${i % 2 === 0 ? long : 'short'}`);
    const path = writeFixture(tmp.sub(), 'long.csv', Buffer.from(lines.join('\n') + '\n'));
    const built = await openIndexed(path, { records: 'csv', parallelism: 1 });
    const stored = built.stats.find((s) => s.name === 'note')?.categories;
    await built.close();
    expect(stored?.map((c) => [c.value.length, c.count]).sort()).toEqual([
      [5, 25],
      [70_000, 25],
    ]);
    const loaded = await openIndexed(path, { records: 'csv', parallelism: 1, ifStale: 'error' });
    try {
      expect(loaded.report.status).toBe('loaded');
      expect(loaded.stats.find((s) => s.name === 'note')?.categories).toEqual(stored);
      expect(Buffer.from(await loaded.records.get(48)).toString()).toBe(`48,${long}`);
    } finally {
      await loaded.close();
    }
  });
});
