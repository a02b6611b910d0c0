/**
 * The Arrow adapter. Records of a file — chosen ones, or a whole time range — become Arrow record
 * batches produced one at a time (read as in arrow-source.ts, with the next chunks decoding while a
 * batch converts; typed from the index as in arrow-columns.ts). On that one producer:
 * - `recordsToArrowBatches` / `timeRangeToArrowBatches`: the batches, for streaming consumers;
 * - `exportRecordsToArrow` / `exportTimeRangeToArrow`: written to an Arrow IPC file as they are produced
 *   (arrow-write.ts), so memory stays at a few batches whatever the range (plus, for scattered records,
 *   the reader's chunk cache, bounded by `cacheBytes`);
 * - `recordsToArrow` / `timeRangeToArrow`: collected into an in-memory `Table` (for small selections).
 * `batchToArrow` turns a parsed training batch into a Table; `writeArrowFile` writes a Table.
 */
import { Float32, Float64, Int32, RecordBatch, Schema, Table, vectorFromArray, type Vector } from 'apache-arrow';
import { invalidOption, SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { checkFunction, checkKnownKeys, checkNonNegativeInt, checkOneOf, checkPositiveInt } from '../options.js';
import { ARROW_EXPORT_OPTION_KEYS, ARROW_OPTION_KEYS, ARROW_WRITE_OPTION_KEYS, TIME_RANGE_ARROW_EXPORT_OPTION_KEYS, TIME_RANGE_ARROW_OPTION_KEYS } from '../option-keys.js';
import { planColumns, type ArrowPlan } from './arrow-columns.js';
import { BatchConverter, type ConvertCounts } from './arrow-rows.js';
import { numbersSource, rangeSource, readBatches, type RecordSource } from './arrow-source.js';
import { ARROW_TIME_UNITS, type ArrowTimeUnit } from './arrow-time.js';
import { writeArrowBatches, type ArrowIpcFormat } from './arrow-write.js';
import type { Batch } from './batch.js';

export type { ArrowTimeUnit } from './arrow-time.js';
export type { ArrowIpcFormat } from './arrow-write.js';

export interface ArrowProgress {
  /** Rows converted so far. */
  rows: number;
  /** Rows the export will have. */
  rowsTotal: number;
}

export interface ArrowOptions {
  /** Columns to include, in this order (CSV column names; JSONL dotted paths). Default: all. */
  columns?: string[];
  /** Rows per record batch (at most). Default 16,384. */
  batchRows?: number;
  /** Bytes of record text per record batch (at most 1 GiB; a batch has at least one row). Default 16 MiB. */
  batchBytes?: number;
  /**
   * Unit of the time column's Arrow Timestamp: `'s'`, `'ms'`, `'us'` or `'ns'`. Default: the file's
   * resolution (see the README); a value with finer non-zero digits than the unit is an error.
   */
  timeUnit?: ArrowTimeUnit;
  /** Called before the first batch and after each one. */
  onProgress?: (progress: ArrowProgress) => void;
}

export interface ArrowRangeOptions extends ArrowOptions {
  /** At most this many records (the first ones in time order). Default: all. */
  limit?: number;
}

export interface ArrowWriteOptions {
  /** `'file'` (default): the Arrow IPC file format; `'stream'`: the IPC stream format. */
  format?: ArrowIpcFormat;
}

/** Record batches of an export, produced as they are iterated (each iteration starts over). */
export interface ArrowBatches extends AsyncIterable<RecordBatch> {
  readonly schema: Schema;
  /** Rows the batches hold in all. */
  readonly rows: number;
  /** Present values of numeric columns that are not numbers (written as null), counted as batches are made. */
  readonly counts: ConvertCounts;
}

export interface ArrowExportResult {
  path: string;
  format: ArrowIpcFormat;
  rows: number;
  batches: number;
  /** Size of the written file. */
  bytes: number;
  columns: Array<{ name: string; type: string }>;
  /** Text found in numeric columns (written as null), and the first such value. */
  textInNumeric: number;
  firstTextInNumeric: ConvertCounts['firstTextInNumeric'];
}

const DEFAULTS = { batchRows: 16_384, batchBytes: 16 << 20 };

function checkOptions(options: ArrowRangeOptions & ArrowWriteOptions, keys: Readonly<Record<string, true>>, where: string): void {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  checkKnownKeys(options, keys, where);
  if (options.columns !== undefined && (!Array.isArray(options.columns) || options.columns.some((c) => typeof c !== 'string'))) {
    throw invalidOption('columns', 'an array of column names', options.columns);
  }
  if (options.batchRows !== undefined) checkPositiveInt('batchRows', options.batchRows);
  // Text columns address their bytes with 32-bit offsets: a batch's text stays far below 2 GiB.
  if (options.batchBytes !== undefined && checkPositiveInt('batchBytes', options.batchBytes) > 2 ** 30) throw invalidOption('batchBytes', 'a positive integer up to 2^30 (1 GiB)', options.batchBytes);
  if (options.timeUnit !== undefined) checkOneOf('timeUnit', options.timeUnit, ARROW_TIME_UNITS);
  if (options.onProgress !== undefined) checkFunction('onProgress', options.onProgress);
  if (options.limit !== undefined) checkNonNegativeInt('limit', options.limit);
  if (options.format !== undefined) checkOneOf('format', options.format, ['file', 'stream']);
}

function produce(file: Indexed, source: RecordSource, options: ArrowOptions): ArrowBatches {
  const plan: ArrowPlan = planColumns(file, options, (visit) => source.times(visit));
  const limits = { rows: options.batchRows ?? DEFAULTS.batchRows, bytes: options.batchBytes ?? DEFAULTS.batchBytes };
  const counts: ConvertCounts = { textInNumeric: 0, firstTextInNumeric: undefined };
  async function* batches(): AsyncGenerator<RecordBatch> {
    const converter = new BatchConverter(plan, file.options.delimiter.charCodeAt(0), file.options.quoting, counts);
    let done = 0;
    options.onProgress?.({ rows: 0, rowsTotal: source.count });
    for await (const { numbers, contents } of readBatches(file, source, limits)) {
      const batch = converter.convert(contents, numbers);
      done += numbers.length;
      options.onProgress?.({ rows: done, rowsTotal: source.count });
      yield batch;
    }
  }
  return { schema: plan.schema, rows: source.count, counts, [Symbol.asyncIterator]: batches };
}

/** The records given (by number, in that order) as Arrow record batches. */
export function recordsToArrowBatches(file: Indexed, numbers: ArrayLike<number>, options: ArrowOptions = {}): ArrowBatches {
  checkOptions(options, ARROW_OPTION_KEYS, 'recordsToArrowBatches');
  return produce(file, numbersSource(file, numbers), options);
}

/** The records with time in [from, to), in time order, as Arrow record batches. */
export function timeRangeToArrowBatches(file: Indexed, from: number | Date, to: number | Date, options: ArrowRangeOptions = {}): ArrowBatches {
  checkOptions(options, TIME_RANGE_ARROW_OPTION_KEYS, 'timeRangeToArrowBatches');
  return produce(file, rangeSource(file, from, to, options.limit), options);
}

async function collect(batches: ArrowBatches): Promise<Table> {
  const all: RecordBatch[] = [];
  for await (const b of batches) all.push(b);
  return new Table(batches.schema, all);
}

/** Records (by number, in the order given) as an in-memory Arrow Table. */
export async function recordsToArrow(file: Indexed, numbers: ArrayLike<number>, options: ArrowOptions = {}): Promise<Table> {
  checkOptions(options, ARROW_OPTION_KEYS, 'recordsToArrow');
  await file.prepare();
  return collect(recordsToArrowBatches(file, numbers, options));
}

/** The records with time in [from, to), in time order, as an in-memory Arrow Table. */
export async function timeRangeToArrow(file: Indexed, from: number | Date, to: number | Date, options: ArrowRangeOptions = {}): Promise<Table> {
  checkOptions(options, TIME_RANGE_ARROW_OPTION_KEYS, 'timeRangeToArrow');
  // A collection opened from its manifest opens the files of the range only.
  await file.prepare({ from, to });
  return collect(timeRangeToArrowBatches(file, from, to, options));
}

async function exportBatches(batches: ArrowBatches, path: string, options: ArrowWriteOptions): Promise<ArrowExportResult> {
  const format = options.format ?? 'file';
  const written = await writeArrowBatches(batches.schema, batches, path, format);
  return {
    path,
    format,
    rows: written.rows,
    batches: written.batches,
    bytes: written.bytes,
    columns: batches.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })),
    textInNumeric: batches.counts.textInNumeric,
    firstTextInNumeric: batches.counts.firstTextInNumeric,
  };
}

/** Writes the records given (by number, in that order) to an Arrow IPC file, batch by batch, atomically. */
export async function exportRecordsToArrow(file: Indexed, numbers: ArrayLike<number>, path: string, options: ArrowOptions & ArrowWriteOptions = {}): Promise<ArrowExportResult> {
  checkOptions(options, ARROW_EXPORT_OPTION_KEYS, 'exportRecordsToArrow');
  await file.prepare();
  return exportBatches(produce(file, numbersSource(file, numbers), options), path, options);
}

/** Writes the records with time in [from, to), in time order, to an Arrow IPC file, batch by batch, atomically. */
export async function exportTimeRangeToArrow(file: Indexed, from: number | Date, to: number | Date, path: string, options: ArrowRangeOptions & ArrowWriteOptions = {}): Promise<ArrowExportResult> {
  checkOptions(options, TIME_RANGE_ARROW_EXPORT_OPTION_KEYS, 'exportTimeRangeToArrow');
  await file.prepare({ from, to });
  return exportBatches(produce(file, rangeSource(file, from, to, options.limit), options), path, options);
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
 * Writes a Table as Arrow IPC (file format by default), atomically; returns the file's size. Rejects with
 * `IO_ERROR` naming the path when it cannot be written (a directory, a missing parent directory, no
 * permission, a full disk); the parent directory is not created.
 */
export async function writeArrowFile(table: Table, path: string, options: ArrowWriteOptions = {}): Promise<number> {
  checkOptions(options, ARROW_WRITE_OPTION_KEYS, 'writeArrowFile');
  return (await writeArrowBatches(table.schema, table.batches, path, options.format ?? 'file')).bytes;
}
