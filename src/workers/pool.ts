/**
 * The worker pool: Piscina workers that run jobs (jobs.ts: decode a unit or take bytes, then optionally a
 * named step). It knows no format and no step. One shared pool serves every reader and dataset of a
 * process; each caller limits how many of its jobs are in flight.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { SeekdataError } from '../errors.js';
import { checkKnownKeys } from '../options.js';
import { WORKER_POOL_OPTION_KEYS } from '../option-keys.js';
import { fromResponse, runJob, type JobResponse, type JobResult, type WorkerJob } from './jobs.js';
import { footprint, leanCopy } from './message.js';
import { jobPriority } from './priority.js';

/** How long a close waits for the jobs in flight before it says so (a `SeekdataWarning`). */
const CLOSE_WARN_MS = 10_000;

/** How a job may be stopped while it runs (`JobRunner.run`'s `stop`). */
export interface JobStop {
  /** Fires to stop the job: its worker thread is terminated and the job rejects with the signal's reason. */
  signal: AbortSignal;
  /**
   * The pool has begun closing with the job in flight (a close waits for its jobs): fire `signal` as soon
   * as the job may be cut, so the close does not wait for a call that may never end.
   */
  closing(): void;
}

export interface JobRunner {
  /**
   * Runs a job; `transfer` lists buffers of the job to move to the worker instead of copying. `stop`, when
   * it fires while the job runs, terminates the worker thread running it (a new one takes its place) and
   * rejects the job with the signal's reason (when a SeekdataError, else `ABORTED`). Such a job runs alone
   * on its thread, so nothing else is lost with it; fire it only while the job runs code that may be cut
   * (a user map: map-clock.ts), never inside a native decoder call. `signal` never interrupts a running job.
   */
  run(job: WorkerJob, signal?: AbortSignal, transfer?: ArrayBuffer[], stop?: JobStop): Promise<JobResult>;
}

/**
 * Runs jobs in the calling thread (parallelism 1: no workers). It cannot honour `stop` (the calling thread
 * cannot be terminated): datasets refuse a map time limit without worker threads.
 */
export const inlineRunner: JobRunner = {
  run(job: WorkerJob): Promise<JobResult> {
    return runJob(job);
  },
};

/**
 * Where the worker entry is. From the built package it is worker.js beside this file; when running from
 * the TypeScript sources (tests, `tsx`), it is worker.ts and the worker needs tsx's loader.
 */
function workerEntry(): { filename: string; execArgv: string[] | undefined } {
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href;
  if (!fromSource) return { filename, execArgv: undefined };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { filename, execArgv: ['--import', tsx] };
}

export interface WorkerPoolOptions {
  /** Number of worker threads. Default: the number of cores. */
  size?: number;
  /**
   * Worker entry file (path or file URL) to run instead of seekdata's own: a module whose default
   * export handles jobs, typically wrapping `handle` from seekdata's worker (to instrument or extend it).
   */
  filename?: string;
  /** Node options for the worker threads. Default: seekdata's (tsx's loader when running from sources). */
  execArgv?: string[];
}

/** What a pool has posted (see `WorkerPool.stats`). */
export interface PoolStats {
  /** Jobs posted to the workers. */
  jobs: number;
  /** Bytes those jobs' typed arrays viewed (what the workers needed). */
  ownBytes: number;
  /** Bytes of the ArrayBuffers actually posted (copied or moved): about `ownBytes` when all is well. */
  postedBytes: number;
  /**
   * Jobs that reached a view into a much larger buffer, which the pool copied out before posting (posting
   * the view would have cloned the whole buffer). seekdata's own jobs never do; a count above 0 is a bug.
   */
  leanCopies: number;
}

export class WorkerPool implements JobRunner {
  private readonly piscina: Piscina;
  readonly size: number;
  readonly stats: PoolStats = { jobs: 0, ownBytes: 0, postedBytes: 0, leanCopies: 0 };
  private closed = false;
  /** The jobs in flight, each with what it runs (its step's name, or "decode"), for the close's warning. */
  private readonly inflight = new Map<Promise<unknown>, string>();
  /** The stops of the jobs in flight that have one (told when the pool closes). */
  private readonly stoppable = new Set<JobStop>();

  constructor(options: WorkerPoolOptions = {}) {
    checkKnownKeys(options, WORKER_POOL_OPTION_KEYS, 'WorkerPool');
    this.size = options.size ?? availableParallelism();
    const entry = workerEntry();
    const filename = options.filename ?? entry.filename;
    const execArgv = options.execArgv ?? entry.execArgv;
    this.piscina = new Piscina({
      filename,
      minThreads: this.size,
      maxThreads: this.size,
      idleTimeout: 5_000,
      // A second job waits in each worker's own queue and starts as soon as the first ends, instead of
      // after a round trip through the main thread (the handler posts each result before starting the
      // next: worker.ts). Workers busy 80% → 87-88% of a parallel scan (bench/decoders/RESULTS.md §3).
      concurrentTasksPerWorker: 2,
      ...(execArgv === undefined ? {} : { execArgv }),
    });
  }

  async run(job: WorkerJob, signal?: AbortSignal, transfer?: ArrayBuffer[], stop?: JobStop): Promise<JobResult> {
    if (this.closed) throw new SeekdataError('CLOSED', 'worker pool is closed');
    if (signal?.aborted === true) throw new SeekdataError('ABORTED', 'job aborted', { cause: signal.reason });
    let response: JobResponse;
    try {
      // `signal` is not handed to Piscina: aborting a running task there terminates its worker (inside a
      // native liblzma call that aborts the process) and races with the worker's answer. A job once
      // started runs to its end; callers check their signal between jobs and drop the result. `stop` is
      // handed to it: Piscina runs a task with a signal alone on an idle worker (no second task joins it)
      // and terminates that worker when the signal fires while the task runs (tested in
      // test/trust-map-timeout.test.ts); the caller fires it only while the job runs JavaScript.
      const options: { transferList?: ArrayBuffer[]; signal?: AbortSignal } = {};
      if (transfer !== undefined && transfer.length > 0) options.transferList = transfer;
      if (stop !== undefined) options.signal = stop.signal;
      // A job submitted under withJobPriority carries its nice value (the worker applies it).
      const priority = jobPriority();
      let message = priority === undefined ? job : { ...job, priority };
      // The guard: never post a view of a large buffer (it would clone all of it into the worker).
      let size = footprint(message);
      if (size.oversized > 0) {
        this.stats.leanCopies++;
        message = leanCopy(message);
        size = footprint(message);
      }
      this.stats.jobs++;
      this.stats.ownBytes += size.own;
      this.stats.postedBytes += size.carried;
      const running = this.piscina.run(message, options) as Promise<JobResponse>;
      this.inflight.set(running, message.step?.name ?? 'decode');
      if (stop !== undefined) this.stoppable.add(stop);
      try {
        response = await running;
      } finally {
        this.inflight.delete(running);
        if (stop !== undefined) this.stoppable.delete(stop);
      }
    } catch (cause) {
      if (stop?.signal.aborted === true) throw stopped(stop.signal);
      throw new SeekdataError('WORKER_ERROR', `worker failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    return fromResponse(response);
  }

  /**
   * Closes the pool once every job already submitted has finished: terminating a worker thread inside a
   * native liblzma call aborts the whole process, so a pool is never torn down under a running job.
   * (For the same reason, call `closeSharedPool()` before `process.exit()`.) Jobs that can be stopped (a
   * map with a time limit) are told, and stop as soon as they may be cut rather than at their limit.
   */
  async close(options: { warnAfterMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.stoppable]) stop.closing();
    // A close that waits long says why, once, rather than hanging in silence.
    const warnAfterMs = options.warnAfterMs ?? CLOSE_WARN_MS;
    const started = performance.now();
    const warning = setTimeout(() => {
      const kinds = new Map<string, number>();
      for (const name of this.inflight.values()) kinds.set(name, (kinds.get(name) ?? 0) + 1);
      const jobs = [...kinds].map(([name, n]) => `${n} ${name} job${n === 1 ? '' : 's'}`).join(', ');
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.emitWarning(
        `closing the worker pool: waiting for ${jobs} still running after ${seconds} s (a job is never cut, since that could abort the process inside a native decoder; a map module without map.timeoutMs whose call never returns keeps the close waiting: give such a map a limit)`,
        { type: 'SeekdataWarning', code: 'SEEKDATA_CLOSE_WAITING' },
      );
    }, warnAfterMs);
    try {
      while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.keys()]);
    } finally {
      clearTimeout(warning);
    }
    await this.piscina.close();
  }
}

/** The error of a job whose `stop` fired: its reason when that is a SeekdataError (a map's MAP_ERROR). */
function stopped(stop: AbortSignal): SeekdataError {
  return stop.reason instanceof SeekdataError ? stop.reason : new SeekdataError('ABORTED', 'job stopped', { cause: stop.reason });
}

let shared: WorkerPool | undefined;
let sharedOptions: WorkerPoolOptions = {};

/** Sets the options of the shared pool (size, filename, execArgv); they take effect when it is next created. */
export function configureSharedPool(options: WorkerPoolOptions): void {
  checkKnownKeys(options, WORKER_POOL_OPTION_KEYS, 'configureSharedPool');
  sharedOptions = { ...options };
}

/** The process-wide pool, created on first use. */
export function sharedPool(): WorkerPool {
  if (shared === undefined) shared = new WorkerPool(sharedOptions);
  return shared;
}

/** Shuts the shared pool down (it is created again if used later). */
export async function closeSharedPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
