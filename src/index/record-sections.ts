/**
 * The record layer's part of the index file: what it writes (record offsets, tails, timestamps, the
 * metadata of columns, statistics and time span) and how a loaded one is checked before use. An index
 * file is untrusted input: every count and offset must agree with the chunk map and with each other
 * (records increasing within their chunk and inside it, tails exactly as long as the records they
 * complete, the time order a permutation of the records with a time, sorted by it), and metadata fields
 * must have the right types and sizes. Timestamps and statistics are taken as stored.
 */
import { SeekdataError } from '../errors.js';
import type { SeekableReader } from '../readers/reader.js';
import type { SectionValue, WritableSection } from './index-file.js';
import type { IndexReport } from './indexed-file.js';
import { RecordIndex } from './record-index.js';
import { MAX_TAIL_BYTES, type BuiltRecords } from './records/built-records.js';
import type { ResolvedRecordOptions } from './records/options.js';
import { isNumericColumn, type ColumnStats } from './records/stats.js';
import { TimeIndex } from './time-index.js';

/** What the metadata stores about the record layer held in the file. */
export interface StoredRecordsMeta {
  pieces: { bigUnitBytes: number; pieceBytes: number };
  columns: string[];
  stats: ColumnStats[];
  count: number;
  time: IndexReport['time'];
}

export const RECORD_SECTIONS = ['records.first', 'records.offsets', 'records.tails', 'records.tailOffsets', 'records.tailStored', 'time.values', 'time.order'];

/**
 * The record layer's sections, its offsets and times written from the parts they arrived in (the joined
 * arrays are not needed: BuiltRecords). `order`: the time index's order, when its times need one.
 */
export function recordSections(built: BuiltRecords, order: Uint32Array | undefined): Array<[string, WritableSection]> {
  const out: Array<[string, WritableSection]> = [
    ['records.first', built.firstRecord],
    ['records.offsets', { kind: 'u32', parts: built.offsetParts }],
    ['records.tails', built.tails],
    ['records.tailOffsets', built.tailOffsets],
    ['records.tailStored', built.tailStored],
  ];
  if (built.timeParts !== undefined) {
    out.push(['time.values', { kind: 'f64', parts: built.timeParts }]);
    if (order !== undefined) out.push(['time.order', order]);
  }
  return out;
}

const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const NON_FINITE = ['Infinity', '-Infinity', 'NaN'];
const isNum = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isFinite(v)) || NON_FINITE.includes(v as string);
type StoredNumber = number | string | null;

/** A statistic as JSON can hold it: JSON has no ±Infinity or NaN (a value like `1e999` is Infinity). */
function toStored(v: number | null): StoredNumber {
  return v === null || Number.isFinite(v) ? v : String(v);
}

function fromStored(v: StoredNumber): number | null {
  return typeof v === 'string' ? Number(v) : v;
}

/** Statistics for the index file's JSON metadata (non-finite values as text; `parseRecordsMeta` reads them back). */
export function storedStats(stats: ColumnStats[]): ColumnStats[] {
  return stats.map((s) => ({ ...s, min: toStored(s.min), max: toStored(s.max), mean: toStored(s.mean), std: toStored(s.std) }) as unknown as ColumnStats);
}
const isStr = (v: unknown, max = 1 << 16): v is string => typeof v === 'string' && v.length <= max;
const MAX_COLUMNS = 1 << 20;
const MAX_CATEGORIES = 100_000;

function isStats(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const categories = s.categories;
  const categoriesOk =
    categories === null ||
    (Array.isArray(categories) &&
      categories.length <= MAX_CATEGORIES &&
      // A value's length is not bounded here: a category is a whole field, which may be as long as a record
      // (maxRecordBytes), and the metadata holding it is already bounded by its section's length.
      categories.every((c: unknown) => typeof c === 'object' && c !== null && typeof (c as Record<string, unknown>).value === 'string' && isInt((c as Record<string, unknown>).count)));
  return (
    isStr(s.name) &&
    isInt(s.count) &&
    isInt(s.missing) &&
    isInt(s.nonNumeric) &&
    typeof s.numeric === 'boolean' &&
    typeof s.integer === 'boolean' &&
    [s.min, s.max, s.mean, s.std].every(isNum) &&
    categoriesOk
  );
}

function isTime(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  const examples = t.unparsableExamples;
  return (
    (t.column === undefined || isStr(t.column) || isInt(t.column)) &&
    ['iso', 's', 'ms', 'us', 'ns', 'function'].includes(t.format as string) &&
    (t.zone === undefined || isStr(t.zone, 256)) &&
    typeof t.sorted === 'boolean' &&
    (t.first === undefined || (typeof t.first === 'number' && Number.isFinite(t.first))) &&
    (t.last === undefined || (typeof t.last === 'number' && Number.isFinite(t.last))) &&
    isInt(t.unparsable) &&
    Array.isArray(examples) &&
    examples.length <= 100 &&
    examples.every((e: unknown) => typeof e === 'object' && e !== null && isInt((e as Record<string, unknown>).record) && isStr((e as Record<string, unknown>).text))
  );
}

/** The record layer's metadata, checked for types and sizes; rejects with CORRUPT_INDEX. */
export function parseRecordsMeta(value: unknown, path: string): StoredRecordsMeta {
  const fail = (what: string): SeekdataError => new SeekdataError('CORRUPT_INDEX', `${path}: corrupt index file: record metadata ${what}`, { file: path });
  if (typeof value !== 'object' || value === null) throw fail('is not an object');
  const m = value as Record<string, unknown>;
  const pieces = m.pieces as Record<string, unknown> | null | undefined;
  if (typeof pieces !== 'object' || pieces === null || !isInt(pieces.bigUnitBytes, 1) || !isInt(pieces.pieceBytes, 1)) throw fail('has no valid piece sizes');
  if (!isInt(m.count)) throw fail('has no valid record count');
  if (!Array.isArray(m.columns) || m.columns.length > MAX_COLUMNS || !m.columns.every((c: unknown) => isStr(c))) throw fail('has invalid column names');
  if (!Array.isArray(m.stats) || m.stats.length > MAX_COLUMNS || !m.stats.every(isStats)) throw fail('has invalid statistics');
  if (!isTime(m.time)) throw fail('has an invalid time summary');
  return {
    pieces: { bigUnitBytes: pieces.bigUnitBytes as number, pieceBytes: pieces.pieceBytes as number },
    count: m.count,
    columns: m.columns as string[],
    // `numeric` is re-derived from the counts so indexes written under an older rule read the same way.
    stats: (m.stats as ColumnStats[]).map((s) => ({
      ...s,
      min: fromStored(s.min),
      max: fromStored(s.max),
      mean: fromStored(s.mean),
      std: fromStored(s.std),
      numeric: isNumericColumn(s.count, s.nonNumeric),
    })),
    time: m.time as IndexReport['time'],
  };
}

/** The record and time indexes from loaded sections, after checking them against the chunk map. */
export function indexesFromSections(
  reader: SeekableReader,
  sections: Map<string, SectionValue>,
  meta: StoredRecordsMeta,
  options: ResolvedRecordOptions,
  path: string,
): { records: RecordIndex; time: TimeIndex | undefined } {
  const fail = (what: string): SeekdataError => new SeekdataError('CORRUPT_INDEX', `${path}: corrupt index file: ${what}`, { file: path });
  const layout = reader.layout;
  const chunks = layout.count;
  const count = meta.count;
  const first = sections.get('records.first');
  const offsets = sections.get('records.offsets');
  if (!(first instanceof Float64Array) || !(offsets instanceof Uint32Array)) throw fail('record sections missing');
  if (first.length !== chunks + 1 || offsets.length !== count) throw fail('record sections do not match the chunk map');
  if (first[0] !== 0 || first[chunks] !== count) throw fail('records.first does not cover the records');
  for (let c = 0; c < chunks; c++) {
    const from = first[c];
    const to = first[c + 1];
    if (!Number.isSafeInteger(to) || to < from) throw fail(`records.first not ascending at chunk ${c}`);
    const length = layout.start[c + 1] - layout.start[c];
    for (let r = from; r < to; r++) {
      if (offsets[r] >= length || (r > from && offsets[r] <= offsets[r - 1])) throw fail(`record ${r} is not inside chunk ${c} after the record before it`);
    }
  }
  if (count > 0) {
    // The first record starts the data (after a byte-order mark) unless a CSV header comes first, or blank
    // lines, which CSV and JSONL skip (`lines` counts them as records). Its start is checked on use.
    const start = layout.start[chunkOf(first, 0)] + offsets[0];
    const headed = options.kind === 'csv' && options.header;
    if (headed ? start === 0 : options.kind === 'lines' && start !== 0 && start !== 3) throw fail(`record 0 starts at ${start}, which does not fit the record options`);
  }
  const tails = sections.get('records.tails');
  const tailOffsets = sections.get('records.tailOffsets');
  const tailStored = sections.get('records.tailStored');
  if (!(tails instanceof Uint8Array) || !(tailOffsets instanceof Float64Array) || !(tailStored instanceof Uint8Array)) throw fail('record tail sections missing');
  if (tailStored.length !== chunks || tailOffsets.length !== chunks + 1 || tailOffsets[0] !== 0 || tailOffsets[chunks] !== tails.length) {
    throw fail('record tail sections do not match the chunk map');
  }
  for (let c = 0; c < chunks; c++) {
    const length = tailOffsets[c + 1] - tailOffsets[c];
    if (!Number.isSafeInteger(tailOffsets[c + 1]) || length < 0 || length > MAX_TAIL_BYTES || tailStored[c] > 1 || (tailStored[c] === 0 && length > 0)) {
      throw fail(`record tail of chunk ${c} is invalid`);
    }
    // The tail completes the last record starting in the chunk: up to its terminator (blank lines may
    // follow before the next record; every line is a record of kind 'lines'), or to the end of the data.
    const chunkEnd = layout.start[c + 1];
    const next = first[c + 1] < count ? layout.start[chunkOf(first, first[c + 1])] + offsets[first[c + 1]] : reader.size;
    const span = first[c + 1] > first[c] ? Math.max(0, next - chunkEnd) : 0;
    const ends = length === span || (length > 0 && tails[tailOffsets[c + 1] - 1] === 0x0a && options.kind !== 'lines');
    if (tailStored[c] === 1 && (length > span || (length > 0 && !ends) || (options.kind === 'lines' && length !== span))) {
      throw fail(`record tail of chunk ${c} is ${length} bytes, not the end of its record (${span} bytes to the next one)`);
    }
  }
  const records = new RecordIndex(reader, options.kind, options.quoting, first, offsets, { bytes: tails, offsets: tailOffsets, stored: tailStored }, { indexPath: path, verified: false });
  return { records, time: meta.time === undefined ? undefined : timeFromSections(sections, meta, fail) };
}

/** The chunk a record starts in (records.first already checked ascending). */
function chunkOf(first: Float64Array, record: number): number {
  let lo = 0;
  let hi = first.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (first[mid] <= record) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function timeFromSections(sections: Map<string, SectionValue>, meta: StoredRecordsMeta, fail: (what: string) => SeekdataError): TimeIndex {
  const summary = meta.time;
  const values = sections.get('time.values');
  const order = sections.get('time.order');
  if (summary === undefined || !(values instanceof Float64Array) || values.length !== meta.count) throw fail('time section missing');
  if (order !== undefined && !(order instanceof Uint32Array)) throw fail('time order section damaged');
  let valid = 0;
  let sorted = true;
  let previous = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const t = values[i];
    if (Number.isNaN(t)) continue;
    if (!Number.isFinite(t)) throw fail(`time of record ${i} is not finite`);
    valid++;
    if (t < previous) sorted = false;
    previous = t;
  }
  if (sorted !== summary.sorted || values.length - valid !== summary.unparsable) throw fail('time summary does not match the timestamps');
  if (order === undefined) {
    if (!sorted || valid !== values.length) throw fail('time order section missing');
  } else {
    if (order.length !== valid) throw fail('time order is not a permutation of the records with a time');
    const seen = new Uint8Array(values.length);
    for (let k = 0; k < order.length; k++) {
      const r = order[k];
      if (r >= values.length || seen[r] === 1 || Number.isNaN(values[r])) throw fail('time order is not a permutation of the records with a time');
      seen[r] = 1;
      if (k > 0 && values[r] < values[order[k - 1]]) throw fail(`time order is not sorted at position ${k}`);
    }
  }
  const time = TimeIndex.fromParts(values, order, sorted);
  if ((summary.first ?? undefined) !== time.summary.first || (summary.last ?? undefined) !== time.summary.last) throw fail('time span does not match the timestamps');
  return time;
}
