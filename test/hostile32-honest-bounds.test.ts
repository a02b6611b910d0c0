/**
 * Honest files whose shapes sit on the edges of the loaded index's record-bound checks (a record must start
 * after a `\n` and end with one or at the file's end; a record at a chunk's very start is checked against
 * the previous chunk's last byte): a byte-order mark, CRLF, blank lines, no final newline, trailing blank
 * lines, quoted fields with newlines, and gzip members of whole lines (every chunk begins exactly at a line,
 * some inside a quoted field), alone and as a collection. Read from the reloaded index through every path,
 * each value compared with the truth: none may be CORRUPT_INDEX.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { closeSharedPool, openCollection, openIndexed, sampleBatches, ShuffledBatchDataset, type Indexed } from '../src/index.js';
import { chunksBeginningAtRecords } from './support/dataset-fixture.js';
import { tempDir, writeFixture } from './support/fixtures.js';

const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

/** CSV text with its truth (column b of each record), in one of two shapes. */
function shaped(n: number, last: 'no newline' | 'blank lines'): { text: Buffer; b: number[] } {
  const parts = ['\ufefftime,b,note\r\n'];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    b.push((i * 7) % 50);
    const note = i % 3 === 0 ? `"two\r\nlines ${i}"` : `n${i}`;
    parts.push(`${i},${b[i]},${note}`);
    if (i < n - 1 || last === 'blank lines') parts.push('\r\n');
    if (i % 5 === 0 && i < n - 1) parts.push('\r\n');
  }
  if (last === 'blank lines') parts.push('\r\n\n\r\n');
  return { text: Buffer.from(parts.join('')), b };
}

/** gzip members of `every` whole lines each (a line of a quoted field counts: some members start inside one). */
function members(text: Buffer, every: number): Buffer {
  const out: Buffer[] = [];
  let start = 0;
  let lines = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === 0x0a && ++lines % every === 0) {
      out.push(gzipSync(text.subarray(start, i + 1)));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(gzipSync(text.subarray(start)));
  return Buffer.concat(out);
}

const OPTIONS = { records: 'csv', gzipSpacingBytes: 64 << 10 } as const;
const b = (record: Uint8Array): number => Number(Buffer.from(record).toString().split(',')[1]);

async function everyPath(file: Indexed, truth: number[]): Promise<void> {
  const n = truth.length;
  expect(file.records.count).toBe(n);
  for (let i = 0; i < n; i += 13) expect(b(await file.records.get(i)), `get ${i}`).toBe(truth[i]);
  expect(b(await file.records.get(n - 1))).toBe(truth[n - 1]);
  const order = Array.from({ length: n }, (_, i) => n - 1 - i);
  expect((await file.records.getMany(order)).map(b)).toEqual(order.map((i) => truth[i]));
  expect((await file.records.slice(0, n)).map(b)).toEqual(truth);
  for (const shuffle of [false, 'chunked', 'exact'] as const) {
    const seen = new Array<number>(n).fill(-1);
    for await (const batch of new ShuffledBatchDataset(file, { features: ['b'], batchSize: 64, shuffle, seed: 5 })) {
      for (let i = 0; i < batch.size; i++) seen[batch.records[i]] = batch.xs[i];
    }
    expect(seen, `ShuffledBatchDataset shuffle ${String(shuffle)}`).toEqual(truth);
  }
  const sampled = new Array<number>(n).fill(-1);
  for await (const batch of sampleBatches(file, { batchSize: 64, seed: 2 })) batch.numbers.forEach((r, k) => (sampled[r] = b(batch.records[k])));
  expect(sampled, 'sampleBatches').toEqual(truth);
}

describe('honest files at the edges of the record-bound checks, read from their loaded index', () => {
  const files = (['no newline', 'blank lines'] as const).map((last, k) => {
    const { text, b: truth } = shaped(24_000, last);
    return { path: writeFixture(tmp.sub(), `f${k}.csv.gz`, members(text, 7)), truth };
  });

  it.each([0, 1])('file %i, parallelism 1 and 2', async (k) => {
    const { path, truth } = files[k];
    await (await openIndexed(path, OPTIONS)).close();
    for (const parallelism of [1, 2]) {
      const file = await openIndexed(path, { ...OPTIONS, parallelism, ifStale: 'error' });
      try {
        expect(file.report.status).toBe('loaded');
        // Chunks (runs of members of about 64 KiB) begin exactly at line starts, most at a record.
        expect(chunksBeginningAtRecords(file)).toBeGreaterThan(1);
        await everyPath(file, truth);
      } finally {
        await file.close();
      }
    }
  });

  it('both as a collection', async () => {
    for (const { path } of files) await (await openIndexed(path, OPTIONS)).close();
    const collection = await openCollection(
      files.map((f) => f.path),
      { ...OPTIONS, ifStale: 'error' },
    );
    try {
      await everyPath(collection, [...files[0].truth, ...files[1].truth]);
    } finally {
      await collection.close();
    }
  });
});
