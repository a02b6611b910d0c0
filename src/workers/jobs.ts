/**
 * The worker job protocol: plain data in, plain data (with transferable typed arrays) out. A job takes an
 * input (a decode task of a named format, or bytes that need no decoding), and optionally runs a named
 * step on the decoded bytes in the same job (see registry.ts). It knows no format and no step itself.
 */
import { SeekdataError, deserializeError, isSerializedSeekdataError, type SerializedSeekdataError } from '../errors.js';
import { ownedBuffers } from './message.js';
import { decodeTask, runStep, type StepCall } from './registry.js';

export type JobInput =
  /** A unit to decode: `task` is plain data built by format `format`'s `task()`. */
  | { kind: 'decode'; format: string; task: unknown }
  /** Bytes that need no decoding (a plain file's span, a cached chunk, records to parse). */
  | { kind: 'bytes'; bytes: Uint8Array };

export interface WorkerJob {
  input: JobInput;
  /** Work run on the decoded bytes in the same job. */
  step?: StepCall | undefined;
  /** Whether the decoded bytes come back (default true). False when the caller wants only the step's result. */
  keepBytes?: boolean | undefined;
}

export interface JobResult {
  /** The decoded bytes, or an empty array when the job was asked not to keep them. */
  bytes: Uint8Array;
  /** Length of the decoded bytes (also when they were not kept). */
  length: number;
  /** The decoder's facts about the unit (`DecodeOutput.info`); undefined for bytes inputs. */
  info?: unknown;
  /** What the step returned, when the job had one. */
  step?: unknown;
}

const EMPTY = new Uint8Array(0);

/** Runs a job in the current thread; used by the worker entry and by the inline (parallelism 1) runner. */
export async function runJob(job: WorkerJob): Promise<JobResult> {
  const input = job.input;
  const decoded = input.kind === 'decode' ? await decodeTask(input.format, input.task) : { bytes: input.bytes, info: undefined };
  const result: JobResult = { bytes: job.keepBytes === false ? EMPTY : decoded.bytes, length: decoded.bytes.length };
  if (decoded.info !== undefined) result.info = decoded.info;
  // A step may be asynchronous (compressing with a binding that answers with a promise): awaited here.
  if (job.step !== undefined) result.step = await runStep(job.step, decoded.bytes);
  return result;
}

export type JobResponse = { ok: true; result: JobResult } | { ok: false; error: SerializedSeekdataError | { message: string } };

/** The buffers of a result that can be moved back to the caller (see `ownedBuffers`). */
export function transferables(result: JobResult): ArrayBuffer[] {
  return ownedBuffers(result);
}

export async function toResponse(run: () => Promise<JobResult>): Promise<JobResponse> {
  try {
    return { ok: true, result: await run() };
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
