/**
 * ShuffledBatchDataset: mini-batches of parsed records, re-iterable (one pass = one epoch, each pass a
 * new epoch), in `exact`, `chunked` or file order, sharded by rank into equal shards (shard.ts),
 * resumable from a small state, with batches prepared ahead of the consumer. The exact order is served
 * in rounds (rounds.ts): a few passes over the file per epoch, as many as the memory budget needs.
 */
import { SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { checkBoolean, checkKnownKeys, checkNonNegativeInt, checkPositiveInt } from '../options.js';
import { SHUFFLED_OPTION_KEYS } from '../option-keys.js';
import { BatchBuilder, batchDraws, prefetch, type Batch, type BatchDraws, type DatasetState } from './batch.js';
import { compileFeatures } from './features.js';
import type { ShuffledBatchOptions } from './shuffled-options.js';
import { ChunkedOrder, ExactOrder } from './order.js';
import type { ParsedRows, ParseSpec } from './parse.js';
import { labelWidthOf, loadChunkRows, type ChunkRows } from './rows.js';
import { DEFAULT_SHUFFLE_MEMORY_BYTES, ExactRounds, roundRowBytes } from './rounds.js';
import { PacedLoads, type PacedDataset, type TrainingPace } from './pace.js';
import { checkPriority } from '../workers/priority.js';
import { checkPlan, epochDraws, planIdentity, resolvePlan, type PlanIdentity } from './plan.js';
import { recordsPerRank, type OrderParams, type Segment, type ShardPolicy, type ShuffleMode } from './shard.js';
import { RowWindow } from './row-window.js';
import { fillBatch } from './chunk-batch.js';
import { PlanReadAhead } from './plan-read-ahead.js';
import type { RecordSubset } from './subset.js';
import type { SkipTally } from './skips.js';

export type { ShuffledBatchOptions } from './shuffled-options.js';

/** Resolves after the event loop's next check phase: pending I/O callbacks and worker messages run first. */
function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface EpochItem {
  batch: Batch;
  /** Draws consumed after this batch. */
  position: number;
}

export class ShuffledBatchDataset implements AsyncIterable<Batch>, PacedDataset {
  readonly featureNames: string[];
  readonly labelNames: string[];
  readonly spec: ParseSpec;
  readonly batchSize: number;
  readonly mode: ShuffleMode;
  readonly seed: number;
  readonly rank: number;
  readonly worldSize: number;
  readonly shardPolicy: ShardPolicy;
  private epochNow: number;
  private position: number;
  private readonly windowChunks: number;
  private readonly dropRemainder: boolean;
  private readonly epochs: number;
  private readonly repeat: boolean;
  private readonly prefetchDepth: number;
  private readonly turnMs: number | undefined;
  private readonly lookahead: number;
  /** Chunk loads of `chunked` and file-order epochs (paced for training by toTfDataset). */
  private readonly loads = new PacedLoads<ChunkRows>();
  /** Records skipped as malformed or missing (by the policies), and a few examples. */
  skipped = 0;
  skippedExamples: Array<{ record: number; reason: string }> = [];
  /** This epoch's skips, for the warning at its end (options.onWarning). */
  private readonly skips: SkipTally;
  /**
   * The most bytes of parsed rows a chunked (or file-order) epoch's window held at once, over the
   * epochs run so far: the rows of the records left in the window (at most about K chunks' worth, sized
   * once per epoch), plus the chunks read ahead (row-window.ts).
   */
  peakWindowBytes = 0;
  /**
   * `chunked` and file order: milliseconds the epochs so far waited for chunks' rows (a batch needing a
   * chunk not decoded and parsed yet), and how many times. What a consumer lost waiting for the input:
   * near 0 when decoding keeps ahead of it.
   */
  chunkWaitMs = 0;
  chunkWaits = 0;
  /** `exact`: rows per round (the memory budget over the bytes of a row; at most the epoch's draws). */
  readonly roundRows: number;
  /** `exact`: the most parsed rows a round held at once, over the epochs run so far (at most roundRows). */
  peakRoundRows = 0;
  /** `exact`: passes over the file made (rounds loaded), and records handed to the parser, so far. */
  passesMade = 0;
  recordsParsed = 0;
  private planId: PlanIdentity | undefined;
  /** The records drawn from, when not all of the file's. */
  readonly subset: RecordSubset | undefined;

  constructor(
    readonly file: Indexed,
    options: ShuffledBatchOptions = {},
  ) {
    checkKnownKeys(options, SHUFFLED_OPTION_KEYS, 'ShuffledBatchDataset');
    const compiled = compileFeatures(file, options);
    this.spec = compiled.spec;
    this.featureNames = compiled.featureNames;
    this.labelNames = compiled.labelNames;
    this.skips = compiled.skips;
    this.batchSize = checkPositiveInt('batchSize', options.batchSize ?? 32);
    const subset = options.subset;
    if (subset !== undefined && subset.total !== file.records.count) {
      throw new SeekdataError('INVALID_OPTION', `options.subset is of a file of ${subset.total} records, not of ${file.name} (${file.records.count})`, { file: file.name, option: 'subset' });
    }
    this.subset = subset === undefined || subset.isAll ? undefined : subset;
    const state = options.state;
    const params = resolvePlan(file, { ...options, seed: state?.seed ?? options.seed, epoch: state?.epoch ?? options.epoch }, this.subset);
    this.mode = params.mode;
    this.seed = params.seed;
    this.windowChunks = params.windowChunks;
    this.worldSize = params.worldSize;
    this.rank = params.rank;
    this.shardPolicy = params.shardPolicy ?? 'pad';
    this.epochNow = params.epoch;
    this.dropRemainder = checkBoolean('dropRemainder', options.dropRemainder ?? false);
    this.epochs = checkPositiveInt('epochs', options.epochs ?? 1);
    this.repeat = checkBoolean('repeat', options.repeat ?? false);
    this.position = checkNonNegativeInt('state.position', state?.position ?? 0);
    if (state !== undefined) {
      // A state without a plan comes from a version that did not save one: it cannot be checked.
      if (state.plan !== undefined) checkPlan(state.plan, this.plan());
      if (this.position > this.recordsPerEpoch) {
        throw new SeekdataError('INVALID_OPTION', `options.state.position ${this.position} is past the end of the epoch (${this.recordsPerEpoch} records per rank)`);
      }
    }
    this.prefetchDepth = checkNonNegativeInt('prefetch', options.prefetch ?? 2);
    this.turnMs = options.eventLoopTurnMs === undefined ? undefined : checkNonNegativeInt('eventLoopTurnMs', options.eventLoopTurnMs);
    this.lookahead = file.readAhead;
    const memory = checkPositiveInt('shuffleMemoryBytes', options.shuffleMemoryBytes ?? DEFAULT_SHUFFLE_MEMORY_BYTES);
    this.roundRows = Math.max(1, Math.min(this.recordsPerEpoch, Math.floor(memory / roundRowBytes(this.spec))));
  }

  /** Passes over the file an epoch makes: ceil(recordsPerEpoch / roundRows) in exact order, else 1. */
  get passesPerEpoch(): number {
    return this.mode === 'exact' ? Math.ceil(this.recordsPerEpoch / this.roundRows) : 1;
  }

  /** The reader parallelism the chunks are decoded with. */
  get parallelism(): number {
    return this.file.reader.parallelism;
  }

  /**
   * Paces the worker jobs of `chunked` and file-order epochs for a training loop on this thread
   * (`toTfDataset` does this; pace.ts): at most `pace.jobs` chunk loads at once, and the next epoch's
   * first chunks loaded before this one ends. `undefined` removes the pace.
   */
  setTrainingPace(pace: TrainingPace | undefined): void {
    this.loads.pace =
      pace === undefined
        ? undefined
        : {
            jobs: checkPositiveInt('pace.jobs', pace.jobs),
            nextEpoch: checkBoolean('pace.nextEpoch', pace.nextEpoch),
            priority: pace.priority === undefined ? undefined : checkPriority('pace.priority', pace.priority),
          };
  }

  /** What identifies this dataset's plan (saved in `state()`, checked when resuming). */
  plan(): PlanIdentity {
    this.planId ??= planIdentity(this.file, this.params(0), this.subset);
    return { ...this.planId };
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
    return { seed: this.seed, epoch: this.epochNow, position: this.position, plan: this.plan() };
  }

  private params(epoch: number): OrderParams {
    return { mode: this.mode, seed: this.seed, epoch, rank: this.rank, worldSize: this.worldSize, windowChunks: this.windowChunks, shardPolicy: this.shardPolicy };
  }

  /** Records this rank draws per epoch: the same on every rank (padding repeats included). */
  get recordsPerEpoch(): number {
    return recordsPerRank(this.subset?.count ?? this.file.records.count, this.worldSize, this.shardPolicy);
  }

  /**
   * Batches per epoch. With worldSize > 1 a batch is the next batchSize draws (shorter where records are
   * skipped), so every rank yields exactly this many; with one rank, batches are refilled after skipped
   * records, so there can be fewer.
   */
  get batchesPerEpoch(): number {
    const n = this.recordsPerEpoch;
    return this.dropRemainder ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Record numbers of an epoch in the order drawn (this rank's shard); for inspection and tests. */
  order(epoch = this.epochNow): Uint32Array {
    const draws = epochDraws(this.file, this.params(epoch), undefined, this.subset);
    const out = new Uint32Array(draws.length);
    for (let i = 0; i < out.length; i++) out[i] = draws.next()?.record ?? 0;
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

  private batchDraws(position: number, length: number): BatchDraws | undefined {
    return batchDraws(position, length, this.batchSize, this.worldSize, this.dropRemainder);
  }

  /** True when a refilled batch ends the epoch (empty, or short and dropped). */
  private finished(builder: BatchBuilder, refill: boolean): boolean {
    return refill && (builder.size === 0 || (this.dropRemainder && !builder.full));
  }

  private async *exactEpoch(epoch: number, start: number, signal: AbortSignal): AsyncGenerator<EpochItem> {
    const rounds = new ExactRounds(this.file, this.spec, new ExactOrder(this.subset ?? this.file.records.count, this.params(epoch)), this.roundRows, this.lookahead);
    const rows = rounds.store;
    const counted = { rounds: 0, parsed: 0 };
    const tally = (): void => {
      this.passesMade += rounds.rounds - counted.rounds;
      this.recordsParsed += rows.parsed - counted.parsed;
      counted.rounds = rounds.rounds;
      counted.parsed = rows.parsed;
      this.peakRoundRows = Math.max(this.peakRoundRows, rounds.peakRows);
    };
    let position = start;
    try {
      for (;;) {
        const batch = this.batchDraws(position, rounds.length);
        if (batch === undefined) return;
        const builder = this.builder();
        while (!builder.full && position < batch.end) {
          if (!rounds.holds(position)) {
            await rounds.load(position, signal);
            tally();
          }
          const slot = rounds.slot(position++);
          if (rows.valid[slot] === 1) {
            builder.add(rows, slot);
            this.skips.addCounts(1, 0, undefined);
            continue;
          }
          // Skipped records are counted as they are drawn (a round is parsed ahead of its draws).
          const record = rows.records[slot];
          const reason = rows.reasons.get(record);
          const example = reason === undefined ? undefined : { record, reason };
          this.skips.addCounts(1, 1, example);
          this.skipped++;
          if (example !== undefined && this.skippedExamples.length < 10) this.skippedExamples.push(example);
        }
        if (this.finished(builder, batch.refill)) return;
        yield { batch: builder.build(), position };
      }
    } finally {
      tally();
    }
  }

  /**
   * Loads a segment's parsed rows (one worker job: decode and parse), paced; the loaded index's check of
   * the chunk's stored tail (no worker job) runs first, outside the pace (PacedLoads.run). `signal`: the
   * epoch's, aborted when it is left (the job is then not started, or a timed map's call is stopped).
   */
  private loadSegment(segment: Segment, signal: AbortSignal): Promise<ChunkRows> {
    return this.loads.run(
      () => loadChunkRows(this.file, segment.chunk, this.spec, signal, this.selection(segment)),
      () => this.file.records.verifyTail(segment.chunk),
    );
  }

  /** Training pace: starts loading the chunks epoch `epoch` asks for at once (its window, and read-ahead). */
  private loadNextEpoch(epoch: number): void {
    if (this.loads.pace?.nextEpoch !== true) return;
    const segments = new ChunkedOrder(this.file.records, this.params(epoch), undefined, this.subset).segments;
    const count = Math.min(segments.length, (this.mode === 'chunked' ? this.windowChunks : 1) + this.lookahead - 1);
    this.loads.startEpoch(
      epoch,
      count,
      (slot) => loadChunkRows(this.file, segments[slot].chunk, this.spec, undefined, this.selection(segments[slot])),
      (slot) => this.file.records.verifyTail(segments[slot].chunk),
    );
  }

  private async *chunkEpoch(epoch: number, start: number, signal: AbortSignal): AsyncGenerator<EpochItem> {
    // The window holds the parsed rows of the records not drawn yet, place by place beside the order's
    // (row-window.ts; not the reader's cache); loads[slot] settles once a slot's rows reached it (or failed).
    const loads: Array<Promise<void> | undefined> = [];
    const failures = new Map<number, unknown>();
    let replaying = start > 0;
    const ahead = this.loads.take(epoch, start);
    const startLoad = (slot: number): void => {
      if (slot >= order.segments.length || loads[slot] !== undefined || order.remaining(slot) === 0) return;
      // Remote files: this chunk's bytes fetched with those of its file's chunks the plan uses soon.
      if (ahead?.get(slot) === undefined) plan.loading(slot);
      loads[slot] = (ahead?.get(slot) ?? this.loadSegment(order.segments[slot], signal)).then(
        (rows) => {
          this.noteSkipped(rows.rows);
          window.put(slot, rows);
        },
        (error: unknown) => {
          failures.set(slot, error);
        },
      );
    };
    const subset = this.subset;
    const order: ChunkedOrder = new ChunkedOrder(
      this.file.records,
      this.params(epoch),
      (slot) => {
        if (replaying) return;
        // Fetch ahead: the chunks that enter the window next are decoded and parsed while this one is used.
        for (let s = slot; s < slot + this.lookahead; s++) startLoad(s);
        // Every load of this epoch asked for: the next epoch's first ones queue behind them (training pace).
        if (slot + this.lookahead >= order.segments.length) this.loadNextEpoch(epoch + 1);
        window.entered(slot);
      },
      subset,
    );
    const plan = new PlanReadAhead(this.file, order.segments);
    const window = new RowWindow(order, this.spec.features.length, labelWidthOf(this.spec), this.spec.labelType === 'int32' && this.spec.oneHot === 0);
    // Resuming: replay the draws already made (no decoding: the order depends only on the index), then
    // fetch the chunks still in the window.
    let position = 0;
    while (position < start && order.next() !== undefined) position++;
    if (replaying) {
      replaying = false;
      for (const slot of order.pendingSlots()) startLoad(slot);
      if (order.loaded - 1 + this.lookahead >= order.segments.length) this.loadNextEpoch(epoch + 1);
    }
    const rowsOf = async (slot: number): Promise<void> => {
      startLoad(slot);
      await loads[slot];
      const failure = failures.get(slot);
      if (failure !== undefined) throw failure;
      if (window.filled[slot] === 0) throw new Error(`internal: no rows for chunk slot ${slot}`);
    };
    const cursor = { position };
    let turned = performance.now();
    for (;;) {
      const batch = this.batchDraws(cursor.position, order.length);
      if (batch === undefined) return;
      if (this.turnMs !== undefined && this.loads.pending > 0 && performance.now() - turned >= this.turnMs) {
        await eventLoopTurn();
        turned = performance.now();
      }
      const builder = this.builder();
      for (;;) {
        const waiting = fillBatch(builder, order, window, batch.end, cursor);
        if (waiting < 0) break;
        const t0 = performance.now();
        await rowsOf(waiting);
        turned = performance.now();
        this.chunkWaitMs += turned - t0;
        this.chunkWaits++;
      }
      this.peakWindowBytes = Math.max(this.peakWindowBytes, window.peakBytes);
      if (this.finished(builder, batch.refill)) return;
      yield { batch: builder.build(), position: cursor.position };
    }
  }

  /** The records of a segment (positions of the subset, when there is one) to parse. */
  private selection(segment: Segment): { first: number; end: number; only?: Float64Array } {
    const subset = this.subset;
    if (subset === undefined) return segment;
    const only = subset.slice(segment.first, segment.end);
    return { first: only[0], end: only[only.length - 1] + 1, only };
  }

  private epochItems(epoch: number, start: number, signal: AbortSignal): AsyncGenerator<EpochItem> {
    return this.mode === 'exact' ? this.exactEpoch(epoch, start, signal) : this.chunkEpoch(epoch, start, signal);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    for (let done = 0; this.repeat || done < this.epochs; done++) {
      const epoch = this.epochNow;
      // Aborted when the consumer stops early: a round being loaded stops at its next chunk, jobs not
      // started are not, and a timed map's call still running is stopped (map-clock.ts).
      const stop = new AbortController();
      const items = prefetch(this.epochItems(epoch, this.position, stop.signal), this.prefetchDepth);
      try {
        for (;;) {
          const item = await items.next();
          if (item.done === true) break;
          this.position = item.value.position;
          yield item.value.batch;
        }
      } finally {
        stop.abort();
        await items.return(undefined);
        // Also when the consumer stops early: what was read so far is reported.
        this.skips.end(`epoch ${epoch}`);
      }
      this.epochNow = epoch + 1;
      this.position = 0;
    }
  }
}
