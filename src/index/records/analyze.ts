/**
 * The per-chunk part of the indexing pass, run in the worker pool on each decoded chunk: find the
 * newlines that end records (for CSV, those outside quoted fields, given the quote state at the chunk's
 * start), and parse the records that lie wholly inside the chunk for their timestamp and column
 * statistics. The record that straddles the chunk's start is parsed by the main thread, which joins it.
 */
import { splitFields } from './csv.js';
import { isMissing, isSpace, parseNumber, text } from './numbers.js';
import { addMissing, addText, addValue, newStats, STAT_SLOTS, toMoments } from './stats.js';
import { VocabCollector } from './vocab.js';
import { parseTime, parseTimeValue, ZoneOffsets, type ResolvedTimeFormat } from './time.js';

export type RecordKind = 'lines' | 'csv' | 'jsonl';

export interface AnalyzeSpec {
  kind: RecordKind;
  /** CSV field delimiter (a byte). */
  delimiter: number;
  /** First byte of the chunk that belongs to records (after the header, for the first chunk). */
  begin: number;
  /** CSV: whether `begin` lies inside a quoted field. */
  inQuote: boolean;
  /** CSV: number of columns to keep statistics for; JSONL: any value > 0 turns statistics on. 0 = none. */
  statColumns: number;
  /** CSV: per column, 1 to keep its statistics (absent: every column). */
  statMask?: Uint8Array | undefined;
  /** JSONL: the field paths to keep statistics for (absent: every field). */
  statOnly?: string[] | undefined;
  /** Timestamp field: CSV column number or JSONL key path. Absent: no timestamps (or a user function). */
  time?: { field: number | string[]; format: ResolvedTimeFormat; zone?: string | undefined } | undefined;
  /** Unparsable timestamps to keep as examples. */
  maxBad: number;
}

export interface ChunkAnalysis {
  /** First and last record-ending newline at or after `begin`, or -1. */
  first: number;
  last: number;
  /** Starts (chunk offsets) of the records wholly between `first` and `last`. */
  starts: Uint32Array;
  /** Their timestamps (epoch ms, NaN when unparsable), when timestamps are asked for. */
  times: Float64Array | undefined;
  badCount: number;
  /** Unparsable timestamps: index into `starts` and the text. */
  bad: Array<{ k: number; text: string }>;
  /** Packed partial column statistics (stats.ts), and for JSONL the key of each column. */
  stats: Float64Array | undefined;
  statKeys: string[] | undefined;
  /** Distinct non-numeric values per statistics column (vocab.ts), null where there were too many. */
  vocab: Array<Array<[string, number]> | null> | undefined;
  /** Parity of the number of quote characters in [begin, end) (CSV). */
  quoteParity: number;
}

const NL = 0x0a;
const CR = 0x0d;

/** Content end of a line ending at terminator `t` (drops one "\r" before the "\n"). */
export function contentEnd(bytes: Uint8Array, start: number, t: number): number {
  return t > start && bytes[t - 1] === CR ? t - 1 : t;
}

/** Whether a line's content counts as no record (blank lines are skipped in CSV and JSONL). */
export function isBlank(kind: RecordKind, bytes: Uint8Array, start: number, end: number): boolean {
  if (kind === 'lines') return false;
  if (kind === 'csv') return start === end;
  for (let i = start; i < end; i++) if (!isSpace(bytes[i]) && bytes[i] !== CR) return false;
  return true;
}

const MAX_JSON_KEYS = 256;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Parses records one by one: timestamps, statistics, and unparsable-timestamp examples. */
export class RecordParser {
  stats: Float64Array | undefined;
  keys: Map<string, number> | undefined;
  badCount = 0;
  bad: Array<{ k: number; text: string }> = [];
  readonly vocab = new VocabCollector();
  /** Text of the last unparsable timestamp. */
  lastBad = '';
  private readonly zone: ZoneOffsets | undefined;
  private bounds = new Int32Array(64);
  private escaped = new Uint8Array(32);

  constructor(private readonly spec: AnalyzeSpec) {
    this.zone = spec.time?.zone === undefined ? undefined : new ZoneOffsets(spec.time.zone);
    if (spec.statColumns > 0) {
      this.stats = newStats(spec.kind === 'csv' ? spec.statColumns : 8);
      if (spec.kind === 'jsonl') this.keys = new Map();
    }
  }

  /** Parses one record's content bytes; returns its timestamp (NaN when unparsable) or NaN without one. */
  record(bytes: Uint8Array, start: number, end: number, k: number): number {
    const spec = this.spec;
    if (spec.kind === 'csv') return this.csvRecord(bytes, start, end, k);
    if (spec.kind === 'jsonl') return this.jsonRecord(bytes, start, end, k);
    return NaN;
  }

  private noteBad(k: number, value: string): void {
    this.badCount++;
    this.lastBad = value.slice(0, 100);
    if (this.bad.length < this.spec.maxBad) this.bad.push({ k, text: value.slice(0, 100) });
  }

  /** Counts one field's value in the statistics: a number, missing, or text (with its category). */
  private field(stats: Float64Array, c: number, bytes: Uint8Array, a: number, b: number): void {
    const v = parseNumber(bytes, a, b);
    if (!Number.isNaN(v)) addValue(stats, c, v);
    else if (isMissing(bytes, a, b)) addMissing(stats, c);
    else {
      addText(stats, c);
      this.vocab.add(c, bytes, a, b);
    }
  }

  /**
   * One pass over a record without quotes: finds each field's end and parses it as a decimal number in
   * the same loop (no bounds array, no strings). Returns false at the first quote, leaving the record to
   * the general path, before anything is counted.
   */
  private csvFast(bytes: Uint8Array, start: number, end: number, timeColumn: number): boolean {
    const spec = this.spec;
    const stats = this.stats;
    const columns = spec.statColumns;
    const delimiter = spec.delimiter;
    const want = Math.max(columns, timeColumn + 1);
    const bounds = this.bounds;
    // First pass: field ends only (cheap), so a quote is found before any statistic changes.
    let n = 0;
    let i = start;
    while (n < want) {
      if (i < end && bytes[i] === 0x22) return false;
      let j = i;
      while (j < end && bytes[j] !== delimiter) j++;
      bounds[2 * n] = i;
      bounds[2 * n + 1] = j;
      n++;
      if (j >= end) break;
      i = j + 1;
    }
    if (stats === undefined) {
      this.fields = n;
      return true;
    }
    const mask = spec.statMask;
    for (let c = 0; c < columns; c++) {
      if (mask !== undefined && mask[c] === 0) continue;
      if (c >= n) addMissing(stats, c);
      else this.field(stats, c, bytes, bounds[2 * c], bounds[2 * c + 1]);
    }
    this.fields = n;
    return true;
  }

  private fields = 0;
  /** Set by analyzeChunk when the chunk holds no quote character at all: records take the fused path. */
  noQuotes = false;

  /** Single pass per field: scan to the delimiter while parsing a decimal. Only for quote-free records. */
  private csvFused(bytes: Uint8Array, start: number, end: number, timeColumn: number): void {
    const stats = this.stats;
    const columns = this.spec.statColumns;
    const delimiter = this.spec.delimiter;
    const want = Math.max(columns, timeColumn + 1);
    const bounds = this.bounds;
    const mask = this.spec.statMask;
    let n = 0;
    let i = start;
    while (n < want) {
      const a = i;
      if (mask !== undefined && mask[n] !== 1) {
        // No statistics for this column: find its end only.
        while (i < end && bytes[i] !== delimiter) i++;
        bounds[2 * n] = a;
        bounds[2 * n + 1] = i;
        n++;
        if (i >= end) break;
        i++;
        continue;
      }
      let negative = false;
      if (i < end && bytes[i] === 0x2d) {
        negative = true;
        i++;
      }
      const from = i;
      let mantissa = 0;
      let digits = 0;
      let scale = 0;
      let dot = false;
      let clean = true;
      for (; i < end; i++) {
        const b = bytes[i];
        if (b === delimiter) break;
        const d = b - 0x30;
        if (d >= 0 && d <= 9) {
          mantissa = mantissa * 10 + d;
          if (mantissa !== 0) digits++;
          if (dot) scale++;
        } else if (d === -2 && !dot) dot = true;
        else {
          clean = false;
          while (i < end && bytes[i] !== delimiter) i++;
          break;
        }
      }
      bounds[2 * n] = a;
      bounds[2 * n + 1] = i;
      if (stats !== undefined && n < columns) {
        if (clean && i > from && !(dot && i === from + 1) && digits <= 15 && scale <= 22) {
          const v = scale === 0 ? mantissa : mantissa / POW10[scale];
          addValue(stats, n, negative ? -v : v);
        } else this.field(stats, n, bytes, a, i);
      }
      n++;
      if (i >= end) break;
      i++;
    }
    if (stats !== undefined) for (let c = n; c < columns; c++) if (mask === undefined || mask[c] === 1) addMissing(stats, c);
    this.fields = n;
  }

  private csvRecord(bytes: Uint8Array, start: number, end: number, k: number): number {
    const spec = this.spec;
    const timeColumn = typeof spec.time?.field === 'number' ? spec.time.field : -1;
    const need = Math.max(spec.statColumns, timeColumn + 1);
    if (this.escaped.length < need) {
      this.bounds = new Int32Array(2 * need);
      this.escaped = new Uint8Array(need);
    }
    if (this.noQuotes) this.csvFused(bytes, start, end, timeColumn);
    else if (!this.csvFast(bytes, start, end, timeColumn)) this.csvGeneral(bytes, start, end);
    return this.csvTime(bytes, timeColumn, k);
  }

  /** The time of the record just split into `bounds` (`fields` fields). */
  private csvTime(bytes: Uint8Array, timeColumn: number, k: number): number {
    const time = this.spec.time;
    if (time === undefined || timeColumn < 0) return NaN;
    if (timeColumn >= this.fields) {
      this.noteBad(k, '(no such field)');
      return NaN;
    }
    const a = this.bounds[2 * timeColumn];
    const b = this.bounds[2 * timeColumn + 1];
    const t = parseTime(bytes, a, b, time.format, this.zone);
    if (Number.isNaN(t)) this.noteBad(k, text(bytes, a, b));
    return t;
  }

  /** Records with quotes: RFC 4180 splitting, then the statistics. */
  private csvGeneral(bytes: Uint8Array, start: number, end: number): void {
    const spec = this.spec;
    const timeColumn = typeof spec.time?.field === 'number' ? spec.time.field : -1;
    const want = Math.max(spec.statColumns, timeColumn + 1);
    const n = splitFields(bytes, start, end, spec.delimiter, this.bounds, this.escaped, want);
    this.fields = n;
    const stats = this.stats;
    if (stats === undefined) return;
    for (let c = 0; c < spec.statColumns; c++) {
      if (spec.statMask !== undefined && spec.statMask[c] === 0) continue;
      // Quoted values with doubled quotes are rare: their categories count under their raw bytes.
      if (c >= n) addMissing(stats, c);
      else this.field(stats, c, bytes, this.bounds[2 * c], this.bounds[2 * c + 1]);
    }
  }

  private jsonRecord(bytes: Uint8Array, start: number, end: number, k: number): number {
    let value: unknown;
    try {
      value = JSON.parse(text(bytes, start, end));
    } catch {
      if (this.spec.time !== undefined) this.noteBad(k, `(invalid JSON) ${text(bytes, start, Math.min(end, start + 60))}`);
      return NaN;
    }
    if (this.stats !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) this.jsonStats(value as Record<string, unknown>, '', 0);
    const time = this.spec.time;
    if (time === undefined || !Array.isArray(time.field)) return NaN;
    let v: unknown = value;
    for (const key of time.field) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    const t = parseTimeValue(v, time.format, this.zone);
    if (Number.isNaN(t)) this.noteBad(k, v === undefined ? '(no such field)' : JSON.stringify(v) ?? String(v));
    return t;
  }

  private column(key: string): number {
    const keys = this.keys;
    if (keys === undefined) return -1;
    let c = keys.get(key);
    if (c === undefined) {
      if (keys.size >= MAX_JSON_KEYS) return -1;
      c = keys.size;
      keys.set(key, c);
      const stats = this.stats ?? newStats(8);
      if ((c + 1) * STAT_SLOTS > stats.length) {
        const grown = newStats(Math.max(8, (c + 1) * 2));
        grown.set(stats);
        this.stats = grown;
      }
    }
    return c;
  }

  private jsonStats(object: Record<string, unknown>, prefix: string, depth: number): void {
    for (const key of Object.keys(object)) {
      const value = object[key];
      const path = prefix + key;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        if (depth < 4) this.jsonStats(value as Record<string, unknown>, `${path}.`, depth + 1);
        continue;
      }
      if (this.spec.statOnly !== undefined && !this.spec.statOnly.includes(path)) continue;
      const c = this.column(path);
      if (c < 0 || this.stats === undefined) continue;
      if (typeof value === 'number') addValue(this.stats, c, value);
      else if (value === null) addMissing(this.stats, c);
      else {
        addText(this.stats, c);
        if (typeof value === 'string' || typeof value === 'boolean') this.vocab.addString(c, String(value));
      }
    }
  }

  /** The statistics in mean / M2 form (see stats.ts), ready to merge; the parser must not add more after. */
  moments(): Float64Array | undefined {
    return this.stats === undefined ? undefined : toMoments(this.stats);
  }

  statKeys(): string[] | undefined {
    return this.keys === undefined ? undefined : [...this.keys.keys()];
  }
}

/** Finds the record-ending newlines of a chunk from `begin` on, calling `onTerminator` for each. */
export function forEachTerminator(bytes: Uint8Array, spec: AnalyzeSpec, onTerminator: (t: number) => void): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = spec.begin;
  if (spec.kind !== 'csv') {
    for (;;) {
      const nl = buf.indexOf(NL, p);
      if (nl < 0) return 0;
      onTerminator(nl);
      p = nl + 1;
    }
  }
  let inQuote = spec.inQuote;
  let flips = 0;
  let nextQuote = buf.indexOf(0x22, p);
  for (;;) {
    const nl = buf.indexOf(NL, p);
    while (nextQuote >= 0 && (nl < 0 || nextQuote < nl)) {
      inQuote = !inQuote;
      flips++;
      nextQuote = buf.indexOf(0x22, nextQuote + 1);
    }
    if (nl < 0) return flips & 1;
    if (!inQuote) onTerminator(nl);
    p = nl + 1;
  }
}

export function analyzeChunk(bytes: Uint8Array, spec: AnalyzeSpec): ChunkAnalysis {
  const parser = new RecordParser(spec);
  parser.noQuotes = spec.kind === 'csv' && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(0x22, spec.begin) < 0;
  let starts = new Uint32Array(1024);
  let times: Float64Array | undefined = spec.time === undefined ? undefined : new Float64Array(1024);
  let count = 0;
  let first = -1;
  let last = -1;
  const quoteParity = forEachTerminator(bytes, spec, (t) => {
    if (first < 0) {
      first = t;
      last = t;
      return;
    }
    const start = last + 1;
    last = t;
    const end = contentEnd(bytes, start, t);
    if (isBlank(spec.kind, bytes, start, end)) return;
    if (count === starts.length) {
      const grown = new Uint32Array(count * 2);
      grown.set(starts);
      starts = grown;
      if (times !== undefined) {
        const g = new Float64Array(count * 2);
        g.set(times);
        times = g;
      }
    }
    const time = parser.record(bytes, start, end, count);
    starts[count] = start;
    if (times !== undefined) times[count] = time;
    count++;
  });
  return {
    first,
    last,
    starts: starts.slice(0, count),
    times: times?.slice(0, count),
    badCount: parser.badCount,
    bad: parser.bad,
    stats: parser.moments(),
    statKeys: parser.statKeys(),
    vocab: parser.stats === undefined ? undefined : parser.vocab.export(),
    quoteParity,
  };
}
