/**
 * Honest files whose shapes sit on the edges of the loaded index's record-bound checks (a record must start
 * after a `\n` and end with one or at the file's end, and hold one record: no record-ending newline before
 * its last line but those of blank lines after it; a record at a chunk's very start is checked against the
 * previous chunk's last byte): a byte-order mark, CRLF, blank lines, no final newline, trailing blank lines,
 * a last blank line without a newline, quoted fields with CRLF and LF newlines, a quote that is an ordinary
 * byte (quoting 'none'), `header: false`, JSONL with blank lines of blanks, `records: 'lines'`, and gzip
 * members of whole lines (every chunk begins exactly at a line, some inside a quoted field), alone and as a
 * collection. Read from the reloaded index through every path (the Arrow export's too), each value compared
 * with the truth: none may be CORRUPT_INDEX.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { closeSharedPool, openCollection, openIndexed, recordsToArrow, sampleBatches, ShuffledBatchDataset, type Indexed, type IndexedOptions } from '../src/index.js';
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

/**
 * Text of `n` records in a shape beyond `shaped`'s, each with a value b (`truth`), and how to read it:
 * - `jsonl`: lines of blanks (spaces, tabs, a CR) between records, and a last one without a newline;
 * - `lines`: every line a record (blank ones too), no final newline;
 * - `headless`: CSV without a header, quoted fields with LF newlines, blank lines, a last lone CR;
 * - `none`: CSV read with quoting 'none', an odd number of quotes on many lines (ordinary bytes).
 */
function other(kind: 'jsonl' | 'lines' | 'headless' | 'none', n: number): { text: Buffer; b: number[]; options: IndexedOptions; shape: Shape } {
  const parts: string[] = [];
  const b: number[] = [];
  if (kind === 'none') parts.push('time,b,note\n');
  for (let i = 0; i < n; i++) {
    b.push((i * 11) % 60);
    if (kind === 'jsonl') parts.push(`{"time": ${i}, "b": ${b[i]}}\n${i % 4 === 0 ? ' \t\r\n\n' : ''}`);
    else if (kind === 'lines') parts.push(`${i},${b[i]}${i % 6 === 0 ? ' x' : ''}${i < n - 1 ? '\n' : ''}`);
    else if (kind === 'headless') parts.push(`${i},${b[i]},${i % 3 === 0 ? `"a\nb ""${i}""\n"` : 'plain'}\n${i % 5 === 0 ? '\n' : ''}`);
    else parts.push(`${i},${b[i]},${i % 2 === 0 ? `say "${i}` : `"${i}"`}\n`);
  }
  if (kind === 'jsonl') parts.push('  ');
  if (kind === 'headless') parts.push('\r');
  const options: IndexedOptions =
    kind === 'jsonl' ? { records: 'jsonl' } : kind === 'lines' ? { records: 'lines' } : kind === 'headless' ? { records: 'csv', header: false } : { records: 'csv', quoting: 'none' };
  const shape: Shape =
    kind === 'jsonl'
      ? { feature: 'b', b: (r) => (JSON.parse(Buffer.from(r).toString()) as { b: number }).b }
      : kind === 'lines'
        ? { feature: undefined, b: (r) => Number(Buffer.from(r).toString().split(',')[1].split(' ')[0]) }
        : { feature: kind === 'headless' ? '1' : 'b', b: (r) => Number(Buffer.from(r).toString().split(',')[1]) };
  return { text: Buffer.from(parts.join('')), b, options: { ...options, gzipSpacingBytes: 64 << 10 }, shape };
}

const OPTIONS = { records: 'csv', gzipSpacingBytes: 64 << 10 } as const;

/** How a shape's records are read: the dataset feature that is b (undefined: no datasets, records: 'lines'), and b of a record's bytes. */
interface Shape {
  feature: string | undefined;
  b: (record: Uint8Array) => number;
}
const CSV: Shape = { feature: 'b', b: (record) => Number(Buffer.from(record).toString().split(',')[1]) };

async function everyPath(file: Indexed, truth: number[], { feature, b }: Shape = CSV): Promise<void> {
  const n = truth.length;
  expect(file.records.count).toBe(n);
  for (let i = 0; i < n; i += 13) expect(b(await file.records.get(i)), `get ${i}`).toBe(truth[i]);
  expect(b(await file.records.get(n - 1))).toBe(truth[n - 1]);
  const order = Array.from({ length: n }, (_, i) => n - 1 - i);
  expect((await file.records.getMany(order)).map(b)).toEqual(order.map((i) => truth[i]));
  expect((await file.records.slice(0, n)).map(b)).toEqual(truth);
  if (feature === undefined) return void (await sampled(file, truth, b));
  for (const shuffle of [false, 'chunked', 'exact'] as const) {
    const seen = new Array<number>(n).fill(-1);
    for await (const batch of new ShuffledBatchDataset(file, { features: [feature], batchSize: 64, shuffle, seed: 5 })) {
      for (let i = 0; i < batch.size; i++) seen[batch.records[i]] = batch.xs[i];
    }
    expect(seen, `ShuffledBatchDataset shuffle ${String(shuffle)}`).toEqual(truth);
  }
  // The Arrow export: a run of records (one stream cut by the index) and chosen ones (getMany).
  const column = async (numbers: number[]): Promise<number[]> => Array.from((await recordsToArrow(file, numbers, { columns: [feature] })).getChild(feature)?.toArray() ?? [], Number);
  const all = Array.from({ length: n }, (_, i) => i);
  expect(await column(all), 'recordsToArrow, all').toEqual(truth);
  const some = all.filter((i) => i % 7 === 3).reverse();
  expect(await column(some), 'recordsToArrow, chosen').toEqual(some.map((i) => truth[i]));
  await sampled(file, truth, b);
}

async function sampled(file: Indexed, truth: number[], b: (record: Uint8Array) => number): Promise<void> {
  const seen = new Array<number>(truth.length).fill(-1);
  for await (const batch of sampleBatches(file, { batchSize: 64, seed: 2 })) batch.numbers.forEach((r, k) => (seen[r] = b(batch.records[k])));
  expect(seen, 'sampleBatches').toEqual(truth);
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

  it.each(['jsonl', 'lines', 'headless', 'none'] as const)('%s, parallelism 2', async (kind) => {
    const { text, b: truth, options, shape } = other(kind, 40_000);
    const path = writeFixture(tmp.sub(), `${kind}.gz`, members(text, 7));
    await (await openIndexed(path, options)).close();
    const file = await openIndexed(path, { ...options, parallelism: 2, ifStale: 'error' });
    try {
      expect(file.report.status).toBe('loaded');
      expect(file.reader.layout.count).toBeGreaterThan(2);
      expect(chunksBeginningAtRecords(file)).toBeGreaterThan(0);
      await everyPath(file, truth, shape);
    } finally {
      await file.close();
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
