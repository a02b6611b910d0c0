/**
 * The batch loop of a chunked (or file-order) epoch: draws records from the order and copies their parsed
 * rows from the window (row-window.ts) into a batch. It runs once per record on the thread that trains
 * (toTfDataset), so it is one plain synchronous function over typed arrays — no object, closure or lookup
 * per draw: a draw reads the row at the place the order picked, and moves the last place's row into it —
 * that stops at the first draw whose chunk's rows have not arrived yet; the caller awaits them and calls it
 * again (the draw stays picked, not taken, until then).
 */
import type { BatchBuilder } from './batch.js';
import type { ChunkedOrder } from './order.js';
import type { RowWindow } from './row-window.js';

/**
 * Adds draws of `order` to `builder` until it is full, `position` (draws taken in the epoch) reaches
 * `end`, or the epoch ends; returns -1 then. Returns the slot of a picked draw whose rows are not in
 * `window` yet (put them there and call again). Records without a row (skipped) are drawn and left out.
 */
export function fillBatch(builder: BatchBuilder, order: ChunkedOrder, window: RowWindow, end: number, cursor: { position: number }): number {
  const F = builder.features;
  const L = builder.labelWidth;
  const bx = builder.xs;
  const by = builder.ys;
  const brec = builder.records;
  const capacity = builder.capacity;
  const filled = window.filled;
  const gone = window.gone;
  const xs = window.xs;
  const ys = window.ys;
  let n = builder.size;
  let position = cursor.position;
  let wait = -1;
  while (n < capacity && position < end) {
    const slot = order.pick();
    if (slot < 0) break;
    if (filled[slot] === 0) {
      wait = slot;
      break;
    }
    const place = order.place;
    if (gone[place] === 0) {
      const from = place * F;
      const to = n * F;
      for (let k = 0; k < F; k++) bx[to + k] = xs[from + k];
      if (by !== undefined) {
        const a = place * L;
        const b = n * L;
        for (let k = 0; k < L; k++) by[b + k] = ys[a + k];
      }
      brec[n] = order.record;
      n++;
    }
    const moved = order.commit();
    position++;
    if (moved >= 0) {
      // The last place's record is now at `place`: its row follows.
      const from = moved * F;
      const to = place * F;
      for (let k = 0; k < F; k++) xs[to + k] = xs[from + k];
      const a = moved * L;
      const b = place * L;
      for (let k = 0; k < L; k++) ys[b + k] = ys[a + k];
      gone[place] = gone[moved];
    }
  }
  builder.size = n;
  cursor.position = position;
  return wait;
}
