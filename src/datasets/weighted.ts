/**
 * Weighted sampling (PyTorch's `WeightedRandomSampler(weights, num_samples, replacement)`): each epoch draws
 * `numSamples` records, record r with probability weight(r) / Σ weights, for imbalanced classes. The weights
 * are per record — a numeric column's values, or a function of each row's named values — computed by one pass
 * over the file when the dataset is made (8 bytes per record). With replacement (the default) they are kept
 * as cumulative sums and a draw is a binary search of a seeded uniform number; without, the epoch's order is
 * an exponential race (Efraimidis and Spirakis): record r's key is E_r / weight(r), E_r an exponential variate
 * hashed from (seed, epoch, r), and the draws are the records by increasing key — the same law as drawing one
 * at a time in proportion to the weights left. Either way an epoch's draws are a pure function of (seed,
 * epoch). Each batch's records are read and parsed in one worker job.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { checkBoolean, checkKnownKeys, checkNonNegativeInt, checkPositiveInt } from '../options.js';
import { WEIGHTED_OPTION_KEYS } from '../option-keys.js';
import { BatchBuilder, type Batch } from './batch.js';
import { compileFeatures, type FeatureOptions } from './features.js';
import { rowValues, type RowValues } from './named.js';
import type { ParseSpec } from './parse.js';
import { hashInts, mulberry32 } from './permutation.js';
import { environmentShard } from './plan.js';
import { labelWidthOf, loadRecordRows } from './rows.js';
import { ShuffledBatchDataset } from './shuffled.js';
import type { RecordSubset } from './subset.js';
import { raceOrder } from './weighted-race.js';
import { toTfDataset, type TfApi, type TfDatasetOptions } from './tfjs.js';

export interface WeightedOptions extends FeatureOptions {
  /**
   * Each record's weight (≥ 0, finite): a numeric column (CSV name, JSONL path; a missing value weighs
   * 0), or a function of the row's named values `{ xs, ys, record }` (a record the policies skip weighs
   * 0). Required.
   */
  weights: string | ((row: RowValues) => number);
  /**
   * Records drawn per epoch. Default: the file's record count (without replacement: the records of weight
   * > 0, each once).
   */
  numSamples?: number;
  /**
   * Whether a record can be drawn more than once in an epoch. Default true. False: each epoch draws
   * `numSamples` distinct records of weight > 0 (at most their number), in proportion to the weights left,
   * as PyTorch's `replacement=False`; the epoch's order costs a sort of the keys of the records of weight > 0.
   */
  replacement?: boolean;
  /** Rows per batch. Default 32. */
  batchSize?: number;
  /** Seed of the draws. Default 0. */
  seed?: number;
  /** The first epoch. Default 0. */
  epoch?: number;
  /**
   * Sharding across training processes: every rank computes the same global stream of draws (seed, epoch)
   * and takes every `worldSize`-th of them starting at `rank`, so the ranks' draws together are exactly the
   * unsharded epoch's (`numSamples` rounded up to a multiple of `worldSize`: equal batch counts). Default:
   * `SEEKDATA_RANK`/`SEEKDATA_WORLD_SIZE`, else `RANK`/`WORLD_SIZE`, else one process. Both or neither.
   */
  rank?: number;
  worldSize?: number;
}

/** Per record, the weight (one sequential pass over the file, parsing in the worker pool). */
async function recordWeights(file: Indexed, options: WeightedOptions): Promise<Float64Array> {
  const weights = new Float64Array(file.records.count);
  const by = options.weights;
  const column = typeof by === 'string';
  // The rows as the dataset gives them (its feature options), read in file order.
  const features: Record<string, unknown> = { ...options };
  for (const key of ['weights', 'numSamples', 'replacement', 'batchSize', 'seed', 'epoch', 'rank', 'worldSize']) delete features[key];
  let pass: ShuffledBatchDataset;
  try {
    // Every record's weight on every rank: the pass is never sharded (rank 0 of 1, whatever the environment says).
    const whole = { shuffle: false as const, batchSize: 4096, rank: 0, worldSize: 1 };
    pass = new ShuffledBatchDataset(file, column ? { features: [by], missing: 0, ...whole } : { ...(features as FeatureOptions), ...whole });
  } catch (error) {
    // The weights column is passed as the pass's one feature: an unknown one is the weights option's fault.
    if (!column || !(error instanceof SeekdataError) || error.option !== 'features') throw error;
    throw new SeekdataError('INVALID_OPTION', error.message.replace(/^options\.features must be columns/, 'options.weights must be a column'), { file: file.name, option: 'weights', cause: error });
  }
  for await (const batch of pass) {
    for (let k = 0; k < batch.size; k++) {
      const record = batch.records[k];
      let w: unknown;
      if (column) w = batch.xs[k];
      else {
        const row = rowValues(batch, k, pass.featureNames, pass.labelNames);
        try {
          w = by(row);
        } catch (cause) {
          const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
          throw new SeekdataError('MAP_ERROR', `${file.name}: weights function threw ${what} on record ${record}`, { file: file.name, record, cause });
        }
      }
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        throw new SeekdataError(column ? 'PARSE_ERROR' : 'MAP_ERROR', `${file.name}: record ${record} weighs ${typeof w === 'number' ? String(w) : `${JSON.stringify(w) ?? String(w)} (the weights function returned a ${typeof w})`}, not a finite number ≥ 0`, { file: file.name, record });
      }
      weights[record] = w;
    }
  }
  return weights;
}

export class WeightedSampleDataset implements AsyncIterable<Batch> {
  readonly featureNames: string[];
  readonly labelNames: string[];
  readonly spec: ParseSpec;
  readonly batchSize: number;
  readonly numSamples: number;
  readonly seed: number;
  private epochNow: number;
  /** Records drawn that the policies skipped when their rows were parsed (batches are then shorter). */
  skipped = 0;
  /** This process's shard: it draws every `worldSize`-th draw of the global stream, from `rank`. */
  readonly rank: number;
  readonly worldSize: number;

  /** Whether a record can be drawn more than once per epoch. */
  readonly replacement: boolean;
  /** Records of weight > 0. */
  readonly drawable: number;

  private constructor(
    readonly file: Indexed,
    options: WeightedOptions,
    /**
     * With replacement, the cumulative weights (cumulative[r] = Σ weights of records 0..r); without, the
     * weights themselves.
     */
    private readonly weights: Float64Array,
    drawable: number,
  ) {
    const compiled = compileFeatures(file, options);
    this.spec = compiled.spec;
    this.featureNames = compiled.featureNames;
    this.labelNames = compiled.labelNames;
    this.batchSize = checkPositiveInt('batchSize', options.batchSize ?? 32);
    // Checked by create() before the weights' pass.
    this.replacement = options.replacement ?? true;
    this.drawable = drawable;
    this.numSamples = checkPositiveInt('numSamples', options.numSamples ?? (this.replacement ? file.records.count : drawable));
    if (!this.replacement && this.numSamples > drawable) {
      throw new SeekdataError('INVALID_OPTION', `${file.name}: options.numSamples (${this.numSamples}) exceeds the ${drawable} records of weight > 0: without replacement each is drawn at most once per epoch`, { file: file.name, option: 'numSamples' });
    }
    if ((options.rank === undefined) !== (options.worldSize === undefined)) throw invalidOption(options.rank === undefined ? 'rank' : 'worldSize', 'given together with ' + (options.rank === undefined ? 'worldSize' : 'rank'), undefined);
    const shard = options.rank === undefined ? environmentShard() : { rank: options.rank, worldSize: options.worldSize };
    this.worldSize = checkPositiveInt('worldSize', shard?.worldSize ?? 1);
    this.rank = checkNonNegativeInt('rank', shard?.rank ?? 0);
    if (this.rank >= this.worldSize) throw invalidOption('rank', `below worldSize (${this.worldSize})`, this.rank);
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw invalidOption('seed', 'an integer', this.seed);
    this.epochNow = checkNonNegativeInt('epoch', options.epoch ?? 0);
  }

  /** Makes the dataset: checks the options, then computes the weights (one pass over the file); over `subset`'s records only when given. */
  static async create(file: Indexed, options: WeightedOptions, subset?: RecordSubset): Promise<WeightedSampleDataset> {
    checkKnownKeys(options, WEIGHTED_OPTION_KEYS, 'weightedSample');
    if (typeof options.weights !== 'string' && typeof options.weights !== 'function') throw invalidOption('weights', 'a numeric column name or a function of a row', options.weights);
    // Checks the feature options before the pass.
    compileFeatures(file, options);
    if (options.replacement !== undefined) checkBoolean('replacement', options.replacement);
    const weights = await recordWeights(file, options);
    // Over a subset (a split's side): records outside it are never drawn.
    if (subset !== undefined) for (let r = 0; r < weights.length; r++) if (subset.positionOf(r) < 0) weights[r] = 0;
    let total = 0;
    let drawable = 0;
    for (let r = 0; r < weights.length; r++) {
      total += weights[r];
      if (weights[r] > 0) drawable++;
    }
    if (!(total > 0)) throw new SeekdataError('INVALID_OPTION', `${file.name}: every record weighs 0: nothing to draw`, { file: file.name, option: 'weights' });
    // With replacement, the weights become their cumulative sums (in place: the same sums as before).
    if (options.replacement ?? true) for (let r = 0, sum = 0; r < weights.length; r++) weights[r] = sum += weights[r];
    return new WeightedSampleDataset(file, options, weights, drawable);
  }

  /** The dataset as a tf.data.Dataset of `{ xs, ys }` (toTfDataset); each pass is one epoch of draws. */
  toTf<Tf extends TfApi>(tf: Tf, options?: TfDatasetOptions): ReturnType<Tf['data']['generator']> {
    return toTfDataset(this, tf, options);
  }

  /** The epoch the next iteration draws. */
  get epoch(): number {
    return this.epochNow;
  }

  /** Batches per epoch on this rank: ceil(samplesPerRank / batchSize). */
  get batchesPerEpoch(): number {
    return Math.ceil(this.samplesPerRank / this.batchSize);
  }

  /** Draws of this rank per epoch: ceil(numSamples / worldSize). */
  get samplesPerRank(): number {
    return Math.ceil(this.numSamples / this.worldSize);
  }

  /**
   * The records this rank draws in an epoch, in order (a pure function of seed and epoch; nothing is read):
   * draws rank, rank + worldSize, ... of the epoch's global stream.
   */
  draws(epoch = this.epochNow): Float64Array {
    if (!this.replacement) {
      // The epoch's race order, as a global stream padded (when numSamples is not a multiple of worldSize) by
      // starting over from its first draws, as PyTorch's DistributedSampler pads: equal batch counts.
      const order = raceOrder(this.weights, this.numSamples, this.seed, epoch);
      const out = new Float64Array(this.samplesPerRank);
      for (let i = 0; i < out.length; i++) out[i] = order[(this.rank + i * this.worldSize) % order.length];
      return out;
    }
    const random = mulberry32(hashInts(this.seed, epoch, 0x3e1647));
    const c = this.weights;
    const total = c[c.length - 1];
    const out = new Float64Array(this.samplesPerRank);
    for (let g = 0, i = 0; i < out.length; g++) {
      const u = random() * total;
      if (g % this.worldSize !== this.rank) continue;
      // The first record whose cumulative weight exceeds u (a weight-0 record is never it).
      let lo = 0;
      let hi = c.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (c[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      out[i++] = lo;
    }
    return out;
  }

  /** One epoch (then the next epoch on the next iteration). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    const epoch = this.epochNow++;
    const drawn = this.draws(epoch);
    const labelWidth = labelWidthOf(this.spec);
    const labelType = this.spec.labelType === 'int32' && this.spec.oneHot === 0 ? 'int32' : 'float32';
    for (let start = 0; start < drawn.length; start += this.batchSize) {
      const records = drawn.subarray(start, Math.min(drawn.length, start + this.batchSize));
      // Each distinct record read and parsed once per batch, in file order.
      const distinct = Float64Array.from(new Set(records)).sort();
      const rows = await loadRecordRows(this.file, distinct, this.spec);
      const rowOf = new Map<number, number>();
      for (let k = 0; k < rows.rows; k++) rowOf.set(rows.records[k], k);
      const builder = new BatchBuilder(records.length, this.spec.features.length, labelWidth, labelType);
      for (const r of records) {
        const k = rowOf.get(r);
        if (k === undefined) this.skipped++;
        else builder.add(rows, k);
      }
      yield builder.build();
    }
  }
}
