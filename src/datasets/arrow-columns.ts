/**
 * The Arrow schema of an export, decided from the index before any record is read (a stream's schema
 * comes first): the time column as a Timestamp in the file's resolution (arrow-time.ts); numeric columns
 * as Int32 / Int64 (integers, by their range) or Float64 from the column statistics; text columns as
 * `Dictionary<Int32, Utf8>` over the categories the index collected when those cover every text value of
 * the column, plain Utf8 otherwise (too many distinct values, numbers mixed in, no statistics).
 */
import { Dictionary, Field, Float64, Int32, Int64, Schema, TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, Utf8, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { zoneOffsets } from '../index/records/time.js';
import { chooseTimeUnit, TimeConverter, type ArrowTimeUnit } from './arrow-time.js';

export type ColumnKind = 'time' | 'int32' | 'int64' | 'float64' | 'utf8' | 'dictionary';

/** Category lookup: by a key made from the value's bytes (CSV) or by the string (JSONL). */
export interface CategoryLookup {
  vector: Vector<Utf8>;
  byKey: Map<number | string, number>;
  byString: Map<string, number>;
}

export interface ColumnPlan {
  name: string;
  kind: ColumnKind;
  type: DataType;
  /** CSV: the field's position in a record. */
  position: number;
  /** JSONL: the field's key path. */
  path: string[];
  categories: CategoryLookup | undefined;
}

export interface ArrowPlan {
  fileName: string;
  recordKind: 'csv' | 'jsonl';
  columns: ColumnPlan[];
  schema: Schema;
  /** The converter of the time column, when one is exported. */
  time: TimeConverter | undefined;
}

export interface PlanOptions {
  columns?: string[] | undefined;
  timeUnit?: ArrowTimeUnit | undefined;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The lookup key of a value's bytes: values of up to 6 bytes are packed into a number (no string made),
 * longer ones are their text.
 */
export function valueKey(bytes: Uint8Array, start: number, end: number): number | string {
  const n = end - start;
  if (n > 6) return decoder.decode(bytes.subarray(start, end));
  let key = n * 2 ** 48;
  for (let i = start, f = 1; i < end; i++, f *= 256) key += bytes[i] * f;
  return key;
}

function lookupOf(values: string[]): CategoryLookup {
  const byKey = new Map<number | string, number>();
  const byString = new Map<string, number>();
  values.forEach((value, id) => {
    const bytes = encoder.encode(value);
    byKey.set(valueKey(bytes, 0, bytes.length), id);
    byString.set(value, id);
  });
  return { vector: vectorFromArray(values, new Utf8()), byKey, byString };
}

const TIMESTAMP: Record<ArrowTimeUnit, () => DataType> = {
  s: () => new TimestampSecond(),
  ms: () => new TimestampMillisecond(),
  us: () => new TimestampMicrosecond(),
  ns: () => new TimestampNanosecond(),
};

/**
 * The plan for exporting `file`'s records; `times` visits the epoch-ms times of the records to export
 * (from the time index: nothing is decoded) for the choice of the time unit.
 */
export function planColumns(file: Indexed, options: PlanOptions, times: (visit: (t: number) => boolean) => void): ArrowPlan {
  const kind = file.options.kind;
  if (kind === 'lines') throw new SeekdataError('INVALID_OPTION', `${file.name}: Arrow export needs records with fields (csv or jsonl)`, { file: file.name });
  const all = kind === 'csv' ? file.columns : file.stats.map((s) => s.name);
  const names = options.columns ?? all;
  if (names.length === 0) throw new SeekdataError('INVALID_OPTION', `${file.name}: no columns to export (a JSONL index built without statistics knows no fields)`, { file: file.name });
  for (const name of names) {
    if (!all.includes(name)) throw new SeekdataError('INVALID_OPTION', `${file.name}: no column ${JSON.stringify(name)} (columns: ${all.join(', ')})`, { file: file.name });
  }
  if (new Set(names).size !== names.length) throw new SeekdataError('INVALID_OPTION', `${file.name}: options.columns names a column twice`, { file: file.name });
  const stats = new Map(file.stats.map((s) => [s.name, s]));
  const timeColumn = file.options.timeColumn;
  const timeName = typeof timeColumn === 'number' ? file.columns[timeColumn] : timeColumn;
  const format = file.report.time?.format;
  let time: TimeConverter | undefined;
  const columns = names.map((name): ColumnPlan => {
    const base = { name, position: all.indexOf(name), path: name.split('.'), categories: undefined };
    if (name === timeName && file.time !== undefined && format !== undefined && format !== 'function') {
      const unit = options.timeUnit ?? chooseTimeUnit(format, times);
      time = new TimeConverter(format, unit, zoneOffsets(file.options.timeZone), file.name);
      return { ...base, kind: 'time', type: TIMESTAMP[unit]() };
    }
    const s = stats.get(name);
    if (s !== undefined && s.numeric) {
      const min = s.min ?? 0;
      const max = s.max ?? 0;
      if (s.integer && min >= -(2 ** 31) && max < 2 ** 31) return { ...base, kind: 'int32', type: new Int32() };
      if (s.integer && min >= -(2 ** 63) && max < 2 ** 63) return { ...base, kind: 'int64', type: new Int64() };
      return { ...base, kind: 'float64', type: new Float64() };
    }
    // The categories cover every text value when every present value is text and their counts add up
    // to the text values counted (JSONL arrays are text without a category).
    const covered = s !== undefined && s.categories !== null && s.count === 0 && s.categories.reduce((n, c) => n + c.count, 0) === s.nonNumeric;
    if (covered && s.categories !== null) {
      return { ...base, kind: 'dictionary', type: new Dictionary(new Utf8(), new Int32()), categories: lookupOf(s.categories.map((c) => c.value)) };
    }
    return { ...base, kind: 'utf8', type: new Utf8() };
  });
  const schema = new Schema(columns.map((c) => new Field(c.name, c.type, true)));
  // The Field holds the dictionary type; keep the same instance in the plan (its id ties batches to the dictionary).
  schema.fields.forEach((f, k) => {
    columns[k].type = f.type as DataType;
  });
  return { fileName: file.name, recordKind: kind, columns, schema, time };
}
