/**
 * A .bz2 file that starts with an empty stream (`cat empty.bz2 data.bz2`): its first block, which holds the
 * CSV header, is not at bit 32. The indexing pass read the header from no bytes and took it for record 0,
 * and the loaded index was then refused ("record 0 starts at 0") and rebuilt. Checked against the plain text.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { bzip2, tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const lines = ['a,b'];
for (let i = 0; i < 2000; i++) lines.push(`${i},${(i * 7) % 50}`);
const csv = Buffer.from(lines.join('\n') + '\n');

describe('a .bz2 file starting with empty streams', () => {
  it.each([1, 2])('%i empty stream(s) first: the header is the header, fresh and loaded', async (empties) => {
    const bytes = Buffer.concat([...Array.from({ length: empties }, () => bzip2(new Uint8Array(0))), bzip2(csv, 1)]);
    const path = writeFixture(tmp.sub(), 'e.csv.bz2', bytes);
    for (const expected of ['built', 'loaded']) {
      const file = await openIndexed(path, { records: 'csv', parallelism: 2, ifStale: 'error' });
      try {
        expect(file.report.status).toBe(expected);
        expect(file.columns).toEqual(['a', 'b']);
        expect(file.records.count).toBe(2000);
        const all = await file.records.slice(0, file.records.count);
        expect(all.map((r) => Buffer.from(r).toString())).toEqual(lines.slice(1));
      } finally {
        await file.close();
      }
    }
  });
});
