/**
 * The batch loop of a chunked (or file-order) epoch: draws records from the order and copies their parsed
 * rows into a batch. It runs once per record on the thread that trains (toTfDataset), so it is one plain
 * synchronous function — no async generator frame, no object per draw — that stops at the first draw whose
 * chunk's rows have not arrived yet; the caller awaits them and calls it again.
 */
import type { BatchBuilder } from './batch.js';
import type { ChunkedOrder } from './order.js';
import type { ParsedRows } from './parse.js';
import { findRecord, type SlotWindow } from './window.js';

/** Where a batch stands between calls of `fillBatch`. */
export interface BatchCursor {
  /** Draws consumed from the epoch's order. */
  position: number;
  /** Slot of a draw waiting for its chunk's rows (its record in `record`), or -1. */
  waiting: number;
  record: number;
}

/**
 * Adds draws of `order` to `builder` until it is full, the order reaches draw `end`, the epoch ends, or a
 * drawn record's slot has no rows in `window` yet (then `cursor.waiting` names the slot: load it into the
 * window and call again). `firsts[s]` is the first record of slot s: a slot not compacted yet, without
 * skipped records, holds record first + k at row k, tried before a binary search.
 */
export function fillBatch(builder: BatchBuilder, order: ChunkedOrder, window: SlotWindow<ParsedRows>, firsts: Float64Array, end: number, cursor: BatchCursor): void {
  let position = cursor.position;
  let slot = cursor.waiting;
  let record = cursor.record;
  cursor.waiting = -1;
  for (;;) {
    if (slot < 0) {
      if (builder.full || position >= end) break;
      slot = order.draw();
      if (slot < 0) break;
      record = order.record;
      position++;
    }
    const rows = window.get(slot);
    if (rows === undefined) {
      cursor.waiting = slot;
      cursor.record = record;
      break;
    }
    const row = findRecord(rows.records, record, rows.rows, record - firsts[slot]);
    if (row >= 0) builder.add(rows, row);
    window.draw(slot, record);
    slot = -1;
  }
  cursor.position = position;
}
