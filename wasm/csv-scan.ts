// AssemblyScript source of the WebAssembly CSV scanner, built by scripts/build-wasm.mjs into
// src/index/records/csv-wasm/scan.wasm (build output, not committed). The same loop as
// src/index/records/csv-fast-scan.ts `scanBlock` (keep them in step: test/trust-csv-wasm.test.ts and the
// differential tests compare the two), over a chunk copied into this module's memory, plus the common case
// of time.ts IsoPrefixCache.parse; two common fields leave the loop early, as it would leave them (a plain
// decimal that ends its field, a one-byte value its vocabulary holds); the statistics are added by
// wasm/csv-stats.ts. Built with WebAssembly SIMD (16-byte compares find field ends). The JS side
// (csv-wasm/analyze-wasm.ts) lays the memory out and passes the addresses in; it writes the tables of low
// memory (csv-wasm/load.ts): GENERAL at 256 (256 bytes), POW10 at 512 (23 doubles), POW10_INT at 704 (5 i32),
// time.ts SCALES at 768 (40 doubles); the remembered date-time prefix lies at 736 (14 bytes). The per-chunk
// regions start at 2048.

import { addColumns, STAT_BYTES, TEXT } from './csv-stats';

const NL: i32 = 0x0a;
const CR: i32 = 0x0d;
const DOT_CHAR: i32 = 0x2e;
const GENERAL_AT: usize = 256;
const POW10_AT: usize = 512;
const POW10_INT_AT: usize = 704;
/** The remembered date-time prefix "YYYY-MM-DDTHH:" (14 bytes) and the 40 fraction scales (time.ts SCALES). */
const PREFIX_AT: usize = 736;
const SCALES_AT: usize = 768;
const PREFIX: usize = 14;

let base: usize = 0;
let last: usize = 0;
let delimiter: i32 = 0;
let minus: i32 = 0;
let dot: i32 = 0;
let want: i32 = 0;
let counted: usize = 0;
let timeColumn: i32 = -1;
let block: i32 = 0;
let values: usize = 0;
let starts: usize = 0;
let ta: usize = 0;
let tb: usize = 0;
let texts: usize = 0;
let exceptions: usize = 0;
let shorts: usize = 0;
let wordEnd: usize = 0;
let dropped: usize = 0;
let times: usize = 0;
let timeIso: i32 = 0;
let zoneGiven: i32 = 0;
let dateHour: f64 = NaN;
/** The chunk's statistics (src/index/records/stats.ts: STAT_SLOTS doubles per column), 0: none kept. */
let stats: usize = 0;
let known: usize = 0;
let byteCounts: usize = 0;
let limit: f64 = 0;

// Outputs of the last `scanBlock` (read by JS through the getters below).
let newlines: i32 = 0;
let tooLong: i32 = -1;
let textCount: i32 = 0;
let exceptionCount: i32 = 0;
let shortCount: i32 = 0;
let timeMisses: i32 = 0;

export function setup(
  base_: usize, length: usize, last_: usize, delimiter_: i32, want_: i32, counted_: usize, timeColumn_: i32, block_: i32,
  values_: usize, starts_: usize, ta_: usize, tb_: usize, texts_: usize, exceptions_: usize, shorts_: usize, limit_: f64, newlines_: i32,
): void {
  base = base_;
  last = base_ + last_;
  delimiter = delimiter_;
  minus = delimiter_ == 0x2d ? -1 : 0x2d;
  dot = delimiter_ == DOT_CHAR ? -1 : DOT_CHAR;
  want = want_;
  counted = counted_;
  timeColumn = timeColumn_;
  block = block_;
  values = values_;
  starts = starts_;
  ta = ta_;
  tb = tb_;
  texts = texts_;
  exceptions = exceptions_;
  shorts = shorts_;
  wordEnd = base_ + length - 4;
  limit = limit_;
  newlines = newlines_;
  tooLong = -1;
}

/**
 * Per field: 1 when its text values are only counted (the column's vocabulary was dropped); and the chunk's
 * statistics (0: none), which JS reads and writes too (its text and missing counts, the general reading).
 */
export function setStats(dropped_: usize, stats_: usize): void {
  dropped = dropped_;
  stats = stats_;
}

@inline function countText(n: i32): void {
  const at = stats + <usize>n * STAT_BYTES + TEXT;
  store<f64>(at, load<f64>(at) + 1);
}

/**
 * Adds the last block's values (its `records` records) to the statistics, two columns at a time: done by
 * `scanBlock` itself when the block had no exceptions, else by JS after it read them into the values.
 */
export function addBlock(records: i32): void {
  addColumns(stats, values, block, counted, want, records);
}

/**
 * Per field, per byte value: 1 when that one-byte text value is already in the column's vocabulary (JS put
 * it there), and how many more times it was met here (JS adds them to the vocabulary at the end of the chunk).
 */
export function setKnown(known_: usize, byteCounts_: usize): void {
  known = known_;
  byteCounts = byteCounts_;
}

/** ISO timestamps read here (into `times_`, NaN: for JS to parse) when `iso_` is 1. */
export function setTime(times_: usize, iso_: i32, zoneGiven_: i32): void {
  times = times_;
  timeIso = iso_;
  zoneGiven = zoneGiven_;
  dateHour = NaN;
}

/** Remembers the prefix at chunk offset `at` with its date and hour (time.ts isoDateHour). */
export function setPrefix(at: usize, dateHour_: f64): void {
  memory.copy(PREFIX_AT, base + at, PREFIX);
  dateHour = dateHour_;
}

@inline function isBlank(c: i32): bool { return c == 0x20 || c == 0x09; }

@inline function twoDigits(i: usize): i32 {
  const d0 = <i32>load<u8>(i) - 0x30;
  const d1 = <i32>load<u8>(i + 1) - 0x30;
  if (<u32>d0 > 9 || <u32>d1 > 9) return -1;
  return d0 * 10 + d1;
}

/**
 * time.ts IsoPrefixCache.parse of bytes [start, end) when they start with the remembered prefix and end
 * in "Z" (or in the clock with no zone asked for): the same checks and the same sum as isoClock; NaN in
 * every other case (JS then parses the value).
 */
function isoTime(start: usize, end: usize): f64 {
  while (start < end && isBlank(<i32>load<u8>(start))) start++;
  while (end > start && isBlank(<i32>load<u8>(end - 1))) end--;
  if (end - start < PREFIX || isNaN(dateHour)) return NaN;
  if (load<u64>(start) != load<u64>(PREFIX_AT) || load<u32>(start + 8) != load<u32>(PREFIX_AT + 8) || load<u16>(start + 12) != load<u16>(PREFIX_AT + 12)) return NaN;
  let i = start + PREFIX;
  if (i + 2 > end) return NaN;
  const minute = twoDigits(i);
  if (minute < 0 || minute > 59) return NaN;
  i += 2;
  let second: i32 = 0;
  let fraction: f64 = 0;
  if (i < end && <i32>load<u8>(i) == 0x3a) {
    if (i + 3 > end) return NaN;
    second = twoDigits(i + 1);
    if (second < 0 || second > 60) return NaN;
    i += 3;
    if (i < end && (<i32>load<u8>(i) == 0x2e || <i32>load<u8>(i) == 0x2c)) {
      i++;
      const from = i;
      while (i < end) {
        const d = <i32>load<u8>(i) - 0x30;
        if (<u32>d > 9) break;
        const k = i - from;
        if (k >= 40) return NaN;
        fraction += <f64>d * load<f64>(SCALES_AT + (k << 3));
        i++;
      }
      if (i == from) return NaN;
    }
  }
  const ms = dateHour + <f64>minute * 60000 + <f64>second * 1000 + fraction * 1000;
  if (i == end) return zoneGiven ? NaN : ms;
  const z = <i32>load<u8>(i);
  if ((z == 0x5a || z == 0x7a) && i + 1 == end) return ms;
  return NaN;
}

export function getNewlines(): i32 { return newlines; }
export function getTooLong(): i32 { return tooLong; }
export function getTextCount(): i32 { return textCount; }
export function getExceptionCount(): i32 { return exceptionCount; }
export function getShortCount(): i32 { return shortCount; }
/** How many of the last block's timestamps were left NaN for JS (with `setTime`'s iso 1). */
export function getTimeMisses(): i32 { return timeMisses; }

@inline function nonDigits4(w: u32): u32 {
  return ((w & 0xf0f0f0f0) ^ 0x30303030) | (((w + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030);
}

@inline function digitRun(w: u32): i32 {
  const t = nonDigits4(w);
  return t == 0 ? 4 : <i32>(ctz(t) >> 3);
}

@inline function digitsValue(w: u32, k: i32): i32 {
  if (k == 0) return 0;
  let v: u32 = (w - 0x30303030) << (32 - 8 * k);
  v = (v * 10 + (v >> 8)) & 0x00ff00ff;
  return <i32>((v * 100 + (v >> 16)) & 0xffff);
}

/**
 * The first delimiter or newline at or after `i`, 16 bytes at a time (a record of the scan ends in a newline at
 * or before `last`: the reads stay within the chunk and its 16 bytes of padding).
 */
@inline function fieldEnd(i: usize): usize {
  const delimiterLanes = i8x16.splat(<i8>delimiter);
  const newlineLanes = i8x16.splat(<i8>NL);
  while (true) {
    const v = v128.load(i);
    const bits = i8x16.bitmask(v128.or(i8x16.eq(v, delimiterLanes), i8x16.eq(v, newlineLanes)));
    if (bits != 0) return i + <usize>ctz(bits);
    i += 16;
  }
}

/** The first newline at or after `i`, 16 bytes at a time. */
@inline function lineEnd(i: usize): usize {
  const newlineLanes = i8x16.splat(<i8>NL);
  while (true) {
    const bits = i8x16.bitmask(i8x16.eq(v128.load(i), newlineLanes));
    if (bits != 0) return i + <usize>ctz(bits);
    i += 16;
  }
}

function longMantissa(from: usize, end: usize): f64 {
  let m: f64 = 0;
  for (let k = from; k < end; k++) {
    const b = <i32>load<u8>(k);
    if (b != DOT_CHAR) m = m * 10 + <f64>(b - 0x30);
  }
  return m;
}

/**
 * Scans records from chunk offset `from` until `upTo` records of the block were found (the first at block
 * position 0) or `last` is passed; `count` is the chunk's record count before the block. Returns the next
 * record's chunk offset; the block's records are `count` .. the returned count (getters).
 */
export function scanBlock(from: usize, upTo: i32, count: i32): usize {
  let p = base + from;
  let j: i32 = 0;
  let nl = newlines;
  let xt: i32 = 0;
  let xe: i32 = 0;
  let xs: i32 = 0;
  let tm: i32 = 0;
  while (p <= last && j < upTo) {
    const rs = p;
    const c0 = <i32>load<u8>(p);
    if (c0 == NL || (c0 == CR && <i32>load<u8>(p + 1) == NL)) {
      p += c0 == NL ? 1 : 2;
      nl++;
      continue;
    }
    let i = p;
    let n: i32 = 0;
    let a0: i32 = -1;
    let b0: i32 = -1;
    let b: i32 = 0;
    while (n < want) {
      const a = i;
      b = <i32>load<u8>(i);
      let e: usize;
      if (load<u8>(counted + <usize>n) == 1) {
        const next = <i32>load<u8>(i + 1);
        if (load<u8>(known + (<usize>n << 8) + <usize>b) == 1 && (next == delimiter || next == NL)) {
          // A one-byte value the vocabulary holds, decided early (such a byte is never a digit, sign, dot, blank or
          // CR: it is text), counted as below; its count is kept while the vocabulary is (once dropped, JS would
          // add it to nothing).
          store<f64>(values + ((<usize>(n * block + j)) << 3), NaN);
          countText(n);
          if (load<u8>(dropped + <usize>n) == 0) {
            const count = byteCounts + ((<usize>n << 8) + <usize>b) * 4;
            store<i32>(count, load<i32>(count) + 1);
          }
          if (n == timeColumn) {
            a0 = <i32>(a - base);
            b0 = a0 + 1;
          }
          n++;
          if (next == NL) break;
          i += 2;
          continue;
        }
        const negative: i32 = <i32>(b == minus);
        i += <usize>negative;
        b = <i32>load<u8>(i);
        const start = i;
        let mantissa: i32 = 0;
        let d = b - 0x30;
        while (<u32>d <= 9) {
          mantissa = mantissa * 10 + d;
          b = <i32>load<u8>(++i);
          d = b - 0x30;
        }
        let scale: i32 = 0;
        let digits = <i32>(i - start);
        if (b == dot) {
          ++i;
          const fraction = i;
          if (i <= wordEnd) {
            const w = load<u32>(i);
            if (nonDigits4(w) == 0) {
              // Four digits: a branch, not the data, moves `i` (the next field's reading need not wait for them).
              mantissa = mantissa * 10000 + digitsValue(w, 4);
              i += 4;
            } else {
              const k = digitRun(w);
              mantissa = mantissa * load<i32>(POW10_INT_AT + (<usize>k << 2)) + digitsValue(w, k);
              i += <usize>k;
            }
          }
          b = <i32>load<u8>(i);
          d = b - 0x30;
          while (<u32>d <= 9) {
            mantissa = mantissa * 10 + d;
            b = <i32>load<u8>(++i);
            d = b - 0x30;
          }
          scale = <i32>(i - fraction);
          digits += scale;
        }
        if ((b == delimiter || b == NL) && <u32>(digits - 1) < 9 && n != timeColumn) {
          // The common case, decided early: a plain decimal of 1 to 9 digits (exact in the i32) that ends the
          // field, stored as below (m / 10^0 is m; times -1 is a change of sign, exact, -0 for "-0").
          const x = <f64>mantissa / load<f64>(POW10_AT + (<usize>scale << 3));
          store<f64>(values + ((<usize>(n * block + j)) << 3), reinterpret<f64>(reinterpret<u64>(x) ^ (<u64>negative << 63)));
          n++;
          if (b == NL) break;
          i++;
          continue;
        }
        const end = i;
        let kind: i32 = -1;
        if (b != delimiter && b != NL && !(b == CR && <i32>load<u8>(i + 1) == NL)) {
          kind = load<u8>(GENERAL_AT + <usize>b) == 1 ? 0 : 1;
          i = fieldEnd(i + 1);
          b = <i32>load<u8>(i);
        }
        e = i;
        if (b == CR) b = <i32>load<u8>(++i);
        else if (b == NL && e > a && <i32>load<u8>(e - 1) == CR) e--;
        const m: f64 = digits > 9 ? longMantissa(start, end) : <f64>mantissa;
        const slot = values + ((<usize>(n * block + j)) << 3);
        if (kind < 0 && digits > 0 && m < 1e15 && scale <= 22) {
          const sign: f64 = <f64>(1 - 2 * negative);
          store<f64>(slot, sign * (scale == 0 ? m : m / load<f64>(POW10_AT + (<usize>scale << 3))));
        } else {
          store<f64>(slot, NaN);
          if (kind == 1 && load<u8>(dropped + <usize>n) == 1) {
            countText(n);
          } else if (kind >= 0 && e - a == 1 && load<u8>(known + (<usize>n << 8) + <usize>load<u8>(a)) == 1) {
            // A one-byte value the vocabulary holds: counted here (its first meeting, in JS, fixed its place).
            // Text (kind 1), or a letter the general reading found to be text (kind 0: JS marks only those).
            countText(n);
            const count = byteCounts + ((<usize>n << 8) + <usize>load<u8>(a)) * 4;
            store<i32>(count, load<i32>(count) + 1);
          } else if (kind == 1) {
            const at = texts + (<usize>xt << 4);
            store<i32>(at, n);
            store<i32>(at + 4, <i32>(a - base));
            store<i32>(at + 8, <i32>(e - base));
            xt++;
          } else {
            const at = exceptions + (<usize>xe << 4);
            store<i32>(at, j);
            store<i32>(at + 4, n);
            store<i32>(at + 8, <i32>(a - base));
            store<i32>(at + 12, <i32>(e - base));
            xe++;
          }
        }
      } else {
        i = fieldEnd(i);
        b = <i32>load<u8>(i);
        e = i;
        if (b == NL && e > a && <i32>load<u8>(e - 1) == CR) e--;
      }
      if (n == timeColumn) {
        a0 = <i32>(a - base);
        b0 = <i32>(e - base);
      }
      n++;
      if (b == NL) break;
      i++;
    }
    i = lineEnd(i);
    nl++;
    if (<f64>(i - rs) > limit && tooLong < 0) tooLong = count + j;
    if (n < want) {
      for (let c = n; c < want; c++) {
        if (load<u8>(counted + <usize>c) == 1) store<f64>(values + ((<usize>(c * block + j)) << 3), NaN);
      }
      const at = shorts + (<usize>xs << 3);
      store<i32>(at, j);
      store<i32>(at + 4, n);
      xs++;
    }
    store<u32>(starts + (<usize>j << 2), <u32>(rs - base));
    if (timeIso) {
      const t = a0 >= 0 ? isoTime(base + <usize>a0, base + <usize>b0) : NaN;
      store<f64>(times + (<usize>j << 3), t);
      if (t != t) tm++;
    }
    store<i32>(ta + (<usize>j << 2), a0);
    store<i32>(tb + (<usize>j << 2), b0);
    j++;
    p = i + 1;
  }
  newlines = nl;
  textCount = xt;
  exceptionCount = xe;
  shortCount = xs;
  timeMisses = tm;
  recordCount = j;
  if (stats != 0 && xe == 0) addBlock(j);
  return p - base;
}

let recordCount: i32 = 0;
export function getRecordCount(): i32 { return recordCount; }
