/**
 * The Arrow adapter: records of a file (chosen ones, or a whole time range) as an Apache Arrow Table
 * with the file's column names and types from its index (numbers as Int32 or Float64, text as Utf8,
 * the time column as Timestamp[ms], missing values as nulls), and a parsed batch as a Table of Float32
 * features and labels. `tableToIPC` / `writeArrowFile` write the Arrow IPC file format.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Float32, Float64, Int32, Table, tableToIPC, TimestampMillisecond, Utf8, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { SeekdataError } from '../errors.js';
import { checkKnownKeys } from '../options.js';
import { ARROW_OPTION_KEYS, TIME_RANGE_ARROW_OPTION_KEYS } from '../option-keys.js';
import type { IndexedFile } from '../index/indexed-file.js';
import { splitRecord } from '../index/records/csv.js';
import { isMissing, parseNumber } from '../index/records/numbers.js';
import type { Batch } from './batch.js';

export interface ArrowOptions {
  /** Columns to include (names; JSONL dotted paths). Default: all. */
  columns?: string[];
}

type Kind = 'time' | 'int' | 'float' | 'text';

function columnKinds(file: IndexedFile, names: string[]): Kind[] {
  const stats = new Map(file.stats.map((s) => [s.name, s]));
  const timeColumn = file.options.timeColumn;
  const timeName = typeof timeColumn === 'number' ? file.columns[timeColumn] : timeColumn;
  return names.map((name) => {
    if (name === timeName && file.time !== undefined) return 'time';
    const s = stats.get(name);
    if (s === undefined || !s.numeric) return 'text';
    const int32 = s.integer && (s.min ?? 0) >= -(2 ** 31) && (s.max ?? 0) < 2 ** 31;
    return int32 ? 'int' : 'float';
  });
}

const encoder = new TextEncoder();

/** Records (by number, in the order given) as an Arrow Table. */
export async function recordsToArrow(file: IndexedFile, numbers: ArrayLike<number>, options: ArrowOptions = {}): Promise<Table> {
  checkKnownKeys(options, ARROW_OPTION_KEYS, 'recordsToArrow');
  const kind = file.options.kind;
  if (kind === 'lines') throw new SeekdataError('INVALID_OPTION', `${file.name}: Arrow export needs records with fields (csv or jsonl)`, { file: file.name });
  const all = kind === 'csv' ? file.columns : file.stats.map((s) => s.name);
  const names = options.columns ?? all;
  for (const name of names) {
    if (!all.includes(name)) throw new SeekdataError('INVALID_OPTION', `${file.name}: no column ${JSON.stringify(name)} (columns: ${all.join(', ')})`, { file: file.name });
  }
  const kinds = columnKinds(file, names);
  const positions = names.map((n) => all.indexOf(n));
  const values: Array<Array<number | string | null>> = names.map(() => []);
  const delimiter = file.options.delimiter.charCodeAt(0);
  const decoder = new TextDecoder();
  const batch = 8192;
  for (let at = 0; at < numbers.length; at += batch) {
    const part = Array.from({ length: Math.min(batch, numbers.length - at) }, (_, k) => numbers[at + k]);
    const contents = await file.records.getMany(part);
    contents.forEach((bytes, k) => {
      const record = part[k];
      let fields: Array<unknown>;
      if (kind === 'csv') fields = splitRecord(bytes, delimiter, file.options.quoting);
      else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(decoder.decode(bytes));
        } catch {
          parsed = undefined;
        }
        fields = names.map((name) => {
          let v: unknown = parsed;
          for (const key of name.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
          return v;
        });
      }
      names.forEach((_, c) => {
        const raw = kind === 'csv' ? fields[positions[c]] : fields[c];
        values[c].push(convert(kinds[c], raw, record, file));
      });
    });
  }
  const types: Record<Kind, () => DataType> = { time: () => new TimestampMillisecond(), int: () => new Int32(), float: () => new Float64(), text: () => new Utf8() };
  const vectors: Record<string, Vector> = {};
  names.forEach((name, c) => {
    vectors[name] = vectorFromArray(values[c], types[kinds[c]]());
  });
  return new Table(vectors);
}

function convert(kind: Kind, raw: unknown, record: number, file: IndexedFile): number | string | null {
  if (kind === 'time') {
    const t = file.time?.timeOf(record) ?? NaN;
    return Number.isNaN(t) ? null : t;
  }
  if (raw === undefined || raw === null) return null;
  if (kind === 'text') return typeof raw === 'string' ? raw : JSON.stringify(raw);
  if (typeof raw === 'number') return raw;
  const text = String(raw);
  const bytes = encoder.encode(text);
  if (isMissing(bytes, 0, bytes.length)) return null;
  const v = parseNumber(bytes, 0, bytes.length);
  return Number.isNaN(v) ? null : v;
}

/** The records with time in [from, to), in time order, as an Arrow Table. */
export async function timeRangeToArrow(file: IndexedFile, from: number | Date, to: number | Date, options: ArrowOptions & { limit?: number } = {}): Promise<Table> {
  checkKnownKeys(options, TIME_RANGE_ARROW_OPTION_KEYS, 'timeRangeToArrow');
  const { limit, ...arrowOptions } = options;
  return recordsToArrow(file, file.range(from, to, limit), arrowOptions);
}

/** A parsed batch as an Arrow Table: one Float32 column per feature, the labels, and the record numbers. */
export function batchToArrow(batch: Batch, featureNames: string[], labelNames: string[] = []): Table {
  if (batch.xsShape.length !== 2) throw new SeekdataError('INVALID_OPTION', 'batchToArrow takes row batches ([rows, features]), not windows');
  const F = featureNames.length;
  const vectors: Record<string, Vector> = {};
  featureNames.forEach((name, k) => {
    vectors[name] = vectorFromArray(Array.from({ length: batch.size }, (_, r) => batch.xs[r * F + k]), new Float32());
  });
  const ys = batch.ys;
  const width = batch.ysShape[1] ?? 0;
  if (ys !== undefined) {
    for (let k = 0; k < width; k++) {
      const name = width === labelNames.length ? labelNames[k] : `${labelNames[0] ?? 'label'}_${k}`;
      const column = Array.from({ length: batch.size }, (_, r) => ys[r * width + k]);
      vectors[name] = ys instanceof Int32Array ? vectorFromArray(column, new Int32()) : vectorFromArray(column, new Float32());
    }
  }
  vectors.record = vectorFromArray(Array.from(batch.records), new Float64());
  return new Table(vectors);
}

/**
 * Writes a Table as an Arrow IPC file. Rejects with `IO_ERROR` naming the path when it cannot be written (a
 * directory, a missing parent directory, no permission, a full disk); the parent directory is not created.
 */
export async function writeArrowFile(table: Table, path: string): Promise<number> {
  const bytes = tableToIPC(table, 'file');
  try {
    await writeFile(path, bytes);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR'
        ? 'it is a directory (give a file name)'
        : code === 'ENOENT'
          ? `its directory ${dirname(resolve(path))} does not exist`
          : code === 'ENOTDIR'
            ? 'a part of its directory path is not a directory'
            : code === 'EACCES' || code === 'EPERM'
              ? 'permission denied'
              : (code ?? String(cause));
    throw new SeekdataError('IO_ERROR', `${path}: cannot write the Arrow file: ${why}`, { file: path, cause });
  }
  return bytes.length;
}
