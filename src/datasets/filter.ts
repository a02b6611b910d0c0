/**
 * `filter`: the rows of a dataset for which a predicate holds, re-batched to the dataset's batch size
 * (tf.data's `filter`). The predicate runs on this thread over each row's named values (named.ts
 * `rowValues`); like tf.data's, a filtered dataset's batch count is unknown until it has run (no
 * `batchesPerEpoch`). An exception in the predicate is a MAP_ERROR naming the record.
 */
import { SeekdataError } from '../errors.js';
import { checkFunction } from '../options.js';
import type { Batch } from './batch.js';
import { rowValues, type RowValues } from './named.js';
import { toTfDataset, type TfApi, type TfDatasetOptions } from './tfjs.js';

/** What a filter reads: a dataset of row batches with named columns. */
export interface FilterSource extends AsyncIterable<Batch> {
  readonly featureNames: string[];
  readonly labelNames: string[];
  readonly batchSize: number;
}

export class FilteredDataset implements AsyncIterable<Batch> {
  readonly featureNames: string[];
  readonly labelNames: string[];
  readonly batchSize: number;
  /** Rows the predicate dropped, over the passes run so far. */
  dropped = 0;

  constructor(
    private readonly source: FilterSource,
    private readonly keep: (row: RowValues) => boolean,
  ) {
    checkFunction('predicate', keep);
    this.featureNames = source.featureNames;
    this.labelNames = source.labelNames;
    this.batchSize = source.batchSize;
  }

  /** The filtered dataset as a tf.data.Dataset of `{ xs, ys }` (toTfDataset). */
  toTf<Tf extends TfApi>(tf: Tf, options?: TfDatasetOptions): ReturnType<Tf['data']['generator']> {
    return toTfDataset(this, tf, options);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    const n = this.batchSize;
    const F = this.featureNames.length;
    let out: Batch | undefined;
    let width = 0;
    for await (const b of this.source) {
      if (b.xsShape.length !== 2) throw new SeekdataError('INVALID_OPTION', `filter works on rows, not on windows of shape [${b.xsShape.join(', ')}]`);
      width = b.ys === undefined || b.size === 0 ? (b.ysShape[1] ?? 0) : b.ys.length / b.size;
      for (let k = 0; k < b.size; k++) {
        const row = rowValues(b, k, this.featureNames, this.labelNames);
        let kept: unknown;
        try {
          kept = this.keep(row);
        } catch (cause) {
          const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
          throw new SeekdataError('MAP_ERROR', `filter predicate threw ${what} on record ${row.record}`, { record: row.record, cause });
        }
        if (kept !== true) {
          if (kept !== false) throw new SeekdataError('MAP_ERROR', `filter predicate returned ${typeof kept}, not a boolean, on record ${row.record}`, { record: row.record });
          this.dropped++;
          continue;
        }
        out ??= emptyBatch(n, F, width, b.ys);
        const at = out.size++;
        out.xs.set(b.xs.subarray(k * F, (k + 1) * F), at * F);
        if (out.ys !== undefined && b.ys !== undefined) out.ys.set(b.ys.subarray(k * width, (k + 1) * width), at * width);
        out.records[at] = b.records[k];
        if (out.size === n) {
          yield out;
          out = undefined;
        }
      }
    }
    if (out !== undefined) yield trimmed(out, F, width);
  }
}

function emptyBatch(n: number, F: number, width: number, like: Float32Array | Int32Array | undefined): Batch {
  const ys = like === undefined ? undefined : like instanceof Int32Array ? new Int32Array(n * width) : new Float32Array(n * width);
  return { xs: new Float32Array(n * F), xsShape: [n, F], ys, ysShape: [n, width], records: new Float64Array(n), size: 0 };
}

/** The last, shorter batch: arrays and shapes of its rows only. */
function trimmed(b: Batch, F: number, width: number): Batch {
  const m = b.size;
  return {
    xs: b.xs.slice(0, m * F),
    xsShape: [m, F],
    ys: b.ys?.slice(0, m * width),
    ysShape: [m, width],
    records: b.records.slice(0, m),
    size: m,
  };
}
