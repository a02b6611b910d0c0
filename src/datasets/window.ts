/**
 * What a chunked epoch of `sample` holds: per slot (a chunk's share of the shard, see shard.ts), the data
 * of the records not drawn yet (their bytes). Data is held here, not in the reader's cache, so a small
 * cache does not make the window decode chunks again. (Datasets keep parsed rows place by place beside
 * the order instead, row-window.ts: a draw there is one row read, not a lookup in its chunk.)
 *
 * Draws are uniform over the window, so a chunk is not done when the window moves on: it keeps a few
 * records for a long time, and about K ln(records per chunk) chunks are still live in a window of K (45
 * to 80 with K = 8 and 100 to 10,000 records per chunk). Holding their whole data would cost that many
 * chunks. So a slot whose data holds at least twice the records it has left is compacted to those: the
 * window holds at most about twice the data of the records it has left to draw (about K chunks' worth),
 * plus the slots read ahead, and each record is copied at most about once more on the way.
 */
import type { Segment } from './shard.js';

/** How one kind of slot data is measured and compacted. */
export interface SlotOps<T> {
  /** Records whose data `data` holds. */
  held(data: T): number;
  /** Bytes `data` holds. */
  bytes(data: T): number;
  /** The data of the records (by number) `keep` selects, in a new smaller object. */
  compact(data: T, keep: (record: number) => boolean): T;
}

export class SlotWindow<T> {
  private readonly data: Array<T | undefined> = [];
  /** Per slot, a bit per record of its segment: drawn. */
  private readonly drawnBits: Array<Uint8Array | undefined> = [];
  private readonly left: Int32Array;
  /** Bytes held now, and the most held at once. */
  bytes = 0;
  peakBytes = 0;

  constructor(
    private readonly segments: Segment[],
    private readonly ops: SlotOps<T>,
    /** Segments in positions of a subset: the position of a record (default: segments are in records). */
    private readonly positionOf: (record: number) => number = (record) => record,
  ) {
    this.left = Int32Array.from(segments, (s) => s.end - s.first);
  }

  /** Records of slot s still to draw. */
  remaining(slot: number): number {
    return this.left[slot];
  }

  get(slot: number): T | undefined {
    return this.data[slot];
  }

  /** Stores the data of a slot (all of its segment's records); drops what was drawn before it came. */
  put(slot: number, value: T): void {
    if (this.left[slot] === 0) return;
    this.data[slot] = value;
    this.account(this.ops.bytes(value));
    this.maybeCompact(slot);
  }

  /** Marks record `record` of slot s drawn: its data is released (the slot's when it was the last one). */
  draw(slot: number, record: number): void {
    const segment = this.segments[slot];
    let bits = this.drawnBits[slot];
    if (bits === undefined) {
      bits = new Uint8Array(Math.ceil((segment.end - segment.first) / 8));
      this.drawnBits[slot] = bits;
    }
    const rel = this.positionOf(record) - segment.first;
    bits[rel >>> 3] |= 1 << (rel & 7);
    if (--this.left[slot] === 0) {
      const value = this.data[slot];
      if (value !== undefined) this.account(-this.ops.bytes(value));
      this.data[slot] = undefined;
      this.drawnBits[slot] = undefined;
      return;
    }
    this.maybeCompact(slot);
  }

  private maybeCompact(slot: number): void {
    const value = this.data[slot];
    if (value === undefined || this.ops.held(value) < 2 * this.left[slot]) return;
    const bits = this.drawnBits[slot];
    if (bits === undefined) return;
    const first = this.segments[slot].first;
    const compacted = this.ops.compact(value, (record) => {
      const rel = this.positionOf(record) - first;
      return (bits[rel >>> 3] & (1 << (rel & 7))) === 0;
    });
    this.account(this.ops.bytes(compacted) - this.ops.bytes(value));
    this.data[slot] = compacted;
  }

  private account(delta: number): void {
    this.bytes += delta;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
  }

  /** Drops everything (the epoch ended or was abandoned). */
  clear(): void {
    this.data.length = 0;
    this.drawnBits.length = 0;
    this.bytes = 0;
  }
}

/**
 * Position of `record` in ascending `records`, or -1. `guess` (optional) is tried first: where the record
 * would be if no record before it were missing (a slot not compacted yet, with no skipped record).
 */
export function findRecord(records: Float64Array, record: number, count = records.length, guess = -1): number {
  if (guess >= 0 && guess < count && records[guess] === record) return guess;
  let lo = 0;
  let hi = count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = records[mid];
    if (r === record) return mid;
    if (r < record) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
