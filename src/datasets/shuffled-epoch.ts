/**
 * What one epoch of a ShuffledBatchDataset (shuffled.ts) works with: the dataset's settings and the
 * counters it adds to (`EpochContext`), what it yields (`EpochItem`: a batch and the draws consumed after
 * it), and the batch helpers both kinds of epoch share. The epochs themselves are in shuffled-exact.ts
 * (exact order, served in rounds) and shuffled-chunked.ts (chunked and file order).
 */
import type { Indexed } from '../index/indexed.js';
import { BatchBuilder, batchDraws, type Batch, type BatchDraws } from './batch.js';
import type { PacedLoads } from './pace.js';
import type { ParseSpec } from './parse.js';
import { labelWidthOf, type ChunkRows } from './rows.js';
import type { OrderParams, ShuffleMode } from './shard.js';
import type { SkipTally } from './skips.js';
import type { RecordSubset } from './subset.js';

export interface EpochItem {
  batch: Batch;
  /** Draws consumed after this batch. */
  position: number;
}

/** The counters of a ShuffledBatchDataset that its epochs add to (its public fields of these names). */
export interface EpochCounters {
  skipped: number;
  skippedExamples: Array<{ record: number; reason: string }>;
  peakWindowBytes: number;
  chunkWaitMs: number;
  chunkWaits: number;
  peakRoundRows: number;
  passesMade: number;
  recordsParsed: number;
}

/** A ShuffledBatchDataset as its epochs see it: its settings (fixed when it is made), loads, skips and counters. */
export interface EpochContext {
  file: Indexed;
  spec: ParseSpec;
  /** The records drawn from, when not all of the file's. */
  subset: RecordSubset | undefined;
  mode: ShuffleMode;
  batchSize: number;
  worldSize: number;
  dropRemainder: boolean;
  windowChunks: number;
  /** Chunks decoded ahead (the file's `readAhead`). */
  lookahead: number;
  /** `eventLoopTurnMs`. */
  turnMs: number | undefined;
  roundRows: number;
  /** Chunk loads of `chunked` and file-order epochs (paced for training by toTfDataset). */
  loads: PacedLoads<ChunkRows>;
  /** This epoch's skips, for the warning at its end (options.onWarning). */
  skips: SkipTally;
  /** The order parameters of epoch `epoch`. */
  params(epoch: number): OrderParams;
  counts: EpochCounters;
}

/** An empty batch of the dataset's shape. */
export function batchBuilder(ds: EpochContext): BatchBuilder {
  return new BatchBuilder(ds.batchSize, ds.spec.features.length, labelWidthOf(ds.spec), ds.spec.labelType);
}

/** The draws of the batch starting at `position` of an epoch of `length` draws (batch.ts). */
export function nextBatchDraws(ds: EpochContext, position: number, length: number): BatchDraws | undefined {
  return batchDraws(position, length, ds.batchSize, ds.worldSize, ds.dropRemainder);
}

/** True when a refilled batch ends the epoch (empty, or short and dropped). */
export function finished(ds: EpochContext, builder: BatchBuilder, refill: boolean): boolean {
  return refill && (builder.size === 0 || (ds.dropRemainder && !builder.full));
}
