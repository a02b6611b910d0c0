/**
 * The time index of a collection, from its files' time indexes (nothing concatenated): a time range is
 * answered by the files whose time spans overlap it — the others are not touched, so their data is never
 * read or decoded — each giving its records of the range in time order, k-way merged into one time order
 * (ties in record order). Record numbers are the collection's (file k's record j is firsts[k] + j).
 */
import type { TimeLookup } from './indexed.js';
import type { TimeSummary } from './time-index.js';

export interface TimeMember {
  /** The file's time summary (known without opening it when the collection came from its manifest). */
  summary: TimeSummary;
  /** The file's time index (synchronous: the file must be open; NOT_OPENED otherwise). */
  lookup: () => TimeLookup;
  /** Collection number of the file's record 0. */
  first: number;
}

export class CollectionTime implements TimeLookup {
  readonly summary: TimeSummary;

  constructor(
    private readonly members: readonly TimeMember[],
    /** The file of a collection record: its index in `members`. */
    private readonly fileOf: (record: number) => number,
  ) {
    let count = 0;
    let unparsable = 0;
    let first: number | undefined;
    let last: number | undefined;
    // Sorted when every file is, and each file's times start at or after the previous file's last.
    let sorted = true;
    for (const { summary: s } of members) {
      count += s.count;
      unparsable += s.unparsable;
      if (!s.sorted || s.unparsable > 0) sorted = false;
      if (s.first === undefined || s.last === undefined) continue;
      if (last !== undefined && s.first < last) sorted = false;
      first = first === undefined ? s.first : Math.min(first, s.first);
      last = last === undefined ? s.last : Math.max(last, s.last);
    }
    this.summary = { count, unparsable, sorted, first, last };
  }

  /** Files whose time span meets [t0, t1): the only ones a range reads (or needs open). */
  overlapping(t0: number, t1: number): number[] {
    const out: number[] = [];
    this.members.forEach(({ summary }, k) => {
      const { first, last } = summary;
      if (first !== undefined && last !== undefined && first < t1 && last >= t0) out.push(k);
    });
    return out;
  }

  range(t0: number, t1: number, limit = Infinity): Float64Array {
    const files = this.overlapping(t0, t1);
    const parts = files.map((k) => {
      const time = this.members[k].lookup();
      return { k, time, numbers: time.range(t0, t1, limit), at: 0 };
    });
    const total = Math.min(limit, parts.reduce((n, p) => n + p.numbers.length, 0));
    const out = new Float64Array(total);
    const timeOf = (p: (typeof parts)[number]): number => p.time.timeOf(p.numbers[p.at]);
    // A binary heap of the parts by (time of their next record, its number): k-way merge.
    const heap = parts.filter((p) => p.numbers.length > 0);
    const less = (a: (typeof parts)[number], b: (typeof parts)[number]): boolean => {
      const ta = timeOf(a);
      const tb = timeOf(b);
      return ta < tb || (ta === tb && this.members[a.k].first + a.numbers[a.at] < this.members[b.k].first + b.numbers[b.at]);
    };
    const down = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    };
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    for (let n = 0; n < total; n++) {
      const top = heap[0];
      out[n] = this.members[top.k].first + top.numbers[top.at++];
      if (top.at === top.numbers.length) {
        const tail = heap.pop();
        if (heap.length > 0 && tail !== undefined) heap[0] = tail;
      }
      if (heap.length > 0) down(0);
    }
    return out;
  }

  nearest(t: number): number | undefined {
    let best: number | undefined;
    let bestTime = NaN;
    for (const { lookup, summary, first } of this.members) {
      if (summary.first === undefined) continue;
      const time = lookup();
      const r = time.nearest(t);
      if (r === undefined) continue;
      const at = time.timeOf(r);
      const d = Math.abs(t - at);
      const bestD = Math.abs(t - bestTime);
      // The closest; on a tie the earlier time, then the lower record (files come in record order).
      if (best === undefined || d < bestD || (d === bestD && at < bestTime)) {
        best = first + r;
        bestTime = at;
      }
    }
    return best;
  }

  timeOf(record: number): number {
    const m = this.members[this.fileOf(record)];
    return m.lookup().timeOf(record - m.first);
  }
}
