/**
 * Parsing records into typed arrays, in the worker pool: the bytes of a batch's (or a chunk's) records
 * in, a row-major Float32Array of features, labels (Float32Array or Int32Array) and the record numbers
 * out. The spec is plain data compiled from the user's options and the index (features.ts).
 */
import { SeekdataError } from '../errors.js';
import { decodeFieldBytes, splitFields, type Quoting } from '../index/records/csv.js';
import { isMissing, parseNumber, text } from '../index/records/numbers.js';
import type { RecordKind } from '../index/records/analyze.js';
import type { MapSpec } from './map-spec.js';
import { timeFeature, type TimeFeature } from './time-features.js';

export interface CompiledField {
  /** CSV column position. */
  column: number;
  /** JSONL key path. */
  path: string[];
  name: string;
  /** Category vocabulary: values map to their position (features: unknown values map to its length). */
  vocab: string[] | undefined;
  /** Value used for a missing entry when the policy is 'fill' (before standardisation). */
  fill: number;
  /** Standardisation: (x - shift) * scale. */
  shift: number;
  scale: number;
  /**
   * A missing value of this field, whatever the dataset's policies: `'fill'` uses `fill` (labels too),
   * `'error'` is a PARSE_ERROR naming the record (a required column). Default: the policies.
   */
  onMissing?: 'fill' | 'error' | undefined;
  /** `'int32'`: the number rounded down; `'bool'`: 1 for `1` or `true` (any case), else 0 (tf.data.csv's). */
  cast?: 'int32' | 'bool' | undefined;
  /** A feature of the record's time (from the time index) instead of a field's value. */
  time?: TimeFeature | undefined;
}

export interface ParseSpec {
  kind: RecordKind;
  delimiter: number;
  /** CSV: how quote characters are read (index/records/csv.ts). Default 'rfc4180'. */
  quoting?: Quoting | undefined;
  file: string;
  features: CompiledField[];
  labels: CompiledField[];
  labelType: 'float32' | 'int32';
  /** One-hot label width (classes), 0 for plain labels. */
  oneHot: number;
  missing: 'fill' | 'skip' | 'error';
  malformed: 'skip' | 'error';
  /** Time zone of the time features (IANA; undefined: UTC). */
  timeZone?: string | undefined;
  /** A user map run on the parsed rows in the worker (map-step.ts): `features` / `labels` above are its output. */
  map?: MapSpec | undefined;
}

/** Rows of no record. */
export function emptyRows(): ParsedRows {
  return { features: new Float32Array(0), labels: new Float32Array(0), records: new Float64Array(0), rows: 0, skipped: 0, skippedExamples: [] };
}

export interface ParsedRows {
  /** Rows × features, row-major. */
  features: Float32Array;
  /** Rows × labels (or rows × oneHot). */
  labels: Float32Array | Int32Array;
  /** Record number of each row. */
  records: Float64Array;
  rows: number;
  skipped: number;
  /** The first few skipped records and why. */
  skippedExamples: Array<{ record: number; reason: string }>;
}

const MAX_EXAMPLES = 5;

/** A record that cannot become a row: a missing value (missing policy) or malformed (malformed policy). */
class Malformed extends Error {
  constructor(
    message: string,
    readonly missing = false,
    /** A required field is missing: an error whatever the policies. */
    readonly required = false,
  ) {
    super(message);
  }
}

/**
 * Parses records given as [start, end) spans of `bytes` (content without terminators). `times` holds each
 * record's time (from the time index) when the spec has time features.
 */
export function parseRecords(bytes: Uint8Array, spans: Uint32Array, records: Float64Array, spec: ParseSpec, times?: Float64Array): ParsedRows {
  const n = records.length;
  const F = spec.features.length;
  const L = spec.oneHot > 0 ? spec.oneHot : spec.labels.length;
  const features = new Float32Array(n * F);
  const labels = spec.labelType === 'int32' && spec.oneHot === 0 ? new Int32Array(n * L) : new Float32Array(n * L);
  const kept = new Float64Array(n);
  const skippedExamples: Array<{ record: number; reason: string }> = [];
  let rows = 0;
  let skipped = 0;
  const maxColumn = Math.max(0, ...spec.features.map((f) => f.column + 1), ...spec.labels.map((f) => f.column + 1));
  const bounds = new Int32Array(2 * maxColumn + 2);
  const flags = new Uint8Array(maxColumn + 1);
  const row = new Float64Array(F);
  const labelRow = new Float64Array(spec.labels.length);
  // The field readers are made once, not per record (a closure per record is an allocation on the hot path,
  // and under tsx a defineProperty for its name): they read the record at hand through `r`, `count`, `value`.
  let r = 0;
  let count = 0;
  let value: unknown;
  // Each CSV value by the one definition of csv.ts, as the index collected it: the bytes of its range, or
  // (quotes to undo, rare) a decoded copy.
  const csvField = (f: CompiledField, isLabel: boolean): number => {
    if (f.time !== undefined) return timeValue(f, times, r, spec);
    if (f.column >= count) throw new Malformed(`has ${count} fields, needs field ${f.column + 1} (${f.name})`);
    let field = bytes;
    let a = bounds[2 * f.column];
    let b = bounds[2 * f.column + 1];
    if (flags[f.column] === 1) {
      field = decodeFieldBytes(bytes, a, b);
      a = 0;
      b = field.length;
    }
    if (f.vocab !== undefined || f.cast === 'bool') {
      if (isMissing(field, a, b)) return missingValue(f, isLabel, spec);
      return f.vocab !== undefined ? category(f, text(field, a, b), isLabel) : boolean(text(field, a, b));
    }
    const v = parseNumber(field, a, b);
    if (!Number.isNaN(v)) return f.cast === 'int32' ? Math.floor(v) : v;
    if (isMissing(field, a, b)) return missingValue(f, isLabel, spec);
    throw new Malformed(`${f.name} is not a number: ${JSON.stringify(text(field, a, Math.min(b, a + 40)))}`);
  };
  const jsonField = (f: CompiledField, isLabel: boolean): number => {
    if (f.time !== undefined) return timeValue(f, times, r, spec);
    let v: unknown = value;
    for (const key of f.path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
    if (v === undefined || v === null) return missingValue(f, isLabel, spec);
    // The same value the index counted as a category (record-parser.ts jsonStats).
    if (f.vocab !== undefined) return category(f, String(v), isLabel);
    if (f.cast === 'bool') return boolean(String(v));
    if (typeof v === 'number') return f.cast === 'int32' ? Math.floor(v) : v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    throw new Malformed(`${f.name} is not a number: ${JSON.stringify(v).slice(0, 40)}`);
  };
  for (r = 0; r < n; r++) {
    const start = spans[2 * r];
    let end = spans[2 * r + 1];
    // Spans may include the line terminator and blank lines after the record.
    while (end > start && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
    try {
      if (spec.kind === 'csv') {
        count = splitFields(bytes, start, end, spec.delimiter, bounds, flags, maxColumn, spec.quoting);
        for (let k = 0; k < F; k++) row[k] = csvField(spec.features[k], false);
        for (let k = 0; k < spec.labels.length; k++) labelRow[k] = csvField(spec.labels[k], true);
      } else if (spec.kind === 'jsonl') {
        try {
          value = JSON.parse(text(bytes, start, end));
        } catch {
          throw new Malformed('is not valid JSON');
        }
        for (let k = 0; k < F; k++) row[k] = jsonField(spec.features[k], false);
        for (let k = 0; k < spec.labels.length; k++) labelRow[k] = jsonField(spec.labels[k], true);
      } else {
        throw new SeekdataError('INVALID_OPTION', `${spec.file}: records: 'lines' have no fields to parse (use csv or jsonl)`, { file: spec.file });
      }
    } catch (error) {
      if (!(error instanceof Malformed)) throw error;
      const record = records[r];
      if (error.required || (error.missing ? spec.missing === 'error' : spec.malformed === 'error')) {
        throw new SeekdataError('PARSE_ERROR', `${spec.file}: record ${record} ${error.message}`, { file: spec.file, record });
      }
      skipped++;
      if (skippedExamples.length < MAX_EXAMPLES) skippedExamples.push({ record, reason: error.message });
      continue;
    }
    const o = rows * F;
    for (let k = 0; k < F; k++) {
      const f = spec.features[k];
      features[o + k] = (row[k] - f.shift) * f.scale;
    }
    if (spec.oneHot > 0) {
      const cls = labelRow[0];
      if (!Number.isInteger(cls) || cls < 0 || cls >= spec.oneHot) {
        const record = records[r];
        const reason = `label ${cls} is not a class in 0..${spec.oneHot - 1}`;
        if (spec.malformed === 'error') throw new SeekdataError('PARSE_ERROR', `${spec.file}: record ${record} ${reason}`, { file: spec.file, record });
        skipped++;
        if (skippedExamples.length < MAX_EXAMPLES) skippedExamples.push({ record, reason });
        continue;
      }
      labels[rows * L + cls] = 1;
    } else {
      for (let k = 0; k < L; k++) labels[rows * L + k] = labelRow[k];
    }
    kept[rows] = records[r];
    rows++;
  }
  return {
    features: rows === n ? features : features.slice(0, rows * F),
    labels: rows === n ? labels : labels.slice(0, rows * L),
    records: rows === n ? kept : kept.slice(0, rows),
    rows,
    skipped,
    skippedExamples,
  };
}

function missingValue(f: CompiledField, isLabel: boolean, spec: ParseSpec): number {
  if (f.onMissing === 'fill') return f.fill;
  if (f.onMissing === 'error') throw new Malformed(`is missing ${f.name} (a required column)`, true, true);
  if (isLabel) throw new Malformed(`has no label (${f.name})`);
  if (spec.missing === 'fill') return f.fill;
  throw new Malformed(`is missing ${f.name}`, true);
}

/** A time feature of record r (a record without a time, unparsable in the index, has it missing). */
function timeValue(f: CompiledField, times: Float64Array | undefined, r: number, spec: ParseSpec): number {
  if (times === undefined || f.time === undefined) throw new SeekdataError('WORKER_ERROR', `${spec.file}: a parse job with time features came without the records' times`, { file: spec.file });
  const v = timeFeature(times[r], f.time, spec.timeZone);
  return Number.isNaN(v) ? missingValue(f, false, spec) : v;
}

/** tf.data.csv's boolean: 1 for `1` or `true` (any case), else 0. */
function boolean(value: string): number {
  return value === '1' || value.toLowerCase() === 'true' ? 1 : 0;
}

const vocabMaps = new WeakMap<string[], Map<string, number>>();

function category(f: CompiledField, value: string, isLabel: boolean): number {
  const vocab = f.vocab ?? [];
  let map = vocabMaps.get(vocab);
  if (map === undefined) {
    map = new Map(vocab.map((v, i) => [v, i]));
    vocabMaps.set(vocab, map);
  }
  const id = map.get(value);
  if (id !== undefined) return id;
  if (isLabel) throw new Malformed(`label ${f.name} has an unknown category ${JSON.stringify(value)}`);
  return vocab.length;
}
