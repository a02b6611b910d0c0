/**
 * The indexing pass's view of one record: its timestamp, and its fields counted into the column
 * statistics and category vocabularies. CSV values follow the one definition of csv.ts, on two paths:
 * records without a quote take a fused loop that finds each field's end while parsing it as a decimal
 * (no bounds pass, no string per numeric field); records with quotes are split by `splitFields`.
 */
import type { AnalyzeSpec } from './analyze.js';
import { decodeFieldBytes, QUOTE, splitFields } from './csv.js';
import { countField, countPlainField } from './field-stats.js';
import { text } from './numbers.js';
import { addMissing, addText, addValue, newStats, STAT_SLOTS, toMoments } from './stats.js';
import { VocabCollector } from './vocab.js';
import { parseTime, parseTimeValue, type ZoneOffsets, zoneOffsets } from './time.js';

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
  private readonly quotes: boolean;
  private bounds = new Int32Array(64);
  private flags = new Uint8Array(32);
  /** Fields of the record just split, and whether it took the general path (`flags` are set). */
  private fields = 0;
  private general = false;

  constructor(private readonly spec: AnalyzeSpec) {
    this.zone = zoneOffsets(spec.time?.zone);
    this.quotes = spec.quoting !== 'none';
    if (spec.statColumns > 0) {
      this.stats = newStats(spec.kind === 'csv' ? spec.statColumns : 8);
      if (spec.kind === 'jsonl') this.keys = new Map();
    }
  }

  /**
   * Parses one record's content bytes; returns its timestamp (NaN when unparsable) or NaN without one.
   * `quoted`: whether the record holds a quote character (CSV; found here when not given).
   */
  record(bytes: Uint8Array, start: number, end: number, k: number, quoted?: boolean): number {
    const spec = this.spec;
    if (spec.kind === 'csv') return this.csvRecord(bytes, start, end, k, quoted);
    if (spec.kind === 'jsonl') return this.jsonRecord(bytes, start, end, k);
    return NaN;
  }

  private noteBad(k: number, value: string): void {
    this.badCount++;
    this.lastBad = value.slice(0, 100);
    if (this.bad.length < this.spec.maxBad) this.bad.push({ k, text: value.slice(0, 100) });
  }

  private field(stats: Float64Array, c: number, bytes: Uint8Array, a: number, b: number): void {
    countField(stats, this.vocab, c, bytes, a, b);
  }

  private plainField(stats: Float64Array, c: number, bytes: Uint8Array, a: number, b: number): void {
    countPlainField(stats, this.vocab, c, bytes, a, b);
  }

  /**
   * A record without quotes, in one pass per field: scan to the delimiter while parsing a decimal. Fields
   * that are not a plain decimal (text, blanks around a number, exponents) go through `plainField`.
   */
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
      if (i < end && bytes[i] === 0x2d && delimiter !== 0x2d) {
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
        } else this.plainField(stats, n, bytes, a, i);
      }
      n++;
      if (i >= end) break;
      i++;
    }
    if (stats !== undefined) for (let c = n; c < columns; c++) if (mask === undefined || mask[c] === 1) addMissing(stats, c);
    this.fields = n;
  }

  private csvRecord(bytes: Uint8Array, start: number, end: number, k: number, quoted: boolean | undefined): number {
    const spec = this.spec;
    const timeColumn = typeof spec.time?.field === 'number' ? spec.time.field : -1;
    const need = Math.max(spec.statColumns, timeColumn + 1);
    if (this.flags.length < need) {
      this.bounds = new Int32Array(2 * need);
      this.flags = new Uint8Array(need);
    }
    this.general = this.quotes && (quoted ?? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(start, end).indexOf(QUOTE) >= 0);
    if (this.general) this.csvGeneral(bytes, start, end, timeColumn);
    else this.csvFused(bytes, start, end, timeColumn);
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
    if (this.general && this.flags[timeColumn] === 1) {
      const value = text(decodeFieldBytes(bytes, a, b));
      const t = parseTimeValue(value, time.format, this.zone);
      if (Number.isNaN(t)) this.noteBad(k, value);
      return t;
    }
    // Unquoted values keep their blanks here: the time parsers skip them.
    const t = parseTime(bytes, a, b, time.format, this.zone);
    if (Number.isNaN(t)) this.noteBad(k, text(bytes, a, b).trim());
    return t;
  }

  /** Records with quotes: split by the one definition (csv.ts), then the statistics. */
  private csvGeneral(bytes: Uint8Array, start: number, end: number, timeColumn: number): void {
    const spec = this.spec;
    const want = Math.max(spec.statColumns, timeColumn + 1);
    const n = splitFields(bytes, start, end, spec.delimiter, this.bounds, this.flags, want, spec.quoting);
    this.fields = n;
    const stats = this.stats;
    if (stats === undefined) return;
    for (let c = 0; c < spec.statColumns; c++) {
      if (spec.statMask !== undefined && spec.statMask[c] === 0) continue;
      if (c >= n) {
        addMissing(stats, c);
        continue;
      }
      const a = this.bounds[2 * c];
      const b = this.bounds[2 * c + 1];
      if (this.flags[c] === 0) this.field(stats, c, bytes, a, b);
      else {
        const value = decodeFieldBytes(bytes, a, b);
        this.field(stats, c, value, 0, value.length);
      }
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

  /**
   * JSONL values: numbers count as numbers, null as missing, strings and booleans as categories under
   * `String(value)`, exactly what the dataset parser looks up (datasets/parse.ts).
   */
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
