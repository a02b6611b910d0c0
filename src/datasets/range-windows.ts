/**
 * The windows of a time range, as positions in its time order: by records (sequenceLength /
 * sequenceStride / samplingRate) or by time (windowMs / strideMs), each with its target (records or ms
 * ahead), none spanning a gap longer than maxGapMs (nor two files of a collection: `groupByFile`). Rows are
 * not read here: a window's rows are checked when its example is built.
 */
import type { Indexed } from '../index/indexed.js';
import type { ExampleList } from './range-shuffle.js';

/** The options that shape windows (see TimeRangeOptions for each). */
export interface WindowOptions {
  sequenceStride?: number | undefined;
  samplingRate?: number | undefined;
  windowMs?: number | undefined;
  strideMs?: number | undefined;
  targetOffset?: number | undefined;
  targetOffsetMs?: number | undefined;
  maxGapMs?: number | undefined;
  targetAlignment?: 'end' | 'start' | undefined;
}

export interface Window {
  /** Positions (in the range's time order) of the window's steps, and of its target (-1: none). */
  steps: number[];
  target: number;
}

export class RangeWindows {
  /** Positions p where the step to p + 1 is longer than maxGapMs. */
  private gaps: number[] = [];

  constructor(
    /** Time of each position of the range. */
    private readonly times: Float64Array,
    private readonly from: number,
    private readonly to: number,
    readonly sequenceLength: number,
    private readonly options: WindowOptions,
    /** Positions p where p + 1 is in another file (windows never span two files of a collection), ascending. */
    private readonly breaks: readonly number[] = [],
  ) {
    if (options.maxGapMs !== undefined) {
      for (let p = 0; p + 1 < times.length; p++) if (times[p + 1] - times[p] > options.maxGapMs) this.gaps.push(p);
    }
    if (breaks.length > 0) {
      const all = new Set([...this.gaps, ...breaks]);
      this.gaps = [...all].sort((a, b) => a - b);
    }
  }

  /** Whether the record run [a, b] (positions) crosses a gap. */
  private spansGap(a: number, b: number): boolean {
    const gaps = this.gaps;
    let lo = 0;
    let hi = gaps.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (gaps[mid] < a) lo = mid + 1;
      else hi = mid;
    }
    return lo < gaps.length && gaps[lo] < b;
  }

  /** The end (exclusive) of the file segment holding position p: the first break at or after p, plus one. */
  private segmentEnd(p: number): number {
    const b = this.breaks;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid] < p) lo = mid + 1;
      else hi = mid;
    }
    return lo < b.length ? b[lo] + 1 : this.times.length;
  }

  /** First position after `last` (in its file's segment) whose time is at least `offsetMs` later, or -1. */
  private targetAfter(last: number, offsetMs: number): number {
    const want = this.times[last] + offsetMs;
    let lo = last + 1;
    const end = this.segmentEnd(last);
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] < want) lo = mid + 1;
      else hi = mid;
    }
    return lo < end ? lo : -1;
  }

  /** The target's position for a window [first … last], -1 without a target, undefined when it is past the range. */
  private target(first: number, last: number): number | undefined {
    const o = this.options;
    // Keras' alignment: targets[i] belongs to the window starting at i, so the offset counts from the first step.
    const from = o.targetAlignment === 'start' ? first : last;
    if (o.targetOffset !== undefined) return from + o.targetOffset < this.times.length ? from + o.targetOffset : undefined;
    if (o.targetOffsetMs !== undefined) {
      const t = this.targetAfter(last, o.targetOffsetMs);
      return t < 0 ? undefined : t;
    }
    return -1;
  }

  /** Whether windows have a target of their own (targetOffset or targetOffsetMs). */
  get hasTarget(): boolean {
    return this.options.targetOffset !== undefined || this.options.targetOffsetMs !== undefined;
  }

  /** Positions between a window's steps: the sampling rate of record windows, 1 in time windows. */
  get rate(): number {
    return this.options.windowMs !== undefined ? 1 : (this.options.samplingRate ?? 1);
  }

  /** Every window of the range, in order; `onSkip` hears of each window left out (a gap, too few records). */
  *windows(onSkip: () => void): Generator<Window> {
    const L = this.sequenceLength;
    const M = this.times.length;
    const o = this.options;
    const accept = (steps: number[]): Window | undefined => {
      const last = steps[steps.length - 1];
      const target = this.target(steps[0], last);
      if (target === undefined) return undefined;
      if (this.gaps.length > 0 && this.spansGap(steps[0], Math.max(last, target))) return undefined;
      return { steps, target };
    };
    if (o.windowMs !== undefined) {
      const stride = o.strideMs ?? o.windowMs;
      if (!(stride > 0)) return;
      // File by file (each segment in time order; one segment without breaks).
      for (let segment = 0; segment < M; ) {
        const end = this.segmentEnd(segment);
        let lo = segment;
        for (let start = this.from; start < this.to; start += stride) {
          while (lo < end && this.times[lo] < start) lo++;
          let hi = lo;
          while (hi < end && this.times[hi] < start + o.windowMs && this.times[hi] < this.to) hi++;
          if (hi - lo < L) {
            if (hi > lo) onSkip();
            continue;
          }
          const window = accept(Array.from({ length: L }, (_, k) => hi - L + k));
          if (window === undefined) onSkip();
          else yield window;
        }
        segment = end;
      }
      return;
    }
    const stride = o.sequenceStride ?? 1;
    const rate = o.samplingRate ?? 1;
    for (let base = 0; base + (L - 1) * rate < M; base += stride) {
      const window = accept(Array.from({ length: L }, (_, k) => base + k * rate));
      if (window === undefined) onSkip();
      else yield window;
    }
  }
}

/**
 * A range's examples as positions (what the exact shuffle permutes): its windows, with the number left out
 * while listing them; without windows, its rows.
 */
export function listExamples(windows: RangeWindows | undefined, rows: number, yWidth: number): { list: ExampleList; rejected: number } {
  if (windows === undefined) return { list: { count: rows, steps: 1, rate: 1, first: undefined, target: undefined, windows: false, yWidth }, rejected: 0 };
  let rejected = 0;
  const first: number[] = [];
  const target: number[] = [];
  for (const window of windows.windows(() => rejected++)) {
    first.push(window.steps[0]);
    target.push(window.target);
  }
  return {
    list: {
      count: first.length,
      steps: windows.sequenceLength,
      rate: windows.rate,
      first: Uint32Array.from(first),
      target: windows.hasTarget ? Int32Array.from(target) : undefined,
      windows: true,
      yWidth,
    },
    rejected,
  };
}

/**
 * The range's records grouped by file (stable: time order within each file), for windows that must not
 * span two files: files of a collection whose time spans overlap would otherwise alternate in the time
 * order and cut every run of one file short (one file, or files that do not overlap: unchanged); and the
 * positions p where record p + 1 is in another file than record p (none for one file).
 */
export function groupByFile(file: Indexed, numbers: Float64Array): { numbers: Float64Array; breaks: number[] } {
  let positions = Int32Array.from(numbers, (n) => file.locate(n).position);
  let grouped = numbers;
  let sorted = true;
  for (let p = 1; p < positions.length && sorted; p++) sorted = positions[p] >= positions[p - 1];
  if (!sorted) {
    const order = Array.from(positions.keys()).sort((a, b) => positions[a] - positions[b] || a - b);
    grouped = Float64Array.from(order, (k) => numbers[k]);
    positions = Int32Array.from(order, (k) => positions[k]);
  }
  const breaks: number[] = [];
  for (let p = 1; p < positions.length; p++) if (positions[p] !== positions[p - 1]) breaks.push(p - 1);
  return { numbers: grouped, breaks };
}
