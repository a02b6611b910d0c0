/** Getting parsed rows: of whole chunks (decode and parse in one worker job), or of chosen records. */
import { SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { watchMap } from './map-clock.js';
import { emptyRows, type ParsedRows, type ParseSpec } from './parse.js';
import { parseStep } from './steps.js';
import { relocateError } from './record-place.js';

export interface ChunkRows {
  rows: ParsedRows;
  /** First record starting in the chunk. */
  first: number;
  /** Row of record `first + k`, or -1 when the record was skipped. */
  rowOf: Int32Array;
}

/** Concatenates parsed rows (same spec) and orders them by record number. */
function mergeRows(parts: ParsedRows[], features: number, labels: number, intLabels: boolean): ParsedRows {
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const order = parts.flatMap((p, i) => Array.from({ length: p.rows }, (_, k) => [p.records[k], i, k] as const)).sort((a, b) => a[0] - b[0]);
  const out: ParsedRows = {
    features: new Float32Array(rows * features),
    labels: intLabels ? new Int32Array(rows * labels) : new Float32Array(rows * labels),
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

/** The times of `records` for a parse job, when its spec uses them (time features, a map) and the file has them. */
function timesFor(file: Indexed, spec: ParseSpec, records: ArrayLike<number>): Float64Array | undefined {
  const time = file.time;
  if (time === undefined) return undefined;
  const fields = spec.map?.input.features ?? spec.features;
  if (spec.map === undefined && !fields.some((f) => f.time !== undefined)) return undefined;
  return Float64Array.from(records, (r) => time.timeOf(r));
}

export function labelWidthOf(spec: ParseSpec): number {
  return spec.oneHot > 0 ? spec.oneHot : spec.labels.length;
}

/** Which records of a chunk to parse: those in [first, end), or (`only`) just the listed ones among them. */
export interface RecordSelection {
  first: number;
  end: number;
  /** Ascending record numbers in [first, end): only these are parsed (the rows of others are never built). */
  only?: ArrayLike<number> | undefined;
}

/** The spans (and record numbers) of `records` that `selection` keeps. */
function selectSpans(records: Float64Array, spans: Uint32Array, selection: RecordSelection): { records: Float64Array; spans: Uint32Array } {
  const { first, end, only } = selection;
  if (only === undefined) {
    let lo = 0;
    while (lo < records.length && records[lo] < first) lo++;
    let hi = lo;
    while (hi < records.length && records[hi] < end) hi++;
    return { records: records.slice(lo, hi), spans: spans.slice(2 * lo, 2 * hi) };
  }
  // Both lists ascend: one merge.
  const outRecords = new Float64Array(only.length);
  const outSpans = new Uint32Array(2 * only.length);
  let n = 0;
  let k = 0;
  for (let j = 0; j < records.length && k < only.length; j++) {
    while (k < only.length && only[k] < records[j]) k++;
    if (k < only.length && only[k] === records[j]) {
      outRecords[n] = records[j];
      outSpans[2 * n] = spans[2 * j];
      outSpans[2 * n + 1] = spans[2 * j + 1];
      n++;
      k++;
    }
  }
  return { records: outRecords.slice(0, n), spans: outSpans.slice(0, 2 * n) };
}

/** Whether ascending `only` holds `record` (binary search). */
function listed(only: ArrayLike<number>, record: number): boolean {
  let lo = 0;
  let hi = only.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (only[mid] === record) return true;
    if (only[mid] < record) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * The records starting in `chunk`, parsed (the chunk is decoded and parsed in one worker job); only those
 * in [range.first, range.end) when a range is given (a chunk's share of a shard), and only the records of
 * `range.only` when it is given (the records of an exact-shuffle round).
 */
export async function loadChunkRows(file: Indexed, chunk: number, spec: ParseSpec, signal?: AbortSignal, range?: RecordSelection): Promise<ChunkRows> {
  // A loaded index's tail is checked against the data once before use (else the record is read whole).
  await file.records.verifyTail(chunk);
  const all = file.records.chunkSpans(chunk);
  const whole = file.records.recordsOf(chunk);
  const first = range?.first ?? whole.first;
  const end = range?.end ?? whole.end;
  const { records, spans } = range === undefined ? all : selectSpans(all.records, all.spans, range);
  const only = range?.only;
  const long = all.long.filter((r) => r >= first && r < end && (only === undefined || listed(only, r)));
  let rows = emptyRows();
  if (records.length > 0) {
    // The rows, not the bytes: the chunk's bytes stay in the worker.
    const times = timesFor(file, spec, records);
    // A map with a time limit: the job carries its clock, and is stopped (its thread terminated) past the
    // limit, or in a call once the file closes or the caller's epoch is left (`signal`).
    const watch = watchMap(spec.file, spec.map, { closing: file.closing, left: signal });
    // The job decodes the whole chunk (also when only some of its records are parsed): while the previous
    // chunk's stored tail is unchecked, the chunk's first bytes come back too and check it, so that the
    // tail check needs no decode of this chunk of its own (RecordIndex.headComing).
    const head = file.records.headSpan(chunk);
    const work = { step: parseStep.call({ spec, spans, records, tail: all.tail, times, clock: watch.clock, head, lineStarts: true, startsFile: all.startsFile, fileEnd: all.fileEnd }), keepBytes: false, stop: watch.stop };
    const decoding = file.reader
      .decodeWith(chunk, work, signal)
      .catch((error: unknown) => {
        throw relocateError(file, watch.failure(error));
      })
      .finally(watch.done);
    const headChecked = head > 0 ? file.records.headComing(chunk, decoding.then((d) => (d.step === undefined ? undefined : parseStep.result(d.step).head), () => undefined)) : undefined;
    const decoded = await decoding;
    if (decoded.step === undefined) throw new SeekdataError('WORKER_ERROR', `${file.name}: chunk ${chunk} came back without parsed rows`, { file: file.name });
    // A stored tail that differs from the data is a damaged or crafted index: this load reports it.
    await headChecked;
    const parsed = parseStep.result(decoded.step);
    if (parsed.misplaced !== undefined) await misplaced(file, parsed.misplaced);
    rows = parsed.rows;
  }
  if (long.length > 0) {
    // Records longer than a stored tail: read them whole and parse them in a job of their own.
    rows = mergeRows([rows, await loadRecordRows(file, long, spec, signal)], spec.features.length, labelWidthOf(spec), spec.labelType === 'int32' && spec.oneHot === 0);
  }
  const rowOf = new Int32Array(end - first).fill(-1);
  for (let k = 0; k < rows.rows; k++) rowOf[rows.records[k] - first] = k;
  return { rows, first, rowOf };
}

/**
 * Reports record `record`, whose span in its chunk does not start or end a line, or holds more than one record
 * (a damaged or crafted index): `get` reads it with the byte before it and throws its CORRUPT_INDEX, naming the
 * index file.
 */
export async function misplaced(file: Indexed, record: number): Promise<never> {
  await file.records.get(record);
  throw new SeekdataError('CORRUPT_INDEX', `${file.name}: record ${record} does not start and end at line ends or holds more than one record`, { file: file.name, record });
}

/** Chosen records (any order), parsed in one worker job; rows come back in the order given, skipped ones left out. */
export async function loadRecordRows(file: Indexed, numbers: ArrayLike<number>, spec: ParseSpec, signal?: AbortSignal): Promise<ParsedRows> {
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
  const times = timesFor(file, spec, records);
  const watch = watchMap(spec.file, spec.map, { closing: file.closing, left: signal });
  const job = { input: { kind: 'bytes' as const, bytes }, step: parseStep.call({ spec, spans, records, tail: new Uint8Array(0), times, clock: watch.clock }), keepBytes: false };
  const result = await file.reader.runner
    .run(job, signal, [bytes.buffer], watch.stop)
    .catch((error: unknown) => {
      throw relocateError(file, watch.failure(error));
    })
    .finally(watch.done);
  if (result.step === undefined) throw new SeekdataError('WORKER_ERROR', `${file.name}: parse job came back without rows`, { file: file.name });
  return parseStep.result(result.step).rows;
}
