/**
 * The worker job protocol: plain data in, plain data (with transferable typed arrays) out. A job takes an
 * input (a decode task of a named format, or bytes that need no decoding), and optionally runs a named
 * step on the decoded bytes in the same job (see registry.ts). It knows no format and no step itself.
 */
import { SeekdataError, deserializeError, isSerializedSeekdataError, type SerializedSeekdataError } from '../errors.js';
import { ownedBuffers } from './message.js';
import { decodeTask, prepareDecoder, runStep, type DecodeOutput, type StepCall } from './registry.js';

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
  /** Nice value of the worker thread while it runs the job (Linux; priority.ts). Set by the pool. */
  priority?: number | undefined;
}

export interface JobResult {
  /** The decoded bytes, or an empty array when the job was asked not to keep them. */
  bytes: Uint8Array;
  /** Length of the decoded bytes (also when they were not kept). */
  length: number;
  /** The decoder's facts about the unit (`DecodeOutput.info`); undefined for bytes inputs. */
  info?: unknown;
  /** The backend that decoded the unit (`DecodeOutput.decoder`), when the format names it. */
  decoder?: string;
  /** What the step returned, when the job had one. */
  step?: unknown;
}

const EMPTY = new Uint8Array(0);

/**
 * Runs a job in the current thread: synchronously when its decoder is prepared and synchronous (so a
 * worker posts each result before it starts the next job queued on it), else through a promise.
 */
export function runJobNow(job: WorkerJob): JobResult | Promise<JobResult> {
  const input = job.input;
  if (input.kind === 'bytes') return finish(job, { bytes: input.bytes });
  const preparing = prepareDecoder(input.format);
  if (preparing !== undefined) return preparing.then(() => runJobNow(job));
  const decoded = decodeTask(input.format, input.task, job.keepBytes === false);
  return decoded instanceof Promise ? decoded.then((output) => finish(job, output)) : finish(job, decoded);
}

function finish(job: WorkerJob, decoded: DecodeOutput): JobResult | Promise<JobResult> {
  const release = decoded.release;
  if (release === undefined) return finishOwned(job, decoded);
  // Lent bytes (DecodeOutput.release): bytes that leave the job are copied out of them first; a step reads
  // them in place, and they go back to the decoder once the step has returned (or failed).
  const owned = job.keepBytes === false ? decoded : { ...decoded, bytes: new Uint8Array(decoded.bytes), release: undefined };
  let result: JobResult | Promise<JobResult>;
  try {
    result = finishOwned(job, owned);
  } catch (error) {
    release();
    throw error;
  }
  if (result instanceof Promise) return result.finally(release);
  release();
  return result;
}

function finishOwned(job: WorkerJob, decoded: DecodeOutput): JobResult | Promise<JobResult> {
  const result: JobResult = { bytes: job.keepBytes === false ? EMPTY : decoded.bytes, length: decoded.bytes.length };
  if (decoded.info !== undefined) result.info = decoded.info;
  if (decoded.decoder !== undefined) result.decoder = decoded.decoder;
  if (job.step === undefined) return result;
  const step = runStep(job.step, decoded.bytes);
  // A step may be asynchronous (compressing with a binding that answers with a promise): awaited then;
  // a synchronous step keeps the job synchronous.
  if (step instanceof Promise) {
    return step.then((value: unknown) => {
      result.step = value;
      return result;
    });
  }
  result.step = step;
  return result;
}

/** Runs a job in the current thread (the inline, parallelism 1 runner); rejects rather than throws. */
export async function runJob(job: WorkerJob): Promise<JobResult> {
  return runJobNow(job);
}

export type JobResponse = { ok: true; result: JobResult } | { ok: false; error: SerializedSeekdataError | { message: string } };

/** The buffers of a result that can be moved back to the caller (see `ownedBuffers`). */
export function transferables(result: JobResult): ArrayBuffer[] {
  return ownedBuffers(result);
}

function failed(error: unknown): JobResponse {
  if (error instanceof SeekdataError) return { ok: false, error: error.toJSON() };
  return { ok: false, error: { message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } };
}

/** The response to a job run by `run`: synchronous when the run was. */
export function toResponse(run: () => JobResult | Promise<JobResult>): JobResponse | Promise<JobResponse> {
  try {
    const result = run();
    if (result instanceof Promise) return result.then((value): JobResponse => ({ ok: true, result: value }), failed);
    return { ok: true, result };
  } catch (error) {
    return failed(error);
  }
}

export function fromResponse(response: JobResponse): JobResult {
  if (response.ok) return response.result;
  if (isSerializedSeekdataError(response.error)) throw deserializeError(response.error);
  throw new SeekdataError('WORKER_ERROR', `worker job failed: ${response.error.message}`);
}
