/**
 * ShuffledBatchDataset: mini-batches of parsed records, re-iterable (one pass = one epoch, each pass a
 * new epoch), in `exact`, `chunked` or file order, sharded by rank into equal shards (shard.ts),
 * resumable from a small state, with batches prepared ahead of the consumer. The exact order is served
 * in rounds (rounds.ts): a few passes over the file per epoch, as many as the memory budget needs. Its
 * options: shuffled-options.ts; one epoch: shuffled-exact.ts (exact order) and shuffled-chunked.ts
 * (chunked and file order), with what they share in shuffled-epoch.ts.
 */
import { SeekdataError } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { checkBoolean, checkKnownKeys, checkNonNegativeInt, checkPositiveInt } from '../options.js';
import { SHUFFLED_OPTION_KEYS } from '../option-keys.js';
import { prefetch, type Batch, type DatasetState } from './batch.js';
import { compileFeatures } from './features.js';
import type { ShuffledBatchOptions } from './shuffled-options.js';
import type { ParseSpec } from './parse.js';
import type { ChunkRows } from './rows.js';
import { DEFAULT_SHUFFLE_MEMORY_BYTES, roundRowBytes } from './rounds.js';
import { PacedLoads, type PacedDataset, type TrainingPace } from './pace.js';
import { checkPriority } from '../workers/priority.js';
import { checkPlan, epochDraws, planIdentity, resolvePlan, type PlanIdentity } from './plan.js';
import { recordsPerRank, type OrderParams, type ShardPolicy, type ShuffleMode } from './shard.js';
import { chunkEpoch } from './shuffled-chunked.js';
import type { EpochContext, EpochItem } from './shuffled-epoch.js';
import { exactEpoch } from './shuffled-exact.js';
import type { RecordSubset } from './subset.js';
import type { SkipTally } from './skips.js';

export type { ShuffledBatchOptions } from './shuffled-options.js';

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

  private epochItems(epoch: number, start: number, signal: AbortSignal): AsyncGenerator<EpochItem> {
    const ds: EpochContext = {
      file: this.file,
      spec: this.spec,
      subset: this.subset,
      mode: this.mode,
      batchSize: this.batchSize,
      worldSize: this.worldSize,
      dropRemainder: this.dropRemainder,
      windowChunks: this.windowChunks,
      lookahead: this.lookahead,
      turnMs: this.turnMs,
      roundRows: this.roundRows,
      loads: this.loads,
      skips: this.skips,
      params: (e) => this.params(e),
      counts: this,
    };
    return this.mode === 'exact' ? exactEpoch(ds, epoch, start, signal) : chunkEpoch(ds, epoch, start, signal);
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
