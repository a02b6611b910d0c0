/**
 * A column whose vocabulary overflowed in one chunk of an indexing pass is not collected again in the
 * later chunks of the same pass (the merged result is null either way): per chunk, only with the same
 * `pass`; per file, the categories equal a count made here from the text, with both CSV scanners.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { analyzeChunk } from '../src/index/records/analyze.js';
import { resetCsvScanner } from '../src/index/records/csv-wasm/load.js';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';

const { dir, cleanup } = tempDir('seekdata-vocab-pass-');
afterAll(async () => {
  cleanup();
  await closeSharedPool();
});
afterEach(() => {
  delete process.env.SEEKDATA_CSV_SCANNER;
  resetCsvScanner();
});

const enc = new TextEncoder();
/** A chunk of CSV records "id,cat,x" (no header): ids distinct per record, cat one of four letters. */
function chunk(from: number, rows: number): Uint8Array {
  let s = '\n';
  for (let i = from; i < from + rows; i++) s += `id${i},${'abcd'[i % 4]},${i % 10}\n`;
  return enc.encode(s);
}
const spec = (pass: number | undefined) => ({ kind: 'csv' as const, delimiter: 44, begin: 0, inQuote: false, statColumns: 3, maxBad: 5, pass });

describe.each(['wasm', 'js'])('vocabularies across the chunks of a pass (%s scanner)', (scanner) => {
  it('a column that overflowed in an earlier chunk of the same pass is dropped at once; other passes collect it', () => {
    process.env.SEEKDATA_CSV_SCANNER = scanner;
    resetCsvScanner();
    // 2,000 distinct ids: the id column overflows in this chunk.
    const big = analyzeChunk(chunk(0, 2000), spec(101));
    expect(big.vocab?.[0]).toBeNull();
    expect(big.vocab?.[1]?.length).toBe(4);
    // A small chunk of the same pass: its 10 ids are not collected (null), the categories are.
    const same = analyzeChunk(chunk(5000, 10), spec(101));
    expect(same.vocab?.[0]).toBeNull();
    expect(new Map(same.vocab?.[1] ?? [])).toEqual(new Map([['a', 3], ['b', 3], ['c', 2], ['d', 2]])); // records 5000-5009: i % 4
    // The statistics count the text values all the same.
    const alone = analyzeChunk(chunk(5000, 10), spec(undefined));
    expect(Array.from(same.stats ?? [])).toEqual(Array.from(alone.stats ?? []));
    expect(same.starts).toEqual(alone.starts);
    // Without a pass, or in another pass, the chunk stands alone.
    expect(alone.vocab?.[0]?.length).toBe(10);
    expect(analyzeChunk(chunk(5000, 10), spec(102)).vocab?.[0]?.length).toBe(10);
  });

  it('a whole file: categories equal a count of the text (ids overflow in some chunks only, categories never)', async () => {
    process.env.SEEKDATA_CSV_SCANNER = scanner;
    resetCsvScanner();
    let s = 'id,cat,x\n';
    const cats = new Map<string, number>();
    for (let i = 0; i < 120_000; i++) {
      // Ids repeat (few distinct) except in one stretch in the middle, where 3,000 distinct ones overflow.
      const id = i >= 60_000 && i < 63_000 ? `u${i}` : `r${i % 7}`;
      const cat = ['north', 'south', 'east', 'west', 'up'][(i * 7) % 5];
      cats.set(cat, (cats.get(cat) ?? 0) + 1);
      s += `${id},${cat},${i % 13}\n`;
    }
    const file = writeFixture(dir, `file-${scanner}.csv.xz`, xz(Buffer.from(s), '--block-size=65536'));
    const f = await openIndexed(file, { records: 'csv', timeColumn: null, index: false, parallelism: 2 });
    try {
      expect(f.reader.layout.count).toBeGreaterThan(10);
      expect(f.stats[0].categories).toBeNull();
      const got = new Map((f.stats[1].categories ?? []).map((e) => [e.value, e.count]));
      expect(got).toEqual(cats);
    } finally {
      await f.close();
    }
  });
});
