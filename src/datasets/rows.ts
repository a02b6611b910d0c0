/** Getting parsed rows: of whole chunks (decode and parse in one worker job), or of chosen records. */
import { SeekdataError } from '../errors.js';
import type { IndexedFile } from '../index/indexed-file.js';
import { parseRecords, type ParsedRows, type ParseSpec } from './parse.js';

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

/** Every record starting in `chunk`, parsed (the chunk is decoded and parsed in one worker job). */
export async function loadChunkRows(file: IndexedFile, chunk: number, spec: ParseSpec, signal?: AbortSignal): Promise<ChunkRows> {
  // A loaded index's tail is checked against the data once before use (else the record is read whole).
  await file.records.verifyTail(chunk);
  const { records, spans, tail, long } = file.records.chunkSpans(chunk);
  const { first, end } = file.records.recordsOf(chunk);
  let rows = emptyRows();
  if (records.length > 0) {
    const decoded = await file.reader.decodeWith(chunk, { parse: { spec, spans, records, tail } }, signal);
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
