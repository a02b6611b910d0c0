/**
 * The indexing pass's fast path for CSV chunks without a quote character (or with `quoting: 'none'`),
 * which is most chunks of most files: there every newline ends a record, so one pass over the bytes
 * finds each field's end, the record's end and the numeric value together — no terminator scan first,
 * no callback per record, no string per field, the statistics accumulated straight into their typed
 * array. A value the pass cannot read on the fly (an exponent, blanks, a missing token, 16+ digits)
 * takes the general reading of field-stats.ts over exactly the bytes analyze.ts would give it, so the
 * result is the one `RecordParser` gives (test/analyze-fast.test.ts compares them).
 */
import type { AnalyzeSpec, ChunkAnalysis } from './analyze.js';
import { QUOTE } from './csv.js';
import { countPlainField } from './field-stats.js';
import { isSpace, text } from './numbers.js';
import { addMissing, addText, addValue, newStats, toMoments } from './stats.js';
import { IsoPrefixCache, parseTime, ZoneOffsets } from './time.js';
import { VocabCollector } from './vocab.js';

const NL = 0x0a;
const CR = 0x0d;
const MINUS = 0x2d;
const DOT = 0x2e;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Bytes that stop the on-the-fly number reading and may still make a number or a missing token (an
 * exponent, Infinity, NA/null/None/NaN, a sign, blanks, a second dot, a carriage return): such a value
 * takes the general reading. Any other byte makes the value text.
 */
const GENERAL = new Uint8Array(256);
for (const c of 'eEINn+ \t.\r') GENERAL[c.charCodeAt(0)] = 1;

/**
 * Whether a chunk can take the fast path: CSV with a delimiter other than a digit, and no quote character
 * from `begin` on (or quotes are plain bytes).
 */
export function fastCsvApplies(bytes: Uint8Array, spec: AnalyzeSpec): boolean {
  // A digit as the delimiter (legal, if odd) would be read as part of a number: the general path.
  if (spec.kind !== 'csv' || (spec.delimiter >= 0x30 && spec.delimiter <= 0x39)) return false;
  if (spec.quoting === 'none') return true;
  if (spec.inQuote) return false;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(QUOTE, spec.begin) < 0;
}

/** analyzeChunk for a chunk `fastCsvApplies` accepted. */
export function analyzeCsvFast(bytes: Uint8Array, spec: AnalyzeSpec): ChunkAnalysis {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = buf.indexOf(NL, spec.begin);
  const last = first < 0 ? -1 : buf.lastIndexOf(NL);
  const delimiter = spec.delimiter;
  const columns = spec.statColumns;
  const mask = spec.statMask;
  const time = spec.time;
  const timeColumn = time !== undefined && typeof time.field === 'number' ? time.field : -1;
  const want = Math.max(columns, timeColumn + 1);
  const stats = columns > 0 ? newStats(columns) : undefined;
  /** Per field: 1 when its statistics are kept. */
  const counted = new Uint8Array(want);
  for (let c = 0; c < columns; c++) counted[c] = stats !== undefined && (mask === undefined || mask[c] === 1) ? 1 : 0;
  const vocab = new VocabCollector();
  const zone = time?.zone === undefined ? undefined : new ZoneOffsets(time.zone);
  const iso = new IsoPrefixCache();
  const limit = spec.maxRecordBytes ?? Infinity;
  const bad: Array<{ k: number; text: string }> = [];
  let badCount = 0;
  const noteBad = (k: number, value: string): void => {
    badCount++;
    if (bad.length < spec.maxBad) bad.push({ k, text: value.slice(0, 100) });
  };
  // Room for records of 64 bytes on average (grown when they are shorter).
  const room = Math.max(1024, bytes.length >> 6);
  let starts = new Uint32Array(room);
  let times = time === undefined ? undefined : new Float64Array(room);
  let count = 0;
  let newlines = first < 0 ? 0 : 1;
  let tooLong = -1;
  // Every record from first + 1 on ends at a newline at or before `last`: the loops below stop there.
  let p = first + 1;
  while (p <= last) {
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
    let ta = 0;
    let tb = 0;
    while (n < want) {
      const a = i;
      let b = bytes[i];
      let e: number;
      if (counted[n] === 1 && stats !== undefined) {
        let negative = false;
        if (b === MINUS && b !== delimiter) {
          negative = true;
          b = bytes[++i];
        }
        const from = i;
        // The integer digits, then a dot and the fraction digits: a mantissa under 1e15 has at most 15
        // significant digits and is exact, so mantissa / 10^scale is the correctly rounded value.
        let mantissa = 0;
        let d = b - 0x30;
        while (d >= 0 && d <= 9) {
          mantissa = mantissa * 10 + d;
          b = bytes[++i];
          d = b - 0x30;
        }
        let scale = 0;
        let digits = i - from;
        if (b === DOT && b !== delimiter) {
          b = bytes[++i];
          const fraction = i;
          d = b - 0x30;
          while (d >= 0 && d <= 9) {
            mantissa = mantissa * 10 + d;
            b = bytes[++i];
            d = b - 0x30;
          }
          scale = i - fraction;
          digits += scale;
        }
        // 0: a plain decimal; 1: needs the general reading; 2: text.
        let kind = 0;
        if (b !== delimiter && b !== NL && !(b === CR && bytes[i + 1] === NL)) {
          kind = GENERAL[b] === 1 ? 1 : 2;
          b = bytes[++i];
          while (b !== delimiter && b !== NL) b = bytes[++i];
        }
        e = i;
        if (b === CR) b = bytes[++i];
        else if (b === NL && e > a && bytes[e - 1] === CR) e--;
        if (kind === 0 && digits > 0 && mantissa < 1e15 && scale <= 22) {
          const v = scale === 0 ? mantissa : mantissa / POW10[scale];
          addValue(stats, n, negative ? -v : v);
        } else if (e === a) addMissing(stats, n);
        else if (kind === 2) {
          // Text starting with a byte that is no blank: only trailing blanks to cut.
          let z = e;
          while (isSpace(bytes[z - 1])) z--;
          addText(stats, n);
          if (!vocab.dropped(n)) vocab.add(n, bytes, a, z);
        } else countPlainField(stats, vocab, n, bytes, a, e);
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
    if (i - rs > limit && tooLong < 0) tooLong = count;
    if (stats !== undefined) for (let c = n; c < columns; c++) if (counted[c] === 1) addMissing(stats, c);
    if (count === starts.length) {
      starts = grow(starts);
      if (times !== undefined) times = grow(times);
    }
    starts[count] = rs;
    if (times !== undefined && time !== undefined) {
      let t = NaN;
      if (timeColumn >= 0) {
        if (timeColumn >= n) noteBad(count, '(no such field)');
        else {
          // Unquoted values keep their blanks here: the time parsers skip them.
          t = time.format === 'iso' ? iso.parse(bytes, ta, tb, zone) : parseTime(bytes, ta, tb, time.format, zone);
          if (Number.isNaN(t)) noteBad(count, text(bytes, ta, tb).trim());
        }
      }
      times[count] = t;
    }
    count++;
    p = i + 1;
  }
  return {
    first,
    last,
    starts: starts.slice(0, count),
    times: times?.slice(0, count),
    badCount,
    bad,
    stats: stats === undefined ? undefined : toMoments(stats),
    statKeys: undefined,
    vocab: stats === undefined ? undefined : vocab.export(),
    quoteParity: 0,
    newlines,
    tooLong,
  };
}

function grow<T extends Uint32Array | Float64Array>(array: T): T {
  const out = new (array.constructor as new (n: number) => T)(array.length * 2);
  out.set(array);
  return out;
}
