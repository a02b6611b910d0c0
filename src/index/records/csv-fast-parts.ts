/**
 * What the two scanners of the quote-free CSV fast path share (csv-fast.ts in JS, csv-wasm/analyze-wasm.ts
 * with the hot loop in WebAssembly): where the chunk's records lie, which fields they look at, and the rare
 * paths their hot loops leave to JS — text values, the general reading of exceptions, unparsable timestamps.
 * One code for both keeps their results the same, bit for bit.
 */
import type { AnalyzeSpec } from './analyze.js';
import { plainFieldNumber } from './field-stats.js';
import { isSpace, text } from './numbers.js';
import { addText } from './stats.js';
import type { VocabCollector } from './vocab.js';

const NL = 0x0a;

/** The chunk's first record-ending newline at or after `begin` and its last one (-1 and -1: none). */
export function chunkEnds(bytes: Uint8Array, begin: number): { first: number; last: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = buf.indexOf(NL, begin);
  return { first, last: first < 0 ? -1 : buf.lastIndexOf(NL) };
}

/**
 * The fields a scan looks at: the time column (-1: none), how many fields per record (`want`: the
 * statistics columns, or up to the time column), and per field 1 when its statistics are kept.
 */
export function scanFields(spec: AnalyzeSpec): { timeColumn: number; want: number; counted: Uint8Array } {
  const time = spec.time;
  const timeColumn = time !== undefined && typeof time.field === 'number' ? time.field : -1;
  const columns = spec.statColumns;
  const want = Math.max(columns, timeColumn + 1);
  const counted = new Uint8Array(want);
  for (let c = 0; c < columns; c++) counted[c] = spec.statMask === undefined || spec.statMask[c] === 1 ? 1 : 0;
  return { timeColumn, want, counted };
}

/**
 * A text value of column c, bytes[a, e) (its first byte no blank): counted, and added to the column's
 * vocabulary without its trailing blanks. Returns where it ends without them, or -1 when the vocabulary
 * was dropped (the value is only counted).
 */
export function countText(stats: Float64Array, vocab: VocabCollector, bytes: Uint8Array, c: number, a: number, e: number): number {
  addText(stats, c);
  if (vocab.dropped(c)) return -1;
  let z = e;
  while (isSpace(bytes[z - 1])) z--;
  vocab.add(c, bytes, a, z);
  return z;
}

/**
 * The general reading of a block's `n` exceptions (x: record of the block, column, value start and end, 4
 * numbers each), each value put in its place in the block's column buffer.
 */
export function readExceptions(stats: Float64Array, vocab: VocabCollector, bytes: Uint8Array, values: Float64Array, block: number, x: Int32Array, n: number): void {
  for (let k = 0, end = n * 4; k < end; k += 4) {
    const c = x[k + 1];
    values[c * block + x[k]] = plainFieldNumber(stats, vocab, c, bytes, x[k + 2], x[k + 3]);
  }
}

/** What an unparsable timestamp at bytes[a, b) is reported as (a < 0: the record has no time field). */
export function badTimeText(bytes: Uint8Array, a: number, b: number): string {
  return a < 0 ? '(no such field)' : text(bytes, a, b).trim().slice(0, 100);
}
