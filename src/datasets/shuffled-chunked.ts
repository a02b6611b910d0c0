/**
 * One `chunked` or file-order epoch of a ShuffledBatchDataset (shuffled.ts): chunks in the order's
 * sequence (order.ts), each loaded by one worker job (decode and parse), paced (pace.ts), `lookahead`
 * chunks ahead of the window and with the next epoch's first ones queued behind the last, their
 * compressed bytes fetched ahead for remote files (plan-read-ahead.ts); the parsed rows of the records not
 * drawn yet kept in the window (row-window.ts), from which the batch loop (chunk-batch.ts) draws.
 */
import type { ParsedRows } from './parse.js';
import { fillBatch } from './chunk-batch.js';
import { ChunkedOrder } from './order.js';
import { PlanReadAhead } from './plan-read-ahead.js';
import { RowWindow } from './row-window.js';
import { labelWidthOf, loadChunkRows, type ChunkRows } from './rows.js';
import type { Segment } from './shard.js';
import { batchBuilder, finished, nextBatchDraws, type EpochContext, type EpochItem } from './shuffled-epoch.js';

/** Resolves after the event loop's next check phase: pending I/O callbacks and worker messages run first. */
function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function noteSkipped(ds: EpochContext, rows: ParsedRows): void {
  ds.skips.add(rows);
  ds.counts.skipped += rows.skipped;
  for (const e of rows.skippedExamples) if (ds.counts.skippedExamples.length < 10) ds.counts.skippedExamples.push(e);
}

/**
 * Loads a segment's parsed rows (one worker job: decode and parse), paced; the loaded index's check of
 * the chunk's stored tail (no worker job) runs first, outside the pace (PacedLoads.run). `signal`: the
 * epoch's, aborted when it is left (the job is then not started, or a timed map's call is stopped).
 */
function loadSegment(ds: EpochContext, segment: Segment, signal: AbortSignal): Promise<ChunkRows> {
  return ds.loads.run(
    () => loadChunkRows(ds.file, segment.chunk, ds.spec, signal, selection(ds, segment)),
    () => ds.file.records.verifyTail(segment.chunk),
  );
}

/** Training pace: starts loading the chunks epoch `epoch` asks for at once (its window, and read-ahead). */
function loadNextEpoch(ds: EpochContext, epoch: number): void {
  if (ds.loads.pace?.nextEpoch !== true) return;
  const segments = new ChunkedOrder(ds.file.records, ds.params(epoch), undefined, ds.subset).segments;
  const count = Math.min(segments.length, (ds.mode === 'chunked' ? ds.windowChunks : 1) + ds.lookahead - 1);
  ds.loads.startEpoch(
    epoch,
    count,
    (slot, signal) => loadChunkRows(ds.file, segments[slot].chunk, ds.spec, signal, selection(ds, segments[slot])),
    (slot) => ds.file.records.verifyTail(segments[slot].chunk),
  );
}

export async function* chunkEpoch(ds: EpochContext, epoch: number, start: number, signal: AbortSignal): AsyncGenerator<EpochItem> {
  // The window holds the parsed rows of the records not drawn yet, place by place beside the order's
  // (row-window.ts; not the reader's cache); loads[slot] settles once a slot's rows reached it (or failed).
  const loads: Array<Promise<void> | undefined> = [];
  const failures = new Map<number, unknown>();
  let replaying = start > 0;
  const ahead = ds.loads.take(epoch, start, signal);
  const startLoad = (slot: number): void => {
    if (slot >= order.segments.length || loads[slot] !== undefined || order.remaining(slot) === 0) return;
    // Remote files: this chunk's bytes fetched with those of its file's chunks the plan uses soon.
    if (ahead?.get(slot) === undefined) plan.loading(slot);
    loads[slot] = (ahead?.get(slot) ?? loadSegment(ds, order.segments[slot], signal)).then(
      (rows) => {
        noteSkipped(ds, rows.rows);
        window.put(slot, rows);
      },
      (error: unknown) => {
        failures.set(slot, error);
      },
    );
  };
  const subset = ds.subset;
  const order: ChunkedOrder = new ChunkedOrder(
    ds.file.records,
    ds.params(epoch),
    (slot) => {
      if (replaying) return;
      // Fetch ahead: the chunks that enter the window next are decoded and parsed while this one is used.
      for (let s = slot; s < slot + ds.lookahead; s++) startLoad(s);
      // Every load of this epoch asked for: the next epoch's first ones queue behind them (training pace).
      if (slot + ds.lookahead >= order.segments.length) loadNextEpoch(ds, epoch + 1);
      window.entered(slot);
    },
    subset,
  );
  const plan = new PlanReadAhead(ds.file, order.segments);
  const window = new RowWindow(order, ds.spec.features.length, labelWidthOf(ds.spec), ds.spec.labelType === 'int32' && ds.spec.oneHot === 0);
  // Resuming: replay the draws already made (no decoding: the order depends only on the index), then
  // fetch the chunks still in the window.
  let position = 0;
  while (position < start && order.next() !== undefined) position++;
  if (replaying) {
    replaying = false;
    for (const slot of order.pendingSlots()) startLoad(slot);
    if (order.loaded - 1 + ds.lookahead >= order.segments.length) loadNextEpoch(ds, epoch + 1);
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
    const batch = nextBatchDraws(ds, cursor.position, order.length);
    if (batch === undefined) return;
    if (ds.turnMs !== undefined && ds.loads.pending > 0 && performance.now() - turned >= ds.turnMs) {
      await eventLoopTurn();
      turned = performance.now();
    }
    const builder = batchBuilder(ds);
    for (;;) {
      const waiting = fillBatch(builder, order, window, batch.end, cursor);
      if (waiting < 0) break;
      const t0 = performance.now();
      await rowsOf(waiting);
      turned = performance.now();
      ds.counts.chunkWaitMs += turned - t0;
      ds.counts.chunkWaits++;
    }
    ds.counts.peakWindowBytes = Math.max(ds.counts.peakWindowBytes, window.peakBytes);
    if (finished(ds, builder, batch.refill)) return;
    yield { batch: builder.build(), position: cursor.position };
  }
}

/** The records of a segment (positions of the subset, when there is one) to parse. */
function selection(ds: EpochContext, segment: Segment): { first: number; end: number; only?: Float64Array } {
  const subset = ds.subset;
  if (subset === undefined) return segment;
  const only = subset.slice(segment.first, segment.end);
  return { first: only[0], end: only[only.length - 1] + 1, only };
}
