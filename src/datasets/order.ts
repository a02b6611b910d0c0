/**
 * The order in which an epoch draws records, for each shuffle mode, as a pure function of
 * (seed, epoch, rank, worldSize, options) and the index: `exact` draws the rank's positions of a keyed
 * permutation of all records; `chunked` takes the rank's segments (shard.ts) in the epoch's chunk order
 * and draws records at random from a window of about K chunks (a shuffle buffer over whole chunks);
 * `none` reads the rank's segments in file order.
 */
import { FeistelPermutation, hashInts, mulberry32 } from './permutation.js';
import { exactPosition, recordsPerRank, shardSegments, type OrderParams, type Segment } from './shard.js';
import type { RecordSubset } from './subset.js';

export type { OrderParams, ShuffleMode } from './shard.js';

export class ExactOrder {
  private readonly permutation: FeistelPermutation;
  readonly length: number;
  /** Records permuted: the file's, or its subset's (positions in it). */
  private readonly records: number;
  private readonly subset: RecordSubset | undefined;

  constructor(
    /** The file's record count, or the subset the epoch draws from. */
    records: number | RecordSubset,
    private readonly params: OrderParams,
  ) {
    this.subset = typeof records === 'number' || records.isAll ? undefined : records;
    this.records = typeof records === 'number' ? records : records.count;
    this.permutation = new FeistelPermutation(this.records, hashInts(params.seed, params.epoch, 0x5eed));
    this.length = recordsPerRank(this.records, params.worldSize, params.shardPolicy);
  }

  at(i: number): number {
    const p = this.permutation.at(exactPosition(i, this.records, this.params));
    return this.subset === undefined ? p : this.subset.at(p);
  }

  /**
   * The draws of this rank that draw `record` (the inverse of `at`): its place g in the permutation is
   * drawn at g, and (padding) at g + N, by the rank whose places they are. Writes them to `out`, returns
   * how many (0 to 2).
   */
  drawsOf(record: number, out: Float64Array): number {
    const p = this.subset === undefined ? record : this.subset.positionOf(record);
    if (p < 0) return 0;
    const g = this.permutation.inverse(p);
    const { rank, worldSize } = this.params;
    let n = 0;
    // Place g (no padding below N), then g + N (a padding repeat of a rank one short).
    let d = g - rank;
    if (d >= 0 && d % worldSize === 0 && d / worldSize < this.length) out[n++] = d / worldSize;
    d += this.records;
    if (d >= 0 && d % worldSize === 0 && d / worldSize < this.length) out[n++] = d / worldSize;
    return n;
  }
}

/**
 * Draws records chunk by chunk: which chunk a record comes from (its slot in `chunks`) and its number.
 * `onEnter` is called when a chunk enters the window (so its rows can be fetched ahead). Over a subset,
 * segments are in positions of the subset (a chunk's share of it), draws give record numbers.
 *
 * The window is a buffer of places, one per record not drawn yet: a chunk entering appends its records in
 * file order; a shuffled draw takes a uniformly chosen place and moves the last place's record into it. A
 * caller that keeps data per place (row-window.ts) mirrors that move: `pick` names the place of the next
 * draw without taking it, `commit` takes it and says which place moved there.
 */
export class ChunkedOrder {
  /** The rank's segments in reading order; a segment's place is its slot. */
  readonly segments: Segment[];
  /** Chunk of each slot. */
  readonly chunks: number[];
  readonly length: number;
  private readonly firsts: number[];
  private readonly counts: number[];
  /** Per slot, its records not drawn yet. */
  private readonly left: Int32Array;
  private readonly shuffle: boolean;
  private readonly lowWater: number;
  private readonly random: () => number;
  // The window as typed arrays with an explicit length: this runs once per record drawn.
  private bufRecord = new Float64Array(1024);
  private bufSlot = new Int32Array(1024);
  private size = 0;
  private head = 0;
  /** Slot of the draw picked and not committed yet, or -1. */
  private picked = -1;
  /** Chunks that have entered the window. */
  loaded = 0;
  /** Record of the last `draw()` or `pick()`. */
  record = -1;
  /** Window place of the last `pick()` (the draw's record was there). */
  place = -1;

  constructor(
    /** The record index (its `firstRecord`: per chunk, the first record; length chunks + 1). */
    records: { readonly firstRecord: ArrayLike<number> },
    private readonly params: OrderParams,
    private readonly onEnter: (slot: number) => void = () => {},
    private readonly subset?: RecordSubset,
  ) {
    this.segments = shardSegments(subset === undefined ? records.firstRecord : subset.firstPositions(records.firstRecord), params);
    this.chunks = this.segments.map((s) => s.chunk);
    this.firsts = this.segments.map((s) => s.first);
    this.counts = this.segments.map((s) => s.end - s.first);
    this.left = Int32Array.from(this.counts);
    this.length = this.counts.reduce((a, b) => a + b, 0);
    this.shuffle = params.mode === 'chunked';
    const average = this.chunks.length === 0 ? 0 : this.length / this.chunks.length;
    this.lowWater = Math.max(0, (params.windowChunks - 1) * average);
    this.random = mulberry32(hashInts(params.seed, params.epoch, params.rank, 0xb0f));
  }

  /** Records in slot s. */
  count(slot: number): number {
    return this.counts[slot];
  }

  /** Records of slot s not drawn yet (committed draws count as drawn). */
  remaining(slot: number): number {
    return this.left[slot];
  }

  /** Places in the window now: records entered and not drawn (file order: of the current chunk, drawn or not). */
  get windowSize(): number {
    return this.size;
  }

  /** The record at window place p (p < windowSize). */
  recordAt(place: number): number {
    return this.bufRecord[place];
  }

  /**
   * The most places the window holds at once over the epoch: the first K chunks, or a refill past the low
   * water mark (at most lowWater + the largest chunk); file order: the largest chunk.
   */
  get maxWindow(): number {
    let largest = 0;
    for (const c of this.counts) largest = Math.max(largest, c);
    if (!this.shuffle) return largest;
    let firstK = 0;
    for (let s = 0; s < Math.min(this.counts.length, this.params.windowChunks); s++) firstK += this.counts[s];
    return Math.max(firstK, Math.floor(this.lowWater) + largest);
  }

  /** Calls `visit` with each place of the window holding a record of slot s (and the record). */
  placesOf(slot: number, visit: (place: number, record: number) => void): void {
    for (let p = this.shuffle ? 0 : this.head; p < this.size; p++) if (this.bufSlot[p] === slot) visit(p, this.bufRecord[p]);
  }

  private enter(): void {
    const slot = this.loaded++;
    const first = this.firsts[slot];
    const count = this.counts[slot];
    if (this.size + count > this.bufRecord.length) {
      const capacity = Math.max(this.bufRecord.length * 2, this.size + count);
      const records = new Float64Array(capacity);
      records.set(this.bufRecord.subarray(0, this.size));
      const slots = new Int32Array(capacity);
      slots.set(this.bufSlot.subarray(0, this.size));
      this.bufRecord = records;
      this.bufSlot = slots;
    }
    for (let k = 0; k < count; k++) {
      this.bufRecord[this.size] = this.subset === undefined ? first + k : this.subset.at(first + k);
      this.bufSlot[this.size] = slot;
      this.size++;
    }
    this.onEnter(slot);
  }

  /** The next draw, or undefined at the end of the epoch. */
  next(): { record: number; slot: number } | undefined {
    const slot = this.draw();
    return slot < 0 ? undefined : { record: this.record, slot };
  }

  /**
   * The next draw without an object (the batch loop runs it once per record): its slot, its record in
   * `record`; -1 at the end of the epoch.
   */
  draw(): number {
    const slot = this.pick();
    if (slot >= 0) this.commit();
    return slot;
  }

  /**
   * The next draw without taking it: its slot (its record in `record`, its window place in `place`), or -1
   * at the end of the epoch. Chunks enter the window first when the draw needs them (`onEnter`). Until
   * `commit`, picking again gives the same draw.
   */
  pick(): number {
    if (this.picked >= 0) return this.picked;
    let place: number;
    if (!this.shuffle) {
      while (this.head >= this.size && this.loaded < this.chunks.length) {
        this.size = 0;
        this.head = 0;
        this.enter();
      }
      if (this.head >= this.size) return -1;
      place = this.head;
    } else {
      while (this.loaded < this.chunks.length && (this.loaded < this.params.windowChunks || this.size <= this.lowWater)) this.enter();
      if (this.size === 0) return -1;
      place = Math.floor(this.random() * this.size);
    }
    this.place = place;
    this.record = this.bufRecord[place];
    this.picked = this.bufSlot[place];
    return this.picked;
  }

  /**
   * Takes the picked draw out of the window. Returns the place whose record moved into the drawn place
   * (a shuffled window's last place), or -1 when none moved.
   */
  commit(): number {
    const slot = this.picked;
    if (slot < 0) return -1;
    this.picked = -1;
    this.left[slot]--;
    if (!this.shuffle) {
      this.head++;
      return -1;
    }
    const last = --this.size;
    const place = this.place;
    if (place === last) return -1;
    this.bufRecord[place] = this.bufRecord[last];
    this.bufSlot[place] = this.bufSlot[last];
    return last;
  }

  /** Slots with records still in the window. */
  pendingSlots(): Set<number> {
    return new Set(this.bufSlot.subarray(this.shuffle ? 0 : this.head, this.size));
  }
}
