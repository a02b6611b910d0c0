/**
 * Pacing a dataset's worker jobs for a training loop that runs on the calling thread. Pure-JS tfjs trains
 * on the main thread, so every worker job running at the same time takes part of the core it would use:
 * with as many workers busy as there are cores, training gets a share of a core instead of a whole one. A
 * dataset fed to training (toTfDataset) therefore runs at most `jobs` of its chunk jobs at once (by
 * default one core fewer than the reader's parallelism), and starts loading the next epoch's first chunks
 * before this one ends (the training loop asks for the next epoch right away, and would otherwise wait for
 * a whole window of chunks to be decoded).
 */

import { withJobPriority } from '../workers/priority.js';

/** How a dataset runs its worker jobs for a training loop on this thread (see `toTfDataset`). */
export interface TrainingPace {
  /** Worker jobs of the dataset at once (at least 1). */
  jobs: number;
  /** Start loading the first chunks of the next epoch once every chunk of this one has been asked for. */
  nextEpoch: boolean;
  /** Nice value (0-19) of the pool's worker threads while they run the dataset's jobs; undefined: unchanged. */
  priority?: number | undefined;
}

/** A dataset whose worker jobs can be paced for training, and whose iterations resume from its state. */
export interface PacedDataset {
  /** The pace to use from the next load on; undefined: unpaced (every job at once, no next-epoch loads). */
  setTrainingPace(pace: TrainingPace | undefined): void;
  /** The reader parallelism the dataset decodes with (cores of the pool it uses). */
  readonly parallelism: number;
  /** Where the dataset stands: a new iteration starts there. */
  state(): { epoch: number; position: number };
}

export function isPacedDataset(value: unknown): value is PacedDataset {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { setTrainingPace?: unknown; state?: unknown };
  return typeof v.setTrainingPace === 'function' && typeof v.state === 'function';
}

/**
 * Runs async jobs at most `limit` at a time, in the order they were submitted. `limit` can change at any
 * time (raising it starts waiting jobs at once); Infinity: no limit.
 */
export class JobGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private limitNow: number;

  constructor(limit = Infinity) {
    this.limitNow = limit;
  }

  get limit(): number {
    return this.limitNow;
  }

  set limit(value: number) {
    this.limitNow = Math.max(1, value);
    this.pump();
  }

  /** Jobs started and not finished. */
  get active(): number {
    return this.running;
  }

  /** Jobs waiting for their turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `job` when fewer than `limit` jobs run; settles as it does. */
  run<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        this.running++;
        let settled: Promise<T>;
        try {
          settled = job();
        } catch (error) {
          settled = Promise.reject(error);
        }
        settled.then(resolve, reject).finally(() => {
          this.running--;
          this.pump();
        });
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.limitNow && this.waiting.length > 0) this.waiting.shift()?.();
  }
}

/**
 * A dataset's chunk loads under a training pace: every load goes through one gate (at most `pace.jobs`
 * at once), and the next epoch's first loads can be started before it begins, to be taken by that epoch
 * when it starts from its beginning.
 */
export class PacedLoads<T> {
  private readonly gate = new JobGate();
  private paceNow: TrainingPace | undefined;
  /** The loads started ahead for `epoch`; `stop` is aborted when they are dropped, or when the epoch that took them is left. */
  private ahead: { epoch: number; loads: Map<number, Promise<T>>; stop: AbortController } | undefined;
  /** Loads asked for and not settled (waiting for the gate, preparing or running). */
  pending = 0;

  get pace(): TrainingPace | undefined {
    return this.paceNow;
  }

  set pace(pace: TrainingPace | undefined) {
    this.paceNow = pace;
    this.gate.limit = pace?.jobs ?? Infinity;
    if (pace?.nextEpoch !== true) this.drop();
  }

  /**
   * Runs a load through the gate, after `prepare` (started at once, outside the gate): work of the load
   * that runs on no pool worker (a loaded index checking a chunk's stored tail against the data, an
   * asynchronous prefix decode of the next chunk that waits on the event loop, ~100 ms of latency under
   * training and almost no CPU) overlaps the jobs queued before it instead of holding the gate.
   */
  run(load: () => Promise<T>, prepare?: () => Promise<void>): Promise<T> {
    const priority = this.paceNow?.priority;
    const gated = (): Promise<T> => this.gate.run(() => withJobPriority(priority, load));
    this.pending++;
    const settled = (): void => {
      this.pending--;
    };
    const running = prepare === undefined ? gated() : prepare().then(gated);
    running.then(settled, settled);
    return running;
  }

  /**
   * When paced for it, starts the loads of slots 0..count-1 of `epoch` (behind every load already
   * asked for), once per epoch. Each load gets a signal of its own (see `take`): loads of an epoch that
   * is never entered run (a timed map's call up to its limit) until dropped or the data set closes.
   */
  startEpoch(epoch: number, count: number, load: (slot: number, signal: AbortSignal) => Promise<T>, prepare?: (slot: number) => Promise<void>): void {
    if (this.paceNow?.nextEpoch !== true || this.ahead?.epoch === epoch) return;
    this.drop();
    const stop = new AbortController();
    const loads = new Map<number, Promise<T>>();
    for (let slot = 0; slot < count; slot++) {
      const started = this.run(() => load(slot, stop.signal), prepare === undefined ? undefined : () => prepare(slot));
      // Not a rejection nobody handles if the epoch never comes: it is seen again when the epoch takes it.
      started.catch(() => undefined);
      loads.set(slot, started);
    }
    this.ahead = { epoch, loads, stop };
  }

  /**
   * The loads started ahead for `epoch`, when it starts from its beginning (taken once), to be stopped
   * with it: when `signal` (the taking epoch's) aborts, so does theirs (a job not started yet is not, a
   * timed map's call is stopped). Stale ones (an earlier epoch's, or the epoch resumed past its start)
   * are dropped and stopped.
   */
  take(epoch: number, start: number, signal: AbortSignal): Map<number, Promise<T>> | undefined {
    const ahead = this.ahead;
    if (ahead === undefined || ahead.epoch > epoch) return undefined;
    this.ahead = undefined;
    if (ahead.epoch !== epoch || start !== 0) {
      ahead.stop.abort();
      return undefined;
    }
    if (signal.aborted) ahead.stop.abort();
    else signal.addEventListener('abort', () => ahead.stop.abort(), { once: true });
    return ahead.loads;
  }

  /** Drops the loads started ahead (no epoch will take them), stopping them. */
  private drop(): void {
    this.ahead?.stop.abort();
    this.ahead = undefined;
  }
}
