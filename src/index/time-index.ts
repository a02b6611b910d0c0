/**
 * The timestamp index: each record's time (epoch ms, NaN when unparsable). Sorted files answer range
 * queries by binary search over the times themselves; otherwise (unsorted, or with unparsable times) a
 * permutation of the valid records in time order is kept (4 bytes per record) and searched instead.
 */

export interface TimeSummary {
  /** Records with a valid time. */
  count: number;
  unparsable: number;
  sorted: boolean;
  first: number | undefined;
  last: number | undefined;
}

export class TimeIndex {
  readonly summary: TimeSummary;

  private constructor(
    /** Time of each record. */
    readonly times: Float64Array,
    /** Valid records in time order, when the times themselves cannot be searched. */
    readonly order: Uint32Array | undefined,
    sorted: boolean,
  ) {
    const n = order === undefined ? times.length : order.length;
    this.summary = {
      count: n,
      unparsable: times.length - n,
      sorted,
      first: n === 0 ? undefined : this.timeAt(0),
      last: n === 0 ? undefined : this.timeAt(n - 1),
    };
  }

  /**
   * The index of `times`. `scan`: what the loop below would find (the indexing pass gathers it chunk by
   * chunk as they arrive, records/builder.ts with built-records.ts `scanTimes`), so its serial end does
   * not scan them again.
   */
  static build(times: Float64Array, scan?: { valid: number; sorted: boolean }): TimeIndex {
    let sorted = true;
    let valid = 0;
    if (scan !== undefined) {
      ({ valid, sorted } = scan);
    } else {
      let previous = -Infinity;
      for (let i = 0; i < times.length; i++) {
        const t = times[i];
        if (Number.isNaN(t)) continue;
        valid++;
        if (t < previous) sorted = false;
        previous = t;
      }
    }
    if (!TimeIndex.needsOrder({ valid, sorted }, times.length)) return new TimeIndex(times, undefined, true);
    const order = new Uint32Array(valid);
    let k = 0;
    for (let i = 0; i < times.length; i++) if (!Number.isNaN(times[i])) order[k++] = i;
    // Stable: equal times stay in record order.
    if (!sorted) order.sort((a, b) => times[a] - times[b] || a - b);
    return new TimeIndex(times, order, sorted);
  }

  /** Whether `count` times with this scan need an order (unsorted, or some unparsable): `build` makes one. */
  static needsOrder(scan: { valid: number; sorted: boolean }, count: number): boolean {
    return !scan.sorted || scan.valid !== count;
  }

  /**
   * The summary `build` gives times that need no order (`needsOrder` false), from the parts they arrived in,
   * before those are joined.
   */
  static sortedSummary(parts: readonly Float64Array[]): TimeSummary {
    const count = parts.reduce((n, p) => n + p.length, 0);
    const last = parts.at(-1);
    return { count, unparsable: 0, sorted: true, first: parts[0]?.[0], last: last?.[last.length - 1] };
  }

  static fromParts(times: Float64Array, order: Uint32Array | undefined, sorted: boolean): TimeIndex {
    return new TimeIndex(times, order, sorted);
  }

  /** Time of the k-th record in time order. */
  private timeAt(k: number): number {
    return this.times[this.order === undefined ? k : this.order[k]];
  }

  private recordAt(k: number): number {
    return this.order === undefined ? k : this.order[k];
  }

  /** First position in time order whose time is >= t (or > t when `strict`). */
  private lowerBound(t: number, strict = false): number {
    let lo = 0;
    let hi = this.summary.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.timeAt(mid);
      if (v < t || (strict && v === t)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Positions [from, to) in time order of the records with t0 <= time < t1. */
  bounds(t0: number, t1: number): { from: number; to: number } {
    const from = this.lowerBound(t0);
    return { from, to: Math.max(from, this.lowerBound(t1)) };
  }

  /**
   * Record numbers with time in [t0, t1), in time order (ties in record order), at most `limit`. Record
   * numbers are a Float64Array wherever seekdata hands them out (as `batch.records`): exact integers to
   * 2^53, so records numbered across the files of a collection fit too.
   */
  range(t0: number, t1: number, limit = Infinity): Float64Array {
    const { from, to } = this.bounds(t0, t1);
    return this.recordsAt(from, Math.min(to, from + limit));
  }

  /** Record numbers of time-order positions [from, to). */
  recordsAt(from: number, to: number): Float64Array {
    // A view of the stored order (no copy of it) is widened into the answer.
    if (this.order !== undefined) return Float64Array.from(this.order.subarray(from, to));
    const out = new Float64Array(Math.max(0, to - from));
    for (let k = 0; k < out.length; k++) out[k] = from + k;
    return out;
  }

  /** The record whose time is closest to t (the earlier one on a tie), or undefined when none has a time. */
  nearest(t: number): number | undefined {
    const n = this.summary.count;
    if (n === 0) return undefined;
    const k = this.lowerBound(t);
    if (k === 0) return this.recordAt(0);
    if (k === n) return this.recordAt(n - 1);
    // Of equal times, the first in record order.
    const before = this.lowerBound(this.timeAt(k - 1));
    return t - this.timeAt(k - 1) <= this.timeAt(k) - t ? this.recordAt(before) : this.recordAt(k);
  }

  /** Time of a record (NaN when unparsable). */
  timeOf(record: number): number {
    return this.times[record];
  }
}
