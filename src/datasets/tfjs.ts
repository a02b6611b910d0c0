/**
 * The tfjs adapter: a seekdata dataset as a tf.data.Dataset of `{ xs, ys }` that `model.fitDataset`
 * trains on. Each pass of the tfjs dataset is one pass (epoch) of the seekdata dataset; each batch's
 * tensors are made from its typed arrays without copying them in JS, and belong to tfjs: fitDataset
 * disposes them after the batch (iterating by hand, dispose them yourself).
 */
import { SeekdataError } from '../errors.js';
import { checkFunction, checkKnownKeys } from '../options.js';
import { LOAD_TF_OPTION_KEYS, TF_DATASET_OPTION_KEYS } from '../option-keys.js';
import type { Batch } from './batch.js';
import { checkLayout, namedParts, type Layout } from './named.js';

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
  const make = (): AsyncIterator<never> => {
    const inner = dataset[Symbol.asyncIterator]();
    return {
      async next() {
        const step = await inner.next();
        if (step.done === true) return { done: true, value: undefined as never };
        const b = step.value;
        const value: TfBatch<unknown> = { xs: tensors(b.xs, b.xsShape, featureNames, inputs) };
        if (b.ys !== undefined && options.xsOnly !== true) value.ys = tensors(b.ys, b.ysShape, labelNames, outputs);
        return { done: false, value: value as never };
      },
      async return() {
        await inner.return?.();
        return { done: true, value: undefined as never };
      },
    };
  };
  return tf.data.generator(make) as ReturnType<Tf['data']['generator']>;
}
