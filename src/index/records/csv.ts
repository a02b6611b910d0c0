/** RFC 4180 field splitting over bytes: quoted fields may hold delimiters, newlines and doubled quotes. */
import { text } from './numbers.js';

export const QUOTE = 0x22;

/**
 * Writes the [start, end) byte bounds of each field of the record in bytes[start, end) into `bounds`
 * (pairs), returns the number of fields. Quoted fields' bounds exclude the quotes; a field containing
 * doubled quotes is flagged in `escaped` so callers unescape it when they need its text.
 */
export function splitFields(
  bytes: Uint8Array,
  start: number,
  end: number,
  delimiter: number,
  bounds: Int32Array,
  escaped: Uint8Array,
  maxFields: number,
): number {
  let n = 0;
  let i = start;
  while (n < maxFields) {
    if (i < end && bytes[i] === QUOTE) {
      let j = i + 1;
      let hasEscapes = 0;
      for (;;) {
        if (j >= end) break;
        if (bytes[j] === QUOTE) {
          if (j + 1 < end && bytes[j + 1] === QUOTE) {
            hasEscapes = 1;
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      bounds[2 * n] = i + 1;
      bounds[2 * n + 1] = Math.min(j, end);
      escaped[n] = hasEscapes;
      n++;
      // Skip to the delimiter after the closing quote (anything between is tolerated and dropped).
      let k = j + 1;
      while (k < end && bytes[k] !== delimiter) k++;
      if (k >= end) return n;
      i = k + 1;
    } else {
      let j = i;
      while (j < end && bytes[j] !== delimiter) j++;
      bounds[2 * n] = i;
      bounds[2 * n + 1] = j;
      escaped[n] = 0;
      n++;
      if (j >= end) return n;
      i = j + 1;
    }
  }
  return n;
}

/** The text of field k as split by `splitFields`, with doubled quotes undone. */
export function fieldText(bytes: Uint8Array, bounds: Int32Array, escaped: Uint8Array, k: number): string {
  const s = text(bytes, bounds[2 * k], bounds[2 * k + 1]);
  return escaped[k] === 1 ? s.replace(/""/g, '"') : s;
}

/** Splits a whole record into strings (header lines, CLI output). */
export function splitRecord(bytes: Uint8Array, delimiter: number): string[] {
  const max = bytes.length + 1;
  const bounds = new Int32Array(2 * max);
  const escaped = new Uint8Array(max);
  const n = splitFields(bytes, 0, bytes.length, delimiter, bounds, escaped, max);
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(fieldText(bytes, bounds, escaped, k));
  return out;
}
