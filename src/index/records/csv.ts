/**
 * What a CSV field's value is: the one definition shared by the index (statistics, categories,
 * timestamps, header names) and the parsers (datasets, Arrow export), so the two cannot disagree.
 *
 * A record is the text up to a newline outside quotes (analyze.ts `forEachTerminator`). Within it, with
 * `quoting: 'rfc4180'` (the default), every `"` toggles "inside quotes", exactly as the record scan
 * counts them, and:
 * - fields are split at each delimiter outside quotes;
 * - inside quotes, `""` is one literal `"`; other quote characters only open or close, and are not part
 *   of the value;
 * - blanks (space, tab) are part of the value when they are inside quotes or between two parts of the
 *   value; blanks at the start or the end of the field outside quotes are not.
 * So `a, b` has the values `a` and `b`; ` "x ""y"" " ` is `x "y" `; `"ab"cd` is `abcd`; `""` is the
 * empty value. With `quoting: 'none'` a `"` is an ordinary byte: fields are split at every delimiter and
 * each value is the field without its surrounding blanks.
 * Numbers, missing tokens (numbers.ts) and categories are all read from that value.
 *
 * Splitting gives each field's value as a byte range plus a flag: 0 when the value is exactly the bytes
 * of the range (most fields: unquoted ones, trimmed, and quoted ones without `""`, between the quotes),
 * 1 when the range is the raw field and its value must be decoded (`decodeField`).
 */
import { isSpace, text } from './numbers.js';

export const QUOTE = 0x22;

/** How quote characters are read: RFC 4180 quoting, or not at all. */
export type Quoting = 'rfc4180' | 'none';
export const QUOTINGS: readonly Quoting[] = ['rfc4180', 'none'];

/**
 * Splits the record in bytes[start, end) into at most `maxFields` fields: writes each value's byte
 * range into `bounds` (pairs) and its flag into `flags` (see above); returns the number of fields.
 */
export function splitFields(
  bytes: Uint8Array,
  start: number,
  end: number,
  delimiter: number,
  bounds: Int32Array,
  flags: Uint8Array,
  maxFields: number,
  quoting: Quoting = 'rfc4180',
): number {
  // An impossible byte value when quotes are ordinary bytes: the loops below never meet it.
  const quote = quoting === 'none' ? -1 : QUOTE;
  let n = 0;
  let i = start;
  while (n < maxFields) {
    let a = i;
    // Blanks, but never the delimiter itself (a tab or a space can be one: `a\t\tb` has an empty field).
    while (a < end && isSpace(bytes[a]) && bytes[a] !== delimiter) a++;
    let j = a;
    let flag = 0;
    let valueStart = a;
    let valueEnd: number;
    if (j < end && bytes[j] === quote) {
      // Quoted: find the closing quote, stepping over doubled ones.
      j++;
      let escapes = false;
      for (;;) {
        while (j < end && bytes[j] !== quote) j++;
        if (j + 1 < end && bytes[j + 1] === quote) {
          escapes = true;
          j += 2;
          continue;
        }
        break;
      }
      if (j >= end) {
        // Never closed within the record: the rest of the record is inside quotes.
        flag = 1;
        valueEnd = end;
        j = end;
      } else {
        const close = j;
        j++;
        while (j < end && isSpace(bytes[j]) && bytes[j] !== delimiter) j++;
        if (j >= end || bytes[j] === delimiter) {
          valueStart = escapes ? a : a + 1;
          valueEnd = escapes ? close + 1 : close;
          flag = escapes ? 1 : 0;
        } else {
          // More after the closing quote ("ab"cd): the general decoding, from the field's end.
          j = fieldEnd(bytes, j, end, delimiter, quote);
          valueEnd = j;
          flag = 1;
        }
      }
    } else {
      while (j < end && bytes[j] !== delimiter && bytes[j] !== quote) j++;
      if (j < end && bytes[j] === quote) {
        // A quote inside an unquoted field toggles quoting too (as the record scan counts it).
        j = fieldEnd(bytes, j, end, delimiter, quote);
        valueEnd = j;
        flag = 1;
      } else {
        valueEnd = j;
        while (valueEnd > a && isSpace(bytes[valueEnd - 1])) valueEnd--;
      }
    }
    bounds[2 * n] = valueStart;
    bounds[2 * n + 1] = valueEnd;
    flags[n] = flag;
    n++;
    if (j >= end) return n;
    i = j + 1;
  }
  return n;
}

/** The end of a field (its delimiter outside quotes, or `end`), from `j` outside quotes. */
function fieldEnd(bytes: Uint8Array, j: number, end: number, delimiter: number, quote: number): number {
  let inside = false;
  for (; j < end; j++) {
    const b = bytes[j];
    if (b === quote) inside = !inside;
    else if (b === delimiter && !inside) return j;
  }
  return end;
}

/**
 * The value of a raw field (bytes[a, b), between its delimiters, blanks around it allowed), decoded by
 * the rules above, as bytes.
 */
export function decodeFieldBytes(bytes: Uint8Array, a: number, b: number): Uint8Array {
  const out = new Uint8Array(b - a);
  let n = 0;
  // Length of `out` up to its last byte that is not a blank outside quotes (trailing blanks are cut).
  let keep = 0;
  let inside = false;
  let started = false;
  for (let i = a; i < b; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      if (inside && i + 1 < b && bytes[i + 1] === QUOTE) {
        out[n++] = QUOTE;
        keep = n;
        i++;
      } else {
        inside = !inside;
        started = true;
      }
    } else if (!inside && isSpace(c)) {
      if (started) out[n++] = c;
    } else {
      out[n++] = c;
      keep = n;
      started = true;
    }
  }
  return out.subarray(0, keep);
}

/** The value of field k as split by `splitFields`, as a string. */
export function fieldText(bytes: Uint8Array, bounds: Int32Array, flags: Uint8Array, k: number): string {
  const a = bounds[2 * k];
  const b = bounds[2 * k + 1];
  return flags[k] === 0 ? text(bytes, a, b) : text(decodeFieldBytes(bytes, a, b));
}

/** Splits a whole record into its values (header lines, the Arrow export, CLI output). */
export function splitRecord(bytes: Uint8Array, delimiter: number, quoting: Quoting = 'rfc4180'): string[] {
  const max = bytes.length + 1;
  const bounds = new Int32Array(2 * max);
  const flags = new Uint8Array(max);
  const n = splitFields(bytes, 0, bytes.length, delimiter, bounds, flags, max, quoting);
  const out: string[] = [];
  for (let k = 0; k < n; k++) out.push(fieldText(bytes, bounds, flags, k));
  return out;
}
