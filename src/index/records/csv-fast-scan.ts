/**
 * The hot loop of the quote-free CSV fast path (csv-fast.ts), kept small on purpose: V8 compiles a small
 * function in a few milliseconds and has few places to deoptimize it, where the former one-pass function
 * (record loop, statistics, vocabularies, reports and result in one body) took the first three chunks of
 * every worker to settle. It finds each record's end and each field's end, reads plain decimals on the
 * fly into a per-block column buffer (one store per value: the statistics are added per column after the
 * block, stats.ts `addValues`), and parses the timestamp. Everything else leaves the loop: a value that is
 * no plain decimal becomes an exception (its record, column and bytes, read after the block by the
 * general reading of field-stats.ts, in time for its number to take its place in the column's order),
 * and blank lines, short records and unparsable timestamps call out to `FastScan`'s rare-path methods.
 */
import { IsoPrefixCache, parseTime, type ResolvedTimeFormat, type ZoneOffsets } from './time.js';

const NL = 0x0a;
const CR = 0x0d;
const MINUS = 0x2d;
const DOT = 0x2e;
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Bytes that stop the on-the-fly number reading and may still make a number or a missing token (an
 * exponent, Infinity, NA/null/None/NaN, a sign, blanks, a second dot, a carriage return): such a value
 * takes the general reading. Any other byte makes the value text.
 */
const GENERAL = new Uint8Array(256);
for (const c of 'eEINn+ \t.\r') GENERAL[c.charCodeAt(0)] = 1;

const TEXT_VALUE = 1;
const GENERAL_VALUE = 0;

const POW10_INT = Int32Array.of(1, 10, 100, 1000, 10000);

/**
 * How many of the 4 bytes of `w` (read little-endian: the first byte lowest) are digits before the first
 * byte that is not one (0..4). A byte b is a digit when its high nibble is 3 and b + 6 still has high nibble
 * 3; a carry out of a byte of w + 0x06060606 only changes the bytes above it, so the lowest non-digit byte is
 * found exactly.
 */
export function digitRun(w: number): number {
  const t = ((w & 0xf0f0f0f0) ^ 0x30303030) | (((w + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030);
  return t === 0 ? 4 : (31 - Math.clz32(t & -t)) >> 3;
}

/**
 * The number the first `k` bytes of `w` (digits, `digitRun`) spell, the first most significant: the digit
 * values moved to the top bytes (zeros below: leading zeros), then pairs and pairs of pairs combined.
 * Subtracting '0' borrows only from bytes above a byte under '0', and those are shifted out.
 */
export function digitsValue(w: number, k: number): number {
  if (k === 0) return 0;
  let v = (w - 0x30303030) << (32 - 8 * k);
  v = (Math.imul(v, 10) + (v >>> 8)) & 0x00ff00ff;
  return (Math.imul(v, 100) + (v >>> 16)) & 0xffff;
}

/** The digits of bytes[from, end) (a dot among them skipped) as a double: exact while under 2^53. */
function longMantissa(bytes: Uint8Array, from: number, end: number): number {
  let m = 0;
  for (let k = from; k < end; k++) if (bytes[k] !== DOT) m = m * 10 + (bytes[k] - 0x30);
  return m;
}

/** One chunk's scan: its settings, its block buffer and exceptions, and its outputs. */
export abstract class FastScan {
  /** Records per block (the values buffer holds `block` values per field up to `want`). */
  readonly block: number;
  /** Column c's values of the block's record j at `values[c * block + j]` (NaN: no value). */
  readonly values: Float64Array;
  /** Exceptions of the block (values for the general reading): record j, column, value start and end. */
  exceptions = new Int32Array(512);
  exceptionCount = 0;
  starts: Uint32Array;
  times: Float64Array | undefined;
  /** Records found so far, and where the block being scanned starts among them. */
  count = 0;
  blockStart = 0;
  /** Next record's start. */
  p: number;
  newlines: number;
  tooLong = -1;
  readonly iso = new IsoPrefixCache();
  /** Minus and dot, or -1 when the delimiter is that byte (it then ends a field instead). */
  readonly minus: number;
  readonly dot: number;
  /** The bytes, for reading 4 at a time (little-endian). */
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly last: number,
    first: number,
    readonly delimiter: number,
    /** Fields looked at per record (statistics columns, the time column). */
    readonly want: number,
    /** Per field up to `want`: 1 when its statistics are kept. */
    readonly counted: Uint8Array,
    readonly timeColumn: number,
    readonly timeFormat: ResolvedTimeFormat | undefined,
    readonly zone: ZoneOffsets | undefined,
    readonly limit: number,
  ) {
    this.block = Math.max(16, Math.min(128, Math.floor(65536 / Math.max(1, want))));
    this.values = new Float64Array(this.block * want);
    // Room for records of 64 bytes on average (grown when they are shorter).
    const room = Math.max(1024, bytes.length >> 6);
    this.starts = new Uint32Array(room);
    this.times = timeFormat === undefined ? undefined : new Float64Array(room);
    this.p = first + 1;
    this.newlines = first < 0 ? 0 : 1;
    this.minus = delimiter === MINUS ? -1 : MINUS;
    this.dot = delimiter === DOT ? -1 : DOT;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** A record with fields n..want-1 missing (counted ones count as missing values). */
  abstract shortRecord(j: number, n: number): void;
  /** Text in column c: bytes[a, e), its first byte no blank (a blank stops the number reading as GENERAL). */
  abstract text(c: number, a: number, e: number): void;
  /** A timestamp that did not parse (or a record without the time field: ta = tb = -1). */
  abstract badTime(k: number, ta: number, tb: number): void;

  /** Notes an exception: record j of the block, column c, value bytes [a, e). */
  exception(j: number, c: number, a: number, e: number): void {
    const at = this.exceptionCount * 4;
    if (at === this.exceptions.length) {
      const grown = new Int32Array(at * 2);
      grown.set(this.exceptions);
      this.exceptions = grown;
    }
    this.exceptions[at] = j;
    this.exceptions[at + 1] = c;
    this.exceptions[at + 2] = a;
    this.exceptions[at + 3] = e;
    this.exceptionCount++;
  }

  /** Makes room for one more record. */
  grow(): void {
    const starts = new Uint32Array(this.starts.length * 2);
    starts.set(this.starts);
    this.starts = starts;
    if (this.times !== undefined) {
      const times = new Float64Array(this.times.length * 2);
      times.set(this.times);
      this.times = times;
    }
  }
}

/**
 * Scans records from `scan.p` until `records` (at most a block) were found or `scan.last` is passed;
 * leaves `scan.p` at the next record. Every record from the chunk's first newline + 1 on ends at a newline at or before `last`:
 * no read here goes past it.
 */
export function scanBlock(scan: FastScan, records: number): void {
  const bytes = scan.bytes;
  const last = scan.last;
  const delimiter = scan.delimiter;
  const minus = scan.minus;
  const dot = scan.dot;
  const want = scan.want;
  const counted = scan.counted;
  const timeColumn = scan.timeColumn;
  const timeFormat = scan.timeFormat;
  const zone = scan.zone;
  const iso = scan.iso;
  const values = scan.values;
  const block = scan.block;
  const upTo = Math.min(records, block);
  const limit = scan.limit;
  const view = scan.view;
  // The last offset a 4-byte read fits at.
  const wordEnd = bytes.length - 4;
  let p = scan.p;
  let count = scan.count;
  let starts = scan.starts;
  let times = scan.times;
  let newlines = scan.newlines;
  let j = count - scan.blockStart;
  while (p <= last && j < upTo) {
    const rs = p;
    const c0 = bytes[p];
    if (c0 === NL || (c0 === CR && bytes[p + 1] === NL)) {
      // A blank line ("" or "\r" before its newline): no record.
      p += c0 === NL ? 1 : 2;
      newlines++;
      continue;
    }
    let i = p;
    let n = 0;
    let ta = -1;
    let tb = -1;
    while (n < want) {
      const a = i;
      let b = bytes[i];
      let e: number;
      if (counted[n] === 1) {
        // A sign without a branch (signs come and go at random in real data: a branch would mispredict).
        const negative = +(b === minus);
        i += negative;
        b = bytes[i];
        const from = i;
        // The integer digits, then a dot and the fraction digits, read into a 32-bit integer: exact up to
        // 9 digits (longer ones are read again by \`longMantissa\`, still exactly below 1e15).
        let mantissa = 0;
        let d = b - 0x30;
        while (d >= 0 && d <= 9) {
          mantissa = (mantissa * 10 + d) | 0;
          b = bytes[++i];
          d = b - 0x30;
        }
        let scale = 0;
        let digits = i - from;
        if (b === dot) {
          ++i;
          const fraction = i;
          // The first 4 bytes of the fraction at once (its digits among them, `digitRun`), then byte by
          // byte: the byte that ended the digits, further digits, or all of them within 4 bytes of the
          // buffer's end. (Measured: one word here saves ~10% of the chunk scan on the benchmark data; a
          // word loop, or a word for the integer part too, cost more than it saved.)
          if (i <= wordEnd) {
            const w = view.getUint32(i, true);
            const k = digitRun(w);
            mantissa = (Math.imul(mantissa, POW10_INT[k]) + digitsValue(w, k)) | 0;
            i += k;
          }
          b = bytes[i];
          d = b - 0x30;
          while (d >= 0 && d <= 9) {
            mantissa = (mantissa * 10 + d) | 0;
            b = bytes[++i];
            d = b - 0x30;
          }
          scale = i - fraction;
          digits += scale;
        }
        const end = i;
        let kind = -1;
        if (b !== delimiter && b !== NL && !(b === CR && bytes[i + 1] === NL)) {
          // Not a plain decimal: the rest of the field, then text or the general reading after the block.
          kind = GENERAL[b] === 1 ? GENERAL_VALUE : TEXT_VALUE;
          b = bytes[++i];
          while (b !== delimiter && b !== NL) b = bytes[++i];
        }
        e = i;
        if (b === CR) b = bytes[++i];
        else if (b === NL && e > a && bytes[e - 1] === CR) e--;
        // A mantissa under 1e15 has at most 15 significant digits and is exact, so mantissa / 10^scale
        // is the correctly rounded value.
        const m = digits > 9 ? longMantissa(bytes, from, end) : mantissa;
        if (kind < 0 && digits > 0 && m < 1e15 && scale <= 22) {
          // Times ±1 is exact, and gives -0 for "-0" as negation does.
          values[n * block + j] = (1 - 2 * negative) * (scale === 0 ? m : m / POW10[scale]);
        } else {
          values[n * block + j] = NaN;
          // Text is counted now (its order does not matter); a value that may still be a number waits.
          if (kind === TEXT_VALUE) scan.text(n, a, e);
          else scan.exception(j, n, a, e);
        }
      } else {
        while (b !== delimiter && b !== NL) b = bytes[++i];
        e = i;
        if (b === NL && e > a && bytes[e - 1] === CR) e--;
      }
      if (n === timeColumn) {
        ta = a;
        tb = e;
      }
      n++;
      if (b === NL) break;
      i++;
    }
    while (bytes[i] !== NL) i++;
    newlines++;
    if (i - rs > limit && scan.tooLong < 0) scan.tooLong = count;
    if (n < want) scan.shortRecord(j, n);
    if (count === starts.length) {
      scan.grow();
      starts = scan.starts;
      times = scan.times;
    }
    starts[count] = rs;
    if (times !== undefined && timeFormat !== undefined) {
      let t = NaN;
      if (ta >= 0) {
        // Unquoted values keep their blanks here: the time parsers skip them.
        t = timeFormat === 'iso' ? iso.parse(bytes, ta, tb, zone) : parseTime(bytes, ta, tb, timeFormat, zone);
      }
      if (t !== t) scan.badTime(count, ta, tb);
      times[count] = t;
    }
    count++;
    j++;
    p = i + 1;
  }
  scan.p = p;
  scan.count = count;
  scan.newlines = newlines;
}
