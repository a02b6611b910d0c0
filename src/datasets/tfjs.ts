/**
 * The tfjs adapter: a seekdata dataset as a tf.data.Dataset of `{ xs, ys }` that `model.fitDataset`
 * trains on. Each pass of the tfjs dataset is one pass (epoch) of the seekdata dataset; each batch's
 * tensors are made from its typed arrays without copying them (tf.tensor keeps a Float32Array or
 * Int32Array of the right dtype as it is), and belong to tfjs: fitDataset disposes them after the batch
 * (iterating by hand, dispose them yourself). The dataset's worker jobs are paced for training on this
 * thread (pace.ts): one core is left to training.
 */
import { SeekdataError } from '../errors.js';
import { checkBoolean, checkFunction, checkKnownKeys, checkPositiveInt } from '../options.js';
import { LOAD_TF_OPTION_KEYS, TF_DATASET_OPTION_KEYS } from '../option-keys.js';
import type { Batch } from './batch.js';
import { checkLayout, namedParts, type Layout } from './named.js';
import { isPacedDataset, type PacedDataset } from './pace.js';
import { checkPriority } from '../workers/priority.js';

/** The part of the tfjs API the adapter uses (`@tensorflow/tfjs`, `@tensorflow/tfjs-node`, ...). */
export interface TfApi {
  tensor(values: Float32Array | Int32Array, shape: number[], dtype?: 'float32' | 'int32'): unknown;
  data: {
    generator(generator: () => AsyncIterator<never>): unknown;
  };
}

/** What the dataset gives tfjs per batch: a tensor, or (named inputs / outputs) a dict of them. */
export interface TfBatch<T> {
  xs: T | Record<string, T>;
  ys?: T | Record<string, T>;
}

export interface LoadTfOptions {
  /**
   * Told why `@tensorflow/tfjs-node` was not used when it is installed but fails to load (a missing native
   * library, a Node version it was not built for, ...). Default: a process warning (`process.emitWarning`,
   * type `SeekdataWarning`), printed on stderr. Not called when it is simply not installed.
   */
  onWarning?: (message: string) => void;
}

const NATIVE = '@tensorflow/tfjs-node';
const PURE_JS = '@tensorflow/tfjs';

function emitTfWarning(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (message: string, options: { type: string; code: string }) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { type: 'SeekdataWarning', code: 'SEEKDATA_TFJS_NODE_FAILED' });
  else console.warn(`SeekdataWarning: ${message}`);
}

/** Whether an import failed because the package itself is not installed (not: it failed inside). */
function notInstalled(error: unknown, name: string): boolean {
  const { code, message } = error as NodeJS.ErrnoException;
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`Cannot find package '${name}'`);
}

/**
 * Loads tfjs: `@tensorflow/tfjs-node` (native, fast) when installed, else `@tensorflow/tfjs` (pure JS).
 * When tfjs-node is installed but fails to load, the fallback is not silent: `options.onWarning` is told
 * why. Rejects with a clear error when neither loads.
 */
export async function loadTf(options: LoadTfOptions = {}): Promise<TfApi> {
  checkKnownKeys(options, LOAD_TF_OPTION_KEYS, 'loadTf');
  const onWarning = checkFunction<(message: string) => void>('onWarning', options.onWarning ?? emitTfWarning);
  return loadTfWith((name) => import(name), onWarning);
}

/** loadTf with the importer given (tests give one that resolves from a directory of their own). */
export async function loadTfWith(importModule: (name: string) => Promise<unknown>, onWarning: (message: string) => void): Promise<TfApi> {
  let nativeFailure: string | undefined;
  try {
    return (await importModule(NATIVE)) as TfApi;
  } catch (error) {
    if (!notInstalled(error, NATIVE)) nativeFailure = error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
  try {
    const tf = (await importModule(PURE_JS)) as TfApi;
    if (nativeFailure !== undefined) onWarning(`${NATIVE} is installed but failed to load (${nativeFailure}); using ${PURE_JS} (pure JS, slower) instead`);
    return tf;
  } catch (error) {
    if (nativeFailure !== undefined) {
      throw new SeekdataError('NOT_FOUND', `${NATIVE} is installed but failed to load (${nativeFailure}), and ${PURE_JS} is not installed: npm install ${PURE_JS}`, { cause: error });
    }
    if (!notInstalled(error, PURE_JS)) {
      throw new SeekdataError('NOT_FOUND', `${PURE_JS} is installed but failed to load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
    }
    throw new SeekdataError('NOT_FOUND', `tfjs is not installed: npm install ${NATIVE} (or ${PURE_JS})`);
  }
}

export interface TfDatasetOptions {
  /** Leave labels out even when the batches have them (prediction). Default false. */
  xsOnly?: boolean;
  /**
   * How features reach the model. `'matrix'` (default): one tensor [batch, features] (windows: [batch,
   * steps, features]). `'columns'`: a dict of one [batch, 1] tensor per feature, keyed by its name
   * (tf.data.csv's element shape, batched). A dict input name → feature names: one [batch, k] tensor per
   * named input of a multi-input model (`tf.input({ name, shape: [k] })`; fitDataset matches dict keys
   * to the model's input names). Names come from the dataset's `featureNames`.
   */
  inputs?: Layout;
  /** The same for labels (`labelNames`), for multi-output models: `'matrix'` (default), `'columns'` or a dict. */
  outputs?: Layout;
  /**
   * Chunk jobs (decode and parse, in the worker pool) the dataset runs at once. Pure-JS tfjs trains on
   * the main thread: a worker busy on every core would take part of its core. Default: the reader's
   * parallelism − 1, at least 1 (on 2 cores: one worker, one core for training). Applies to
   * `ShuffledBatchDataset` in `chunked` and file order (other datasets and `exact` order are not paced).
   */
  workerJobs?: number;
  /**
   * Load the first chunks of the next epoch while the last batches of this one train: `fitDataset` asks
   * for the next epoch as soon as one ends. Costs the next epoch's first window of parsed rows in memory
   * (and its decoding, wasted if no next epoch comes). Default true. Same datasets as `workerJobs`.
   */
  preloadNextEpoch?: boolean;
  /**
   * Nice value (0 normal … 19 lowest) of the pool's worker threads while they decode and parse this
   * dataset's chunks, so that the training thread wins when both want a core. Linux only (there a
   * thread's priority is its own; elsewhere it would be the whole process's, training included, so it is
   * left alone). An unprivileged worker cannot lower its nice value again: workers keep it for later
   * jobs of the process. Measured on the shared 2-core machine it did not help (README, "Training
   * throughput"): a niced worker falls behind when other processes load the cores, and training then
   * waits for chunks. Default 0 (unchanged). Same datasets as `workerJobs`.
   */
  workerPriority?: number;
}

/** A dataset's column names, when it has them (every seekdata dataset does). */
function namesOf(dataset: object, key: 'featureNames' | 'labelNames'): string[] | undefined {
  const names = (dataset as Record<string, unknown>)[key];
  return Array.isArray(names) && names.every((n) => typeof n === 'string') ? (names as string[]) : undefined;
}

/**
 * A tf.data.Dataset over a seekdata dataset (ShuffledBatchDataset, TimeRangeDataset, SequentialStream):
 * pass it to `model.fitDataset`.
 */
export function toTfDataset<Tf extends TfApi>(dataset: AsyncIterable<Batch>, tf: Tf, options: TfDatasetOptions = {}): ReturnType<Tf['data']['generator']> {
  checkKnownKeys(options, TF_DATASET_OPTION_KEYS, 'toTfDataset');
  if (typeof tf?.tensor !== 'function' || typeof tf?.data?.generator !== 'function') {
    throw new SeekdataError('INVALID_OPTION', 'toTfDataset needs the tfjs module (import * as tf from "@tensorflow/tfjs")');
  }
  const featureNames = namesOf(dataset, 'featureNames');
  const labelNames = namesOf(dataset, 'labelNames');
  const inputs = checkLayout('inputs', options.inputs, featureNames);
  const outputs = checkLayout('outputs', options.outputs, labelNames);
  const tensors = (values: Float32Array | Int32Array, shape: number[], names: string[] | undefined, layout: Layout): unknown => {
    const dtype = values instanceof Int32Array ? 'int32' : 'float32';
    if (layout === 'matrix' || names === undefined) return tf.tensor(values, shape, dtype);
    const parts = namedParts(values, shape, names, layout);
    return Object.fromEntries(Object.entries(parts.values).map(([name, part]) => [name, tf.tensor(part, parts.shapes[name], dtype)]));
  };
  if (isPacedDataset(dataset)) {
    const jobs = options.workerJobs === undefined ? Math.max(1, dataset.parallelism - 1) : checkPositiveInt('workerJobs', options.workerJobs);
    const priority = checkPriority('workerPriority', options.workerPriority ?? 0);
    dataset.setTrainingPace({ jobs, nextEpoch: checkBoolean('preloadNextEpoch', options.preloadNextEpoch ?? true), priority: priority === 0 ? undefined : priority });
  } else {
    if (options.workerJobs !== undefined) checkPositiveInt('workerJobs', options.workerJobs);
    if (options.preloadNextEpoch !== undefined) checkBoolean('preloadNextEpoch', options.preloadNextEpoch);
    if (options.workerPriority !== undefined) checkPriority('workerPriority', options.workerPriority);
  }
  const iterations = new Iterations(dataset);
  const make = (): AsyncIterator<never> => {
    const me = {};
    let mine: Iteration | undefined;
    return {
      async next() {
        mine ??= iterations.take(me);
        // Taken over by a newer tfjs iterator (this one was dropped), or ended.
        if (mine.owner !== me || mine.finished) return { done: true, value: undefined as never };
        const step = await mine.iterator.next();
        if (step.done === true) {
          mine.finished = true;
          return { done: true, value: undefined as never };
        }
        iterations.delivered(mine);
        const b = step.value;
        const value: TfBatch<unknown> = { xs: tensors(b.xs, b.xsShape, featureNames, inputs) };
        if (b.ys !== undefined && options.xsOnly !== true) value.ys = tensors(b.ys, b.ysShape, labelNames, outputs);
        return { done: false, value: value as never };
      },
      async return() {
        if (mine !== undefined && mine.owner === me && !mine.finished) {
          mine.finished = true;
          await mine.iterator.return?.();
        }
        return { done: true, value: undefined as never };
      },
    };
  };
  return tf.data.generator(make) as ReturnType<Tf['data']['generator']>;
}

interface Iteration {
  iterator: AsyncIterator<Batch>;
  /** The tfjs iterator pulling from it. */
  owner: object;
  finished: boolean;
  /** The dataset's epoch and position after the last batch delivered (resumable datasets). */
  at: string | undefined;
}

/**
 * The seekdata iterations behind the tfjs iterators of one adapter. `fitDataset` with `batchesPerEpoch`
 * drops its iterator without closing it and asks for a new one on its next call: a new iteration of a
 * dataset that resumes from its state (ShuffledBatchDataset) would start from the same place, but decode
 * the chunks of its window again. The new tfjs iterator takes the dropped iteration over instead — the same
 * batches, nothing decoded twice — unless the dataset was moved since (`setEpoch`), when the old iteration
 * is closed and a new one started.
 */
class Iterations {
  private last: Iteration | undefined;
  private readonly resumable: PacedDataset | undefined;

  constructor(private readonly dataset: AsyncIterable<Batch>) {
    this.resumable = isPacedDataset(dataset) ? dataset : undefined;
  }

  private where(): string | undefined {
    if (this.resumable === undefined) return undefined;
    const { epoch, position } = this.resumable.state();
    return `${epoch}:${position}`;
  }

  /** The iteration a new tfjs iterator pulls from, on its first pull. */
  take(owner: object): Iteration {
    const last = this.last;
    if (last !== undefined && !last.finished && this.resumable !== undefined) {
      if (last.at === this.where()) {
        last.owner = owner;
        return last;
      }
      last.finished = true;
      last.iterator.return?.()?.catch(() => undefined);
    }
    this.last = { iterator: this.dataset[Symbol.asyncIterator](), owner, finished: false, at: undefined };
    return this.last;
  }

  /** Notes where the dataset stands after a batch of `it` was delivered. */
  delivered(it: Iteration): void {
    it.at = this.where();
  }
}
