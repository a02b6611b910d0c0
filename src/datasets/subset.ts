/**
 * A subset of a file's records that a dataset draws from instead of all of them (a train or validation
 * side, a `take` / `skip`): its records ascending, addressed by position 0..count-1. The orders (order.ts)
 * permute and shard positions, so shuffles, equal shards, resumable states and batchesPerEpoch work on a
 * subset exactly as on the whole file. A range costs nothing; a list 4 bytes per record (8 past 2^32).
 */
import { invalidOption, SeekdataError } from '../errors.js';
import { hashInts } from './permutation.js';

export class RecordSubset {
  private firstPositionCache: { of: ArrayLike<number>; value: Float64Array } | undefined;

  private constructor(
    /** Records of the file the subset is of. */
    readonly total: number,
    /** The subset's records, ascending; undefined for the range [start, start + count). */
    private readonly list: Uint32Array | Float64Array | undefined,
    private readonly start: number,
    readonly count: number,
    /** What the subset is, for messages (`records 0 to 99`, `validation side of a 10% split, seed 3`). */
    readonly description: string,
  ) {}

  /** Records [from, to) of a file of `total` records. */
  static range(total: number, from: number, to: number, description = `records ${from} to ${to - 1}`): RecordSubset {
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && from <= to && to <= total)) {
      throw new SeekdataError('OUT_OF_RANGE', `record range [${from}, ${to}) is not inside the file's ${total} records`);
    }
    return new RecordSubset(total, undefined, from, to - from, description);
  }

  /** The listed records (ascending, distinct, each below `total`) of a file of `total` records. */
  static of(total: number, records: ArrayLike<number>, description: string): RecordSubset {
    const list = total <= 0xffffffff ? new Uint32Array(records.length) : new Float64Array(records.length);
    for (let k = 0; k < records.length; k++) {
      const r = records[k];
      if (!Number.isSafeInteger(r) || r < 0 || r >= total || (k > 0 && r <= records[k - 1])) {
        throw invalidOption('subset', `ascending distinct record numbers below ${total}`, `${r} at position ${k}`);
      }
      list[k] = r;
    }
    return new RecordSubset(total, list, 0, list.length, description);
  }

  /** The whole file. */
  static all(total: number): RecordSubset {
    return new RecordSubset(total, undefined, 0, total, 'all records');
  }

  /** Whether this is the whole file (datasets then take their usual path). */
  get isAll(): boolean {
    return this.list === undefined && this.start === 0 && this.count === this.total;
  }

  /** 8 hex digits identifying the subset (a dataset's plan includes it). */
  get id(): string {
    let h = hashInts(0x5b5e7, this.total, this.count, this.start);
    if (this.list !== undefined) for (let k = 0; k < this.list.length; k++) h = hashInts(h, this.list[k]);
    return h.toString(16).padStart(8, '0');
  }

  /** The record at position p. */
  at(p: number): number {
    return this.list === undefined ? this.start + p : this.list[p];
  }

  /** The position of record r, or -1 when it is not in the subset. */
  positionOf(r: number): number {
    if (this.list === undefined) return r >= this.start && r < this.start + this.count ? r - this.start : -1;
    const list = this.list;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid] === r) return mid;
      if (list[mid] < r) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The first position at or after record r (count when none). */
  private lowerBound(r: number): number {
    if (this.list === undefined) return Math.min(this.count, Math.max(0, r - this.start));
    const list = this.list;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Per chunk c, the position of the subset's first record at or after the chunk's first record (length
   * chunks + 1): the subset's own `firstRecord`, in positions, for the chunk-wise orders.
   */
  firstPositions(firstRecord: ArrayLike<number>): Float64Array {
    if (this.firstPositionCache?.of === firstRecord) return this.firstPositionCache.value;
    const value = Float64Array.from(firstRecord, (r) => this.lowerBound(r));
    this.firstPositionCache = { of: firstRecord, value };
    return value;
  }

  /** The records at positions [from, to), ascending. */
  slice(from: number, to: number): Float64Array {
    const out = new Float64Array(Math.max(0, to - from));
    for (let p = from; p < to; p++) out[p - from] = this.at(p);
    return out;
  }

  /** The first n records of the subset (all when it has fewer). */
  take(n: number): RecordSubset {
    const k = Math.min(n, this.count);
    if (this.list === undefined) return new RecordSubset(this.total, undefined, this.start, k, `${this.description}, first ${k}`);
    return new RecordSubset(this.total, this.list.subarray(0, k), 0, k, `${this.description}, first ${k}`);
  }

  /** The subset without its first n records. */
  skip(n: number): RecordSubset {
    const k = Math.min(n, this.count);
    if (this.list === undefined) return new RecordSubset(this.total, undefined, this.start + k, this.count - k, `${this.description}, after ${k}`);
    return new RecordSubset(this.total, this.list.subarray(k), 0, this.count - k, `${this.description}, after ${k}`);
  }
}
