/** The options of ShuffledBatchDataset (shuffled.ts). */
import type { DatasetState } from './batch.js';
import type { FeatureOptions } from './features.js';
import type { ShardPolicy } from './shard.js';
import type { RecordSubset } from './subset.js';

export interface ShuffledBatchOptions extends FeatureOptions {
  /** Rows per batch. Default 32. */
  batchSize?: number;
  /**
   * `'exact'`: a uniform random order of all records (a keyed permutation of the epoch), served in rounds
   * of as many rows as `shuffleMemoryBytes` holds: ceil(records / rows per round) passes over the file per
   * epoch (`passesPerEpoch`; one when the rows fit). `'chunked'` (default): chunks in a random order,
   * records drawn at random from a window of `windowChunks` decoded chunks (reads at sequential speed).
   * `false`: file order.
   */
  shuffle?: 'exact' | 'chunked' | false;
  /**
   * `shuffle: 'exact'`: bytes of parsed rows a round may hold (4 bytes per feature and label value plus
   * 13 of bookkeeping per row). Default 256 MiB. The order does not depend on it, only the passes.
   */
  shuffleMemoryBytes?: number;
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
  /**
   * This process's shard and the number of shards. Default 0 of 1. Every rank draws the same number of
   * records per epoch, so ranks yield the same number of batches (see `shardPolicy`); a world size above
   * the file's record count is refused (`INVALID_OPTION`).
   */
  rank?: number;
  worldSize?: number;
  /**
   * How shards of unequal size are made equal when worldSize does not divide the record count:
   * `'pad'` (default) repeats one record in the shards one short, `'drop'` leaves one record out of the
   * shards one over (as PyTorch's DistributedSampler with drop_last false / true).
   */
  shardPolicy?: ShardPolicy;
  /**
   * Resume from `state()` of an earlier dataset over the same file and options; a state saved under
   * another plan (other file, world size, shuffle mode, window or shard policy) is refused.
   */
  state?: DatasetState;
  /** Batches prepared ahead of the consumer. Default 2. */
  prefetch?: number;
  /**
   * `chunked` and file order: while chunk loads are in flight, give the event loop a turn (`setImmediate`)
   * before a batch when this many milliseconds have passed since the last one (0: before every batch), so
   * that the loads' worker results (and remote requests; local reads are synchronous, see `syncReadBytes`)
   * are handled while the consumer computes between batches.
   * Default: none of its own — the event loop turns when a batch waits for a chunk's rows, so a consumer that
   * never yields (tfjs's `fitDataset` training on this thread) has each chunk's load finished while it waits
   * for it (`chunkWaitMs` tells how long). Turning keeps the loads ahead and ends those waits, but on the
   * 2-core machine we measure on it made training slower, not faster: each turn also runs V8's pending
   * garbage-collection tasks on the training thread, and the decoding worker running beside training costs
   * more CPU than in its waits (README, "Training throughput"). Worth trying where decoding is heavy
   * against the consumer's work, or cores are free.
   */
  eventLoopTurnMs?: number;
  /**
   * Draw only these records (a train or validation side of `splitRecords`, `recordRange`): the epochs,
   * shards, states and `recordsPerEpoch` are the subset's. Default: all of the file's records.
   */
  subset?: RecordSubset;
}
