/** Batches: row-major typed arrays with their shapes, built row by row from parsed rows. */
import type { ParsedRows } from './parse.js';
import type { PlanIdentity } from './plan.js';

export interface Batch {
  /** Features, row-major, shape `xsShape` ([rows, features], or [rows, steps, features] for windows). */
  xs: Float32Array;
  xsShape: number[];
  /** Labels (or targets), shape `ysShape`; undefined when the dataset has no labels. */
  ys: Float32Array | Int32Array | undefined;
  ysShape: number[];
  /** Record number of each row (for windows: the window's last record). */
  records: Float64Array;
  /** Rows in this batch. */
  size: number;
}

/** Where a dataset stands in its order: enough to resume exactly. Plain JSON. */
export interface DatasetState {
  seed: number;
  epoch: number;
  /** Draws consumed from the epoch's order (this shard's), at a batch boundary. */
  position: number;
  /**
   * What the order was planned from (shuffle mode, world size, shard policy, window, the file's record
   * count and layout hash): a state is refused by a dataset with another plan. Optional only so that
   * states saved by earlier versions (without it) still load, unchecked.
   */
  plan?: PlanIdentity | undefined;
}

/** Accumulates rows into a batch of at most `capacity` rows. */
export class BatchBuilder {
  // Public for the batch loops (chunk-batch.ts), which fill them directly: rows 0..size-1 are the batch's.
  readonly xs: Float32Array;
  readonly ys: Float32Array | Int32Array | undefined;
  readonly records: Float64Array;
  size = 0;

  constructor(
    readonly capacity: number,
    readonly features: number,
    readonly labelWidth: number,
    labelType: 'float32' | 'int32',
  ) {
    this.xs = new Float32Array(capacity * features);
    this.ys = labelWidth === 0 ? undefined : labelType === 'int32' ? new Int32Array(capacity * labelWidth) : new Float32Array(capacity * labelWidth);
    this.records = new Float64Array(capacity);
  }

  get full(): boolean {
    return this.size === this.capacity;
  }

  /** Copies row `row` of `rows` in. */
  add(rows: ParsedRows, row: number): void {
    // Plain loops: rows are short, and subarray views per row would be garbage on a hot path.
    const F = this.features;
    const from = row * F;
    const to = this.size * F;
    const xs = this.xs;
    const features = rows.features;
    for (let k = 0; k < F; k++) xs[to + k] = features[from + k];
    const ys = this.ys;
    if (ys !== undefined) {
      const L = this.labelWidth;
      const labels = rows.labels;
      for (let k = 0; k < L; k++) ys[this.size * L + k] = labels[row * L + k];
    }
    this.records[this.size] = rows.records[row];
    this.size++;
  }

  build(): Batch {
    const n = this.size;
    const full = n === this.capacity;
    return {
      xs: full ? this.xs : this.xs.slice(0, n * this.features),
      xsShape: [n, this.features],
      ys: this.ys === undefined ? undefined : full ? this.ys : this.ys.slice(0, n * this.labelWidth),
      ysShape: [n, this.labelWidth],
      records: full ? this.records : this.records.slice(0, n),
      size: n,
    };
  }
}

/** The draws of a batch: up to `end` (position in the epoch), refilled after skipped records or not. */
export interface BatchDraws {
  end: number;
  refill: boolean;
}

/**
 * Draws of the batch starting at `position`, or undefined when the epoch is over. With several ranks, a
 * batch is the next batchSize draws (skipped records leave it short), so every rank yields the same number
 * of batches; with one, draws continue until the batch is full (skipped records are replaced).
 */
export function batchDraws(position: number, length: number, batchSize: number, worldSize: number, dropRemainder: boolean): BatchDraws | undefined {
  if (position >= length) return undefined;
  if (worldSize === 1) return { end: length, refill: true };
  const end = Math.min(length, position + batchSize);
  if (dropRemainder && end - position < batchSize) return undefined;
  return { end, refill: false };
}

/** Runs an async iterator up to `depth` items ahead of its consumer (depth 0: no read-ahead). */
export async function* prefetch<T>(source: AsyncIterator<T>, depth: number): AsyncGenerator<T> {
  if (depth <= 0) {
    for (;;) {
      const next = await source.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  type Item = { done: true } | { done: false; value: T } | { error: unknown };
  const queue: Array<Promise<Item>> = [];
  let finished = false;
  const pull = (): void => {
    if (finished) return;
    const item = source.next().then(
      (r): Item => {
        if (r.done === true) finished = true;
        return r.done === true ? { done: true } : { done: false, value: r.value };
      },
      (error: unknown): Item => {
        finished = true;
        return { error };
      },
    );
    queue.push(item);
  };
  try {
    pull();
    for (;;) {
      // Keep `depth` items requested beyond the one awaited. Requests are sequential on the source
      // (an async generator queues them), so order is kept.
      while (queue.length <= depth && !finished) pull();
      const head = queue.shift();
      if (head === undefined) return;
      const item = await head;
      if ('error' in item) throw item.error;
      if (item.done) return;
      yield item.value;
    }
  } finally {
    await source.return?.(undefined);
  }
}
