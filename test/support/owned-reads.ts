/**
 * For the owned-reads tests: a pool that records which job inputs were moved to a worker, and a whole read of
 * a source through it, as a digest to compare with the input's.
 */
import { createHash } from 'node:crypto';
import { openReader, type ReaderOptions } from '../../src/index.js';
import type { ByteSource } from '../../src/sources/source.js';
import { sharedPool, type JobRunner } from '../../src/workers/pool.js';
import type { WorkerJob } from '../../src/workers/jobs.js';

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export interface RecordedJob {
  /** The job's input array (a decode task's data, or a bytes job's bytes), as posted. */
  input: Uint8Array;
  /** Whether its buffer was in the job's transfer list (moved, not copied). */
  moved: boolean;
  /**
   * Whether its buffer is a SharedArrayBuffer: posted without a copy and without moving it (bzip2's scan
   * posts views of the windows it read for its magic search).
   */
  shared: boolean;
}

/** Posted without a copy: moved, or shared. */
export const uncopied = (j: RecordedJob): boolean => j.moved || j.shared;

/** The shared pool, recording each job with a non-empty input: the input's array and whether it was moved. */
export function recordingPool(): { runner: JobRunner; jobs: RecordedJob[] } {
  const jobs: RecordedJob[] = [];
  const runner: JobRunner = {
    run(job: WorkerJob, signal, transfer) {
      const input = job.input.kind === 'bytes' ? job.input.bytes : (job.input.task as { data?: Uint8Array }).data;
      if (input !== undefined && input.byteLength > 0) jobs.push({ input, moved: (transfer ?? []).includes(input.buffer as ArrayBuffer), shared: input.buffer instanceof SharedArrayBuffer });
      return sharedPool().run(job, signal, transfer);
    },
  };
  return { runner, jobs };
}

/** The digest of every byte of `source` read through `pool` at parallelism 2 with a one-byte cache. */
export async function readAllDigest(source: ByteSource, pool: JobRunner, options: ReaderOptions = {}): Promise<string> {
  const reader = await openReader(source, { ...options, parallelism: 2, pool, cacheBytes: 1 });
  try {
    const parts: Uint8Array[] = [];
    for await (const piece of reader.stream()) parts.push(piece);
    return sha(Buffer.concat(parts));
  } finally {
    await reader.close();
  }
}
