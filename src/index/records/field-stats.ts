/**
 * How one CSV value is counted in the column statistics, the one reading shared by the indexing pass's
 * record parser (record-parser.ts) and its quote-free fast path (csv-fast.ts): a number, a missing token,
 * or text (counted in the column's vocabulary).
 */
import { isMissing, isSpace, parseNumber } from './numbers.js';
import { addMissing, addText, addValue } from './stats.js';
import type { VocabCollector } from './vocab.js';

/** Counts one value (exactly bytes[a, b)) in column `c`'s statistics. */
export function countField(stats: Float64Array, vocab: VocabCollector, c: number, bytes: Uint8Array, a: number, b: number): void {
  const v = fieldNumber(stats, vocab, c, bytes, a, b);
  if (!Number.isNaN(v)) addValue(stats, c, v);
}

/**
 * The number a value (exactly bytes[a, b)) gives column `c`'s statistics, left for the caller to add; or
 * NaN after counting it here as missing or as text (in the column's vocabulary). No number read from a
 * field is NaN ("NaN" is a missing token), so NaN means "no value" to every caller.
 */
export function fieldNumber(stats: Float64Array, vocab: VocabCollector, c: number, bytes: Uint8Array, a: number, b: number): number {
  const v = parseNumber(bytes, a, b);
  if (!Number.isNaN(v)) return v;
  if (isMissing(bytes, a, b)) addMissing(stats, c);
  else {
    addText(stats, c);
    vocab.add(c, bytes, a, b);
  }
  return NaN;
}

/** Counts an unquoted field: its value is bytes[a, b) without the blanks around it. */
export function countPlainField(stats: Float64Array, vocab: VocabCollector, c: number, bytes: Uint8Array, a: number, b: number): void {
  const v = plainFieldNumber(stats, vocab, c, bytes, a, b);
  if (!Number.isNaN(v)) addValue(stats, c, v);
}

/** `fieldNumber` of an unquoted field: its value is bytes[a, b) without the blanks around it. */
export function plainFieldNumber(stats: Float64Array, vocab: VocabCollector, c: number, bytes: Uint8Array, a: number, b: number): number {
  while (a < b && isSpace(bytes[a])) a++;
  while (b > a && isSpace(bytes[b - 1])) b--;
  return fieldNumber(stats, vocab, c, bytes, a, b);
}
