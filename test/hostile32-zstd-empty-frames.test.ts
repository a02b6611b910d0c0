/**
 * zstd files with empty frames (`cat empty.zst a.zst empty.zst b.zst`): the chunk map leaves frames that hold
 * no byte out, and the check of a loaded chunk map refused them as frames "missing from the chunk map", so
 * the saved index of such a file never loaded (rebuilt on every open, or an error under ifStale: 'error').
 * A frame with bytes left out of a crafted chunk map is still refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { closeSharedPool, isSeekdataError, openIndexed } from '../src/index.js';
import { run, tempDir, writeFixture } from './support/fixtures.js';
import { entry, rechecksum } from './support/sdx.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const zstd = (data: Uint8Array, ...args: string[]): Buffer => run('zstd', ['-c', '-q', ...args], data);
const lines = ['a,b'];
for (let i = 0; i < 3000; i++) lines.push(`${i},${(i * 7) % 50}`);
const csv = Buffer.from(lines.join('\n') + '\n');
const half = csv.indexOf('\n1500,') + 1;
const empty = new Uint8Array(0);

describe('zstd empty frames', () => {
  it.each([
    ['first', () => [zstd(empty), zstd(csv)]],
    ['between and last, without checksum or size', () => [zstd(csv.subarray(0, half)), zstd(empty, '--no-check', '--no-content-size'), zstd(csv.subarray(half)), zstd(empty)]],
  ] as const)('%s: the saved index loads and reads every record', async (_, parts) => {
    const path = writeFixture(tmp.sub(), 'e.csv.zst', Buffer.concat(parts()));
    for (const expected of ['built', 'loaded']) {
      const file = await openIndexed(path, { records: 'csv', parallelism: 1, ifStale: 'error' });
      try {
        expect(file.report.status).toBe(expected);
        const all = await file.records.slice(0, file.records.count);
        expect(all.map((r) => Buffer.from(r).toString())).toEqual(lines.slice(1));
      } finally {
        await file.close();
      }
    }
  });

  it('a frame with bytes left out of a crafted chunk map is still CORRUPT_INDEX', async () => {
    const path = writeFixture(tmp.sub(), 'c.csv.zst', Buffer.concat([zstd(csv.subarray(0, half)), zstd(csv.subarray(half))]));
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const built = await openIndexed(path, { records: 'lines', parallelism: 1 });
    expect(built.reader.layout.count).toBe(2);
    await built.close();
    // The first frame's start moved onto the second's: the first frame is then left out.
    const bytes = new Uint8Array(readFileSync(`${path}.sdx`));
    const view = new DataView(bytes.buffer);
    const cStart = entry(bytes, 'units.cStart');
    view.setFloat64(cStart.offset, view.getFloat64(cStart.offset + 8, true) - 1, true);
    rechecksum(bytes);
    writeFileSync(`${path}.sdx`, bytes);
    const error = await openIndexed(path, { records: 'lines', parallelism: 1, ifStale: 'error' }).then(
      (f) => f.close(),
      (e: unknown) => e,
    );
    expect(isSeekdataError(error, 'CORRUPT_INDEX'), String(error)).toBe(true);
    expect(String(error)).toMatch(/missing from the chunk map|no zstd frame/);
  });
});
