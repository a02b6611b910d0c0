/** What the worker pool runs: plain data in, plain data (with transferable typed arrays) out. */
import { SeekdataError, deserializeError, isSerializedSeekdataError, type SerializedSeekdataError } from '../errors.js';
import { analyzeChunk, type AnalyzeSpec, type ChunkAnalysis } from '../index/records/analyze.js';
import { parseRecords, type ParsedRows, type ParseSpec } from '../datasets/parse.js';
import { runDecodeTask, type DecodeResult, type DecodeTask } from '../readers/decode-task.js';
import { concatBytes } from '../util.js';

/** Records of a decoded chunk to parse: spans relative to the chunk's bytes followed by its tail. */
export interface ChunkParse {
  spec: ParseSpec;
  spans: Uint32Array;
  records: Float64Array;
  tail: Uint8Array;
}

export type WorkerJob =
  /** Decode a chunk, and optionally analyse its records (the indexing pass) or parse them (datasets). */
  | { op: 'decode'; task: DecodeTask; analyze?: AnalyzeSpec | undefined; parse?: ChunkParse | undefined }
  /** Analyse bytes that need no decoding (plain files). */
  | { op: 'analyze'; bytes: Uint8Array; analyze: AnalyzeSpec }
  /** Parse records given as bytes and spans. */
  | { op: 'parse'; bytes: Uint8Array; spans: Uint32Array; records: Float64Array; spec: ParseSpec };

export interface JobResult extends DecodeResult {
  analysis?: ChunkAnalysis | undefined;
  parsed?: ParsedRows | undefined;
}

/** Parses a chunk's records (the chunk's bytes joined to its tail). */
export function parseChunk(bytes: Uint8Array, parse: ChunkParse): ParsedRows {
  return parseRecords(parse.tail.length > 0 ? concatBytes([bytes, parse.tail]) : bytes, parse.spans, parse.records, parse.spec);
}

export type JobResponse = { ok: true; result: JobResult } | { ok: false; error: SerializedSeekdataError | { message: string } };

/** Runs a job in the current thread; used by the worker entry and by the inline (parallelism 1) path. */
export function runJob(job: WorkerJob): JobResult {
  switch (job.op) {
    case 'decode': {
      const result: JobResult = runDecodeTask(job.task);
      if (job.analyze !== undefined) result.analysis = analyzeChunk(result.bytes, job.analyze);
      if (job.parse !== undefined) {
        result.parsed = parseChunk(result.bytes, job.parse);
        // The caller wanted rows, not bytes: do not send the chunk back.
        result.bytes = new Uint8Array(0);
      }
      return result;
    }
    case 'analyze':
      return { bytes: job.bytes, endBit: 0, crc: 0, analysis: analyzeChunk(job.bytes, job.analyze) };
    case 'parse':
      return { bytes: new Uint8Array(0), endBit: 0, crc: 0, parsed: parseRecords(job.bytes, job.spans, job.records, job.spec) };
  }
}

/** The typed arrays of a result whose buffers can be transferred back to the caller. */
export function transferables(result: JobResult): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (view: { buffer: ArrayBufferLike } | undefined): void => {
    if (view !== undefined && view.buffer instanceof ArrayBuffer) out.add(view.buffer);
  };
  add(result.bytes);
  add(result.analysis?.starts);
  add(result.analysis?.times);
  add(result.analysis?.stats);
  add(result.parsed?.features);
  add(result.parsed?.labels);
  add(result.parsed?.records);
  return [...out];
}

export function toResponse(run: () => JobResult): JobResponse {
  try {
    return { ok: true, result: run() };
  } catch (error) {
    if (error instanceof SeekdataError) return { ok: false, error: error.toJSON() };
    return { ok: false, error: { message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } };
  }
}

export function fromResponse(response: JobResponse): JobResult {
  if (response.ok) return response.result;
  if (isSerializedSeekdataError(response.error)) throw deserializeError(response.error);
  throw new SeekdataError('WORKER_ERROR', `worker job failed: ${response.error.message}`);
}
