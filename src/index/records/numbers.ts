/**
 * Number and text helpers over UTF-8 bytes, for the hot loops of record parsing: no string is created for
 * fields that are plain decimals.
 */

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const decoder = new TextDecoder();

/** Tokens that mean "no value" in a numeric column. */
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);

export function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09;
}

/** Parses bytes [start, end) as a JS number, or NaN when they are not one (surrounding blanks allowed). */
export function parseNumber(bytes: Uint8Array, start: number, end: number): number {
  while (start < end && isSpace(bytes[start])) start++;
  while (end > start && isSpace(bytes[end - 1])) end--;
  if (start === end) return NaN;
  let i = start;
  let negative = false;
  if (bytes[i] === 0x2d || bytes[i] === 0x2b) {
    negative = bytes[i] === 0x2d;
    i++;
  }
  // Fast path: up to 15 significant digits with a decimal point and no exponent, computed exactly as an
  // integer divided by a power of ten (both exact in a double, so the quotient is correctly rounded).
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let seenDot = false;
  let j = i;
  for (; j < end; j++) {
    const b = bytes[j];
    if (b >= 0x30 && b <= 0x39) {
      mantissa = mantissa * 10 + (b - 0x30);
      if (mantissa !== 0) digits++;
      if (seenDot) scale++;
    } else if (b === 0x2e && !seenDot) {
      seenDot = true;
    } else break;
  }
  if (j === end && j > i && !(seenDot && j === i + 1) && digits <= 15 && scale <= 22) {
    const value = scale === 0 ? mantissa : mantissa / POW10[scale];
    return negative ? -value : value;
  }
  // Only an exponent, many digits, or Infinity can still make a number: anything else is text, decided
  // without making a string (text columns meet this on every record).
  if (j < end) {
    const b = bytes[j];
    const exponent = (b === 0x65 || b === 0x45) && j > i;
    if (!exponent && !(j === i && b === 0x49)) return NaN;
  }
  const text = decoder.decode(bytes.subarray(start, end));
  // Number('') is 0 and Number('0x10') is 16: accept only decimal notation.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) && !/^[+-]?Infinity$/.test(text)) return NaN;
  return Number(text);
}

/** True when the field means "missing" (empty, NA, null, NaN ...). */
export function isMissing(bytes: Uint8Array, start: number, end: number): boolean {
  while (start < end && isSpace(bytes[start])) start++;
  while (end > start && isSpace(bytes[end - 1])) end--;
  if (start === end) return true;
  // Every missing token starts with N or n and is at most 4 bytes long.
  if (end - start > 4 || (bytes[start] !== 0x4e && bytes[start] !== 0x6e)) return false;
  return MISSING.has(decoder.decode(bytes.subarray(start, end)));
}

export function text(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return decoder.decode(bytes.subarray(start, end));
}
