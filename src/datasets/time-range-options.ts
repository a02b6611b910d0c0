/**
 * The options of `TimeRangeDataset` (time-range.ts): the range, the features, windows by records or by
 * time with their forecasting target, gaps, and the order (time order, a shuffle buffer, or exact).
 */
import type { FeatureOptions } from './features.js';

export interface TimeRangeOptions extends FeatureOptions {
  /**
   * Start of the range (inclusive): epoch ms, a Date, or a text as the CLI's `--from` takes it: an
   * ISO-8601 date or date-time (UTC unless it has an offset) or an epoch number (unit by magnitude).
   */
  from: number | Date | string;
  /** End of the range (exclusive), in the same forms as `from`. */
  to: number | Date | string;
  /** Rows (or windows) per batch. Default 32. */
  batchSize?: number;
  /** Records per window: turns on windows (shape [batch, sequenceLength, features]). */
  sequenceLength?: number;
  /** Record windows: records between the starts of consecutive windows. Default 1. */
  sequenceStride?: number;
  /** Record windows: take every samplingRate-th record. Default 1. */
  samplingRate?: number;
  /** Time windows: each window holds the last `sequenceLength` records of [start, start + windowMs). */
  windowMs?: number;
  /** Time windows: time between the starts of consecutive windows. Default windowMs. */
  strideMs?: number;
  /**
   * Target: the record this many records after the window's last one (or, with `targetAlignment: 'start'`,
   * after its first one).
   */
  targetOffset?: number;
  /**
   * What `targetOffset` counts from: `'end'` (default: the window's last record, so 1 is the next record)
   * or `'start'` (the window's first record: Keras' `timeseries_dataset_from_array(data, targets)`, where
   * `targets[i]` belongs to the window starting at i; `targets = y[k:]` there is `targetOffset: k` here,
   * and `targets = y` is `targetOffset: 0`).
   */
  targetAlignment?: 'end' | 'start';
  /** Target: the first record at least this many ms after the window's last one. */
  targetOffsetMs?: number;
  /** Skip windows in which two consecutive records (up to the target) are more than this many ms apart. */
  maxGapMs?: number;
  /** Batches prepared ahead. Default 2. */
  prefetch?: number;
  /**
   * Shuffle rows (or windows) through a buffer of this many, like tf.data's shuffle; each pass over the
   * dataset has its own order. Default 0: time order.
   */
  shuffleBuffer?: number;
  /**
   * `'exact'`: rows (or windows) in a uniform random order of their places (a keyed permutation, a new one
   * on each pass), served in rounds of as many examples as `shuffleMemoryBytes` holds the rows of: one pass
   * over the range's chunks when its rows fit, else ceil(examples / examples per round) (`passesPerIteration`).
   * Not with shuffleBuffer. Default false: time order (or the shuffle buffer).
   */
  shuffle?: 'exact' | false;
  /**
   * `shuffle: 'exact'`: bytes of parsed rows a round may hold (4 bytes per feature and label value plus
   * 17 of bookkeeping per row). Default 256 MiB.
   */
  shuffleMemoryBytes?: number;
  /** Seed of the shuffle (buffer or exact). Default 0. */
  seed?: number;
  /**
   * Collections: the files continue each other in time (one series cut into files), so windows may span
   * two files. Default false: a window never holds records (or a target) of two files.
   */
  continuous?: boolean;
}
