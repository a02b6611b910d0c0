/** What the worker pool runs: plain data in, plain data (with transferable typed arrays) out. */
import { SeekdataError, deserializeError, isSerializedSeekdataError, type SerializedSeekdataError } from '../errors.js';
import { runDecodeTask, type DecodeResult, type DecodeTask } from '../readers/decode-task.js';

export type WorkerJob = { op: 'decode'; task: DecodeTask };

export type JobResult = DecodeResult;

export type JobResponse = { ok: true; result: JobResult } | { ok: false; error: SerializedSeekdataError | { message: string } };

/** Runs a job in the current thread; used by the worker entry and by the inline (parallelism 1) path. */
export function runJob(job: WorkerJob): JobResult {
  switch (job.op) {
    case 'decode':
      return runDecodeTask(job.task);
  }
}

/** The typed arrays of a result whose buffers can be transferred back to the caller. */
export function transferables(result: JobResult): ArrayBuffer[] {
  const buffer = result.bytes.buffer;
  return buffer instanceof ArrayBuffer ? [buffer] : [];
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
