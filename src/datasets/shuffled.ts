/**
 * ShuffledBatchDataset: mini-batches of parsed records, re-iterable (one pass = one epoch, each pass a
 * new epoch), in `exact`, `chunked` or file order, sharded by rank, resumable from a three-number
 * state, with batches prepared ahead of the consumer.
 */
import { invalidOption } from '../errors.js';
import type { IndexedFile } from '../index/indexed-file.js';
import { checkBoolean, checkKnownKeys, checkNonNegativeInt, checkPositiveInt } from '../options.js';
import { SHUFFLED_OPTION_KEYS } from '../option-keys.js';
import { BatchBuilder, prefetch, type Batch, type DatasetState } from './batch.js';
import { compileFeatures, type FeatureOptions } from './features.js';
import { ChunkedOrder, ExactOrder, type OrderParams, type ShuffleMode } from './order.js';
import type { ParsedRows, ParseSpec } from './parse.js';
import { labelWidthOf, loadChunkRows, loadRecordRows, type ChunkRows } from './rows.js';
import type { SkipTally } from './skips.js';
import { settle, unwrap, type Settled } from '../util.js';

export interface ShuffledBatchOptions extends FeatureOptions {
  /** Rows per batch. Default 32. */
  batchSize?: number;
  /**
   * `'exact'`: a uniform random order of all records (a keyed permutation, O(1) memory; about one chunk
   * decode per record when the file is much larger than the cache). `'chunked'` (default): chunks in a
   * random order, records drawn at random from a window of `windowChunks` decoded chunks (reads at
   * sequential speed). `false`: file order.
   */
  shuffle?: 'exact' | 'chunked' | false;
  /** Seed of every random choice. Default 0. */
  seed?: number;
  /** Chunks in the `chunked` shuffle window (K). Default 8. */
  windowChunks?: number;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropRemainder?: boolean;
  /** Epochs per iteration of the dataset. Default 1. */
  epochs?: number;
  /** Iterate forever (epoch after epoch). Default false. */
  repeat?: boolean;
  /** Epoch of the first iteration. Default 0. */
  epoch?: number;
  /** This process's shard and the number of shards. Default 0 of 1. */
  rank?: number;
  worldSize?: number;
  /** Resume from `state()` of an earlier dataset over the same file and options. */
  state?: DatasetState;
  /** Batches prepared ahead of the consumer. Default 2. */
  prefetch?: number;
}

interface EpochItem {
  batch: Batch;
  /** Draws consumed after this batch. */
  position: number;
}

export class ShuffledBatchDataset implements AsyncIterable<Batch> {
  readonly featureNames: string[];
  readonly labelNames: string[];
  readonly spec: ParseSpec;
  readonly batchSize: number;
  readonly mode: ShuffleMode;
  readonly seed: number;
  readonly rank: number;
  readonly worldSize: number;
  private epochNow: number;
  private position: number;
  private readonly windowChunks: number;
  private readonly dropRemainder: boolean;
  private readonly epochs: number;
  private readonly repeat: boolean;
  private readonly prefetchDepth: number;
  private readonly lookahead: number;
  /** Records skipped as malformed or missing (by the policies), and a few examples. */
  skipped = 0;
  skippedExamples: Array<{ record: number; reason: string }> = [];
  /** This epoch's skips, for the warning at its end (options.onWarning). */
  private readonly skips: SkipTally;

  constructor(
    readonly file: IndexedFile,
    options: ShuffledBatchOptions = {},
  ) {
    checkKnownKeys(options, SHUFFLED_OPTION_KEYS, 'ShuffledBatchDataset');
    const compiled = compileFeatures(file, options);
    this.spec = compiled.spec;
    this.featureNames = compiled.featureNames;
    this.labelNames = compiled.labelNames;
    this.skips = compiled.skips;
    this.batchSize = checkPositiveInt('batchSize', options.batchSize ?? 32);
    const shuffle = options.shuffle ?? 'chunked';
    if (shuffle !== 'exact' && shuffle !== 'chunked' && shuffle !== false) throw invalidOption('shuffle', "'exact', 'chunked' or false", shuffle);
    this.mode = shuffle === false ? 'none' : shuffle;
    const state = options.state;
    this.seed = state?.seed ?? options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw invalidOption('seed', 'an integer', this.seed);
    this.windowChunks = checkPositiveInt('windowChunks', options.windowChunks ?? 8);
    this.dropRemainder = checkBoolean('dropRemainder', options.dropRemainder ?? false);
    this.epochs = checkPositiveInt('epochs', options.epochs ?? 1);
    this.repeat = checkBoolean('repeat', options.repeat ?? false);
    this.worldSize = checkPositiveInt('worldSize', options.worldSize ?? 1);
    this.rank = checkNonNegativeInt('rank', options.rank ?? 0);
    if (this.rank >= this.worldSize) throw invalidOption('rank', `below worldSize (${this.worldSize})`, this.rank);
    this.epochNow = checkNonNegativeInt('epoch', state?.epoch ?? options.epoch ?? 0);
    this.position = checkNonNegativeInt('state.position', state?.position ?? 0);
    this.prefetchDepth = checkNonNegativeInt('prefetch', options.prefetch ?? 2);
    this.lookahead = Math.max(2, file.reader.parallelism * 2);
  }

  /** The epoch the next iteration (or the current one) is in. */
  get epoch(): number {
    return this.epochNow;
  }

  /** Sets the epoch of the next iteration (its order), from its start. */
  setEpoch(epoch: number): void {
    this.epochNow = checkNonNegativeInt('epoch', epoch);
    this.position = 0;
  }

  /** Where the dataset stands: pass it as `options.state` to a new dataset to continue exactly here. */
  state(): DatasetState {
    return { seed: this.seed, epoch: this.epochNow, position: this.position };
  }

  private params(epoch: number): OrderParams {
    return { mode: this.mode, seed: this.seed, epoch, rank: this.rank, worldSize: this.worldSize, windowChunks: this.windowChunks };
  }

  /** Records this rank draws per epoch. */
  get recordsPerEpoch(): number {
    if (this.mode === 'exact') return new ExactOrder(this.file.records.count, this.params(0)).length;
    return new ChunkedOrder(this.file.records, this.params(0)).length;
  }

  /** Record numbers of an epoch in the order drawn (this rank's shard); for inspection and tests. */
  order(epoch = this.epochNow): Uint32Array {
    const params = this.params(epoch);
    if (this.mode === 'exact') {
      const order = new ExactOrder(this.file.records.count, params);
      return Uint32Array.from({ length: order.length }, (_, i) => order.at(i));
    }
    const order = new ChunkedOrder(this.file.records, params);
    const out = new Uint32Array(order.length);
    for (let i = 0; i < out.length; i++) out[i] = order.next()?.record ?? 0;
    return out;
  }

  private noteSkipped(rows: ParsedRows): void {
    this.skips.add(rows);
    this.skipped += rows.skipped;
    for (const e of rows.skippedExamples) if (this.skippedExamples.length < 10) this.skippedExamples.push(e);
  }

  private builder(): BatchBuilder {
    return new BatchBuilder(this.batchSize, this.spec.features.length, labelWidthOf(this.spec), this.spec.labelType);
  }

  private async *exactEpoch(epoch: number, start: number): AsyncGenerator<EpochItem> {
    const order = new ExactOrder(this.file.records.count, this.params(epoch));
    let position = start;
    while (position < order.length) {
      const builder = this.builder();
      // Skipped records leave a batch short: draw again for the shortfall.
      while (!builder.full && position < order.length) {
        const want = Math.min(this.batchSize - builder.size, order.length - position);
        const numbers = Array.from({ length: want }, (_, k) => order.at(position + k));
        position += want;
        const rows = await loadRecordRows(this.file, numbers, this.spec);
        this.noteSkipped(rows);
        for (let r = 0; r < rows.rows; r++) builder.add(rows, r);
      }
      if (builder.size === 0 || (this.dropRemainder && !builder.full)) return;
      yield { batch: builder.build(), position };
    }
  }

  private async *chunkEpoch(epoch: number, start: number): AsyncGenerator<EpochItem> {
    // Per chunk slot (its place in the epoch's chunk order): the pending job, the rows once ready, and
    // how many of its records are still to be drawn (its rows are dropped at zero).
    const jobs: Array<Promise<Settled<ChunkRows>> | undefined> = [];
    const ready: Array<ChunkRows | undefined> = [];
    let replaying = start > 0;
    const startJob = (slot: number): void => {
      if (slot >= order.chunks.length || jobs[slot] !== undefined || ready[slot] !== undefined || remaining[slot] === 0) return;
      jobs[slot] = settle(loadChunkRows(this.file, order.chunks[slot], this.spec));
    };
    const order: ChunkedOrder = new ChunkedOrder(this.file.records, this.params(epoch), (slot) => {
      if (replaying) return;
      // Fetch ahead: the chunks that enter the window next are decoded and parsed while this one is used.
      for (let s = slot; s < slot + this.lookahead; s++) startJob(s);
    });
    const remaining = Int32Array.from(order.chunks, (_, slot) => order.count(slot));
    const consume = (slot: number): void => {
      if (--remaining[slot] === 0) {
        jobs[slot] = undefined;
        ready[slot] = undefined;
      }
    };
    // Resuming: replay the draws already made (no decoding: the order depends only on the index), then
    // fetch the chunks still in the window.
    let position = 0;
    while (position < start) {
      const draw = order.next();
      if (draw === undefined) break;
      position++;
      consume(draw.slot);
    }
    if (replaying) {
      replaying = false;
      for (const slot of order.pendingSlots()) startJob(slot);
    }
    const rowsOf = async (slot: number): Promise<ChunkRows> => {
      startJob(slot);
      const job = jobs[slot];
      if (job === undefined) throw new Error(`internal: no job for chunk slot ${slot}`);
      const rows = unwrap(await job);
      ready[slot] = rows;
      jobs[slot] = undefined;
      this.noteSkipped(rows.rows);
      return rows;
    };
    for (;;) {
      const builder = this.builder();
      while (!builder.full) {
        const draw = order.next();
        if (draw === undefined) break;
        position++;
        const rows = ready[draw.slot] ?? (await rowsOf(draw.slot));
        const row = rows.rowOf[draw.record - rows.first];
        if (row >= 0) builder.add(rows.rows, row);
        consume(draw.slot);
      }
      if (builder.size === 0 || (this.dropRemainder && !builder.full)) return;
      yield { batch: builder.build(), position };
    }
  }

  private epochItems(epoch: number, start: number): AsyncGenerator<EpochItem> {
    return this.mode === 'exact' ? this.exactEpoch(epoch, start) : this.chunkEpoch(epoch, start);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    for (let done = 0; this.repeat || done < this.epochs; done++) {
      const epoch = this.epochNow;
      try {
        for await (const item of prefetch(this.epochItems(epoch, this.position), this.prefetchDepth)) {
          this.position = item.position;
          yield item.batch;
        }
      } finally {
        // Also when the consumer stops early: what was read so far is reported.
        this.skips.end(`epoch ${epoch}`);
      }
      this.epochNow = epoch + 1;
      this.position = 0;
    }
  }
}
