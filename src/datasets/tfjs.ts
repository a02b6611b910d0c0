/**
 * The tfjs adapter: a seekdata dataset as a tf.data.Dataset of `{ xs, ys }` that `model.fitDataset`
 * trains on. Each pass of the tfjs dataset is one pass (epoch) of the seekdata dataset; each batch's
 * tensors are made from its typed arrays without copying them in JS, and belong to tfjs: fitDataset
 * disposes them after the batch (iterating by hand, dispose them yourself).
 */
import { SeekdataError } from '../errors.js';
import { checkKnownKeys } from '../options.js';
import { TF_DATASET_OPTION_KEYS } from '../option-keys.js';
import type { Batch } from './batch.js';

/** The part of the tfjs API the adapter uses (`@tensorflow/tfjs`, `@tensorflow/tfjs-node`, ...). */
export interface TfApi {
  tensor(values: Float32Array | Int32Array, shape: number[], dtype?: 'float32' | 'int32'): unknown;
  data: {
    generator(generator: () => AsyncIterator<never>): unknown;
  };
}

/** What the dataset gives tfjs per batch. */
export interface TfBatch<T> {
  xs: T;
  ys?: T;
}

/**
 * Loads tfjs: `@tensorflow/tfjs-node` (native, fast) when installed, else `@tensorflow/tfjs` (pure JS).
 * Rejects with a clear error when neither is.
 */
export async function loadTf(): Promise<TfApi> {
  for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs']) {
    try {
      return (await import(name)) as TfApi;
    } catch {
      // Try the next one.
    }
  }
  throw new SeekdataError('NOT_FOUND', 'tfjs is not installed: npm install @tensorflow/tfjs-node (or @tensorflow/tfjs)');
}

export interface TfDatasetOptions {
  /** Leave labels out even when the batches have them (prediction). Default false. */
  xsOnly?: boolean;
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
  const make = (): AsyncIterator<never> => {
    const inner = dataset[Symbol.asyncIterator]();
    return {
      async next() {
        const step = await inner.next();
        if (step.done === true) return { done: true, value: undefined as never };
        const b = step.value;
        const xs = tf.tensor(b.xs, b.xsShape, 'float32');
        const value: TfBatch<unknown> = { xs };
        if (b.ys !== undefined && options.xsOnly !== true) value.ys = tf.tensor(b.ys, b.ysShape, b.ys instanceof Int32Array ? 'int32' : 'float32');
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
