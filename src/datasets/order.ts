/**
 * The order in which an epoch draws records, for each shuffle mode, as a pure function of
 * (seed, epoch, rank, worldSize) and the index: `exact` draws position rank + i * worldSize of a keyed
 * permutation of all records; `chunked` takes the shard's chunks in a permuted order and draws records
 * at random from a window of about K chunks (a shuffle buffer over whole chunks); `none` reads the
 * shard's chunks in file order.
 */
import type { RecordIndex } from '../index/record-index.js';
import { FeistelPermutation, hashInts, mulberry32 } from './permutation.js';

export type ShuffleMode = 'exact' | 'chunked' | 'none';

export interface OrderParams {
  mode: ShuffleMode;
  seed: number;
  epoch: number;
  rank: number;
  worldSize: number;
  /** Window of chunks for `chunked`. */
  windowChunks: number;
}

/** Records in this rank's shard of an `exact` epoch. */
export function exactShardSize(records: number, rank: number, worldSize: number): number {
  return records > rank ? Math.floor((records - rank - 1) / worldSize) + 1 : 0;
}

export class ExactOrder {
  private readonly permutation: FeistelPermutation;
  readonly length: number;

  constructor(
    records: number,
    private readonly params: OrderParams,
  ) {
    this.permutation = new FeistelPermutation(records, hashInts(params.seed, params.epoch, 0x5eed));
    this.length = exactShardSize(records, params.rank, params.worldSize);
  }

  at(i: number): number {
    return this.permutation.at(this.params.rank + i * this.params.worldSize);
  }
}

/** The shard's chunks, in the order the epoch reads them. */
export function shardChunks(chunks: number, params: OrderParams): number[] {
  const out: number[] = [];
  const permutation = params.mode === 'chunked' ? new FeistelPermutation(chunks, hashInts(params.seed, params.epoch, 0xc4)) : undefined;
  for (let j = params.rank; j < chunks; j += params.worldSize) out.push(permutation === undefined ? j : permutation.at(j));
  return out;
}

/**
 * Draws records chunk by chunk: which chunk a record comes from (its slot in `chunks`) and its number.
 * `onEnter` is called when a chunk enters the window (so its rows can be fetched ahead).
 */
export class ChunkedOrder {
  readonly chunks: number[];
  readonly length: number;
  private readonly firsts: number[];
  private readonly counts: number[];
  private readonly shuffle: boolean;
  private readonly lowWater: number;
  private readonly random: () => number;
  // The window as typed arrays with an explicit length: this runs once per record drawn.
  private bufRecord = new Float64Array(1024);
  private bufSlot = new Int32Array(1024);
  private size = 0;
  private head = 0;
  /** Chunks that have entered the window. */
  loaded = 0;

  constructor(
    records: RecordIndex,
    private readonly params: OrderParams,
    private readonly onEnter: (slot: number) => void = () => {},
  ) {
    this.chunks = shardChunks(records.firstRecord.length - 1, params);
    this.firsts = this.chunks.map((c) => records.recordsOf(c).first);
    this.counts = this.chunks.map((c) => {
      const { first, end } = records.recordsOf(c);
      return end - first;
    });
    this.length = this.counts.reduce((a, b) => a + b, 0);
    this.shuffle = params.mode === 'chunked';
    const average = this.chunks.length === 0 ? 0 : this.length / this.chunks.length;
    this.lowWater = Math.max(0, (params.windowChunks - 1) * average);
    this.random = mulberry32(hashInts(params.seed, params.epoch, params.rank, 0xb0f));
  }

  /** Records in chunk slot s. */
  count(slot: number): number {
    return this.counts[slot];
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
      this.bufRecord[this.size] = first + k;
      this.bufSlot[this.size] = slot;
      this.size++;
    }
    this.onEnter(slot);
  }

  /** The next draw, or undefined at the end of the epoch. */
  next(): { record: number; slot: number } | undefined {
    if (!this.shuffle) {
      while (this.head >= this.size && this.loaded < this.chunks.length) {
        this.size = 0;
        this.head = 0;
        this.enter();
      }
      if (this.head >= this.size) return undefined;
      const k = this.head++;
      return { record: this.bufRecord[k], slot: this.bufSlot[k] };
    }
    while (this.loaded < this.chunks.length && (this.loaded < this.params.windowChunks || this.size <= this.lowWater)) this.enter();
    const n = this.size;
    if (n === 0) return undefined;
    const j = Math.floor(this.random() * n);
    const record = this.bufRecord[j];
    const slot = this.bufSlot[j];
    this.bufRecord[j] = this.bufRecord[n - 1];
    this.bufSlot[j] = this.bufSlot[n - 1];
    this.size = n - 1;
    return { record, slot };
  }

  /** Slots with records still in the window. */
  pendingSlots(): Set<number> {
    return new Set(this.bufSlot.subarray(this.shuffle ? 0 : this.head, this.size));
  }
}
