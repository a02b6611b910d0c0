/** Getting parsed rows: of whole chunks (decode and parse in one worker job), or of chosen records. */
import { SeekdataError } from '../errors.js';
import type { IndexedFile } from '../index/indexed-file.js';
import { parseRecords, type ParsedRows, type ParseSpec } from './parse.js';
import type { SlotOps } from './window.js';

export interface ChunkRows {
  rows: ParsedRows;
  /** First record starting in the chunk. */
  first: number;
  /** Row of record `first + k`, or -1 when the record was skipped. */
  rowOf: Int32Array;
}

function emptyRows(): ParsedRows {
  return { features: new Float32Array(0), labels: new Float32Array(0), records: new Float64Array(0), rows: 0, skipped: 0, skippedExamples: [] };
}

/** Concatenates parsed rows (same spec) and orders them by record number. */
function mergeRows(parts: ParsedRows[], features: number, labels: number): ParsedRows {
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const order = parts.flatMap((p, i) => Array.from({ length: p.rows }, (_, k) => [p.records[k], i, k] as const)).sort((a, b) => a[0] - b[0]);
  const first = parts[0];
  const out: ParsedRows = {
    features: new Float32Array(rows * features),
    labels: first.labels instanceof Int32Array ? new Int32Array(rows * labels) : new Float32Array(rows * labels),
    records: new Float64Array(rows),
    rows,
    skipped: parts.reduce((n, p) => n + p.skipped, 0),
    skippedExamples: parts.flatMap((p) => p.skippedExamples).slice(0, 5),
  };
  order.forEach(([record, i, k], row) => {
    out.features.set(parts[i].features.subarray(k * features, (k + 1) * features), row * features);
    out.labels.set(parts[i].labels.subarray(k * labels, (k + 1) * labels), row * labels);
    out.records[row] = record;
  });
  return out;
}

export function labelWidthOf(spec: ParseSpec): number {
  return spec.oneHot > 0 ? spec.oneHot : spec.labels.length;
}

/**
 * The records starting in `chunk`, parsed (the chunk is decoded and parsed in one worker job); only those
 * in [range.first, range.end) when a range is given (a chunk's share of a shard).
 */
export async function loadChunkRows(file: IndexedFile, chunk: number, spec: ParseSpec, signal?: AbortSignal, range?: { first: number; end: number }): Promise<ChunkRows> {
  // A loaded index's tail is checked against the data once before use (else the record is read whole).
  await file.records.verifyTail(chunk);
  const all = file.records.chunkSpans(chunk);
  const whole = file.records.recordsOf(chunk);
  const first = range?.first ?? whole.first;
  const end = range?.end ?? whole.end;
  let { records, spans } = all;
  if (range !== undefined) {
    let lo = 0;
    while (lo < records.length && records[lo] < first) lo++;
    let hi = lo;
    while (hi < records.length && records[hi] < end) hi++;
    records = records.slice(lo, hi);
    spans = spans.slice(2 * lo, 2 * hi);
  }
  const long = all.long.filter((r) => r >= first && r < end);
  let rows = emptyRows();
  if (records.length > 0) {
    const decoded = await file.reader.decodeWith(chunk, { parse: { spec, spans, records, tail: all.tail } }, signal);
    if (decoded.parsed === undefined) throw new SeekdataError('WORKER_ERROR', `${file.name}: chunk ${chunk} came back without parsed rows`, { file: file.name });
    rows = decoded.parsed;
  }
  if (long.length > 0) {
    // Records longer than a stored tail: read them whole and parse them here.
    const parts = [rows];
    for (const r of long) {
      const bytes = await file.records.get(r);
      parts.push(parseRecords(bytes, Uint32Array.of(0, bytes.length), Float64Array.of(r), spec));
    }
    rows = mergeRows(parts, spec.features.length, labelWidthOf(spec));
  }
  const rowOf = new Int32Array(end - first).fill(-1);
  for (let k = 0; k < rows.rows; k++) rowOf[rows.records[k] - first] = k;
  return { rows, first, rowOf };
}

/** Chosen records (any order), parsed in one worker job; rows come back in the order given, skipped ones left out. */
export async function loadRecordRows(file: IndexedFile, numbers: ArrayLike<number>, spec: ParseSpec, signal?: AbortSignal): Promise<ParsedRows> {
  if (numbers.length === 0) return emptyRows();
  const contents = await file.records.getMany(numbers);
  let total = 0;
  for (const c of contents) total += c.length;
  const bytes = new Uint8Array(total);
  const spans = new Uint32Array(2 * contents.length);
  let at = 0;
  contents.forEach((c, k) => {
    bytes.set(c, at);
    spans[2 * k] = at;
    at += c.length;
    spans[2 * k + 1] = at;
  });
  const records = Float64Array.from(numbers);
  const result = await file.reader.runner.run({ op: 'parse', bytes, spans, records, spec }, signal, [bytes.buffer]);
  if (result.parsed === undefined) throw new SeekdataError('WORKER_ERROR', `${file.name}: parse job came back without rows`, { file: file.name });
  return result.parsed;
}

/**
 * Parsed rows as a window holds them (window.ts): rows in record order, found by binary search, compacted
 * to the records still to draw.
 */
export function parsedRowsOps(features: number, labelWidth: number): SlotOps<ParsedRows> {
  return {
    held: (rows) => rows.rows,
    bytes: (rows) => rows.features.byteLength + rows.labels.byteLength + rows.records.byteLength,
    compact(rows, keep) {
      // Plain loops over the kept rows: a subarray view per row would cost more than the copy itself.
      const kept = new Int32Array(rows.rows);
      let n = 0;
      for (let r = 0; r < rows.rows; r++) if (keep(rows.records[r])) kept[n++] = r;
      const out: ParsedRows = {
        features: new Float32Array(n * features),
        labels: rows.labels instanceof Int32Array ? new Int32Array(n * labelWidth) : new Float32Array(n * labelWidth),
        records: new Float64Array(n),
        rows: n,
        skipped: rows.skipped,
        skippedExamples: rows.skippedExamples,
      };
      copyRows(rows.features, out.features, kept, n, features);
      copyRows(rows.labels, out.labels, kept, n, labelWidth);
      for (let k = 0; k < n; k++) out.records[k] = rows.records[kept[k]];
      return out;
    },
  };
}

/** Copies rows `rows[0..n)` of `from` (row-major, `width` values per row) to rows 0..n of `to`. */
function copyRows(from: Float32Array | Int32Array, to: Float32Array | Int32Array, rows: Int32Array, n: number, width: number): void {
  for (let k = 0; k < n; k++) {
    const a = rows[k] * width;
    const b = k * width;
    for (let j = 0; j < width; j++) to[b + j] = from[a + j];
  }
}
