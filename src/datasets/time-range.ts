/**
 * TimeRangeDataset: the records of a time range [from, to) in time order, in batches; or sliding
 * windows over them for sequence models, by records (sequenceLength / sequenceStride / samplingRate, as
 * Keras' timeseries_dataset_from_array) or by time (windowMs / strideMs), with an explicit forecasting
 * target (records or milliseconds ahead) and windows that never span a gap longer than maxGapMs.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import type { IndexedFile } from '../index/indexed-file.js';
import { timeBound } from '../index/records/time-bound.js';
import { checkKnownKeys, checkNonNegativeInt, checkPositiveInt } from '../options.js';
import { TIME_RANGE_FOREIGN_KEYS, TIME_RANGE_OPTION_KEYS } from '../option-keys.js';
import { prefetch, type Batch } from './batch.js';
import { compileFeatures, type FeatureOptions } from './features.js';
import type { ParseSpec } from './parse.js';
import { hashInts, mulberry32 } from './permutation.js';
import { RangeRows, type Segment } from './range-rows.js';
import type { SkipTally } from './skips.js';

export interface TimeRangeOptions extends FeatureOptions {
  /**
   * Start of the range (inclusive): epoch ms, a Date, or a text as the CLI's `--from` takes it: an
   * ISO-8601 date or date-time (UTC unless it has an offset) or an epoch number (unit by magnitude).
   */
  from: number | Date | string;
  /** End of the range (exclusive), in the same forms as `from`. */
  to: number | Date | string;
  /** Rows (or windows) per batch. Default 32. */
  batchSize?: number;
  /** Records per window: turns on windows (shape [batch, sequenceLength, features]). */
  sequenceLength?: number;
  /** Record windows: records between the starts of consecutive windows. Default 1. */
  sequenceStride?: number;
  /** Record windows: take every samplingRate-th record. Default 1. */
  samplingRate?: number;
  /** Time windows: each window holds the last `sequenceLength` records of [start, start + windowMs). */
  windowMs?: number;
  /** Time windows: time between the starts of consecutive windows. Default windowMs. */
  strideMs?: number;
  /** Target: the record this many records after the window's last one. */
  targetOffset?: number;
  /** Target: the first record at least this many ms after the window's last one. */
  targetOffsetMs?: number;
  /** Skip windows in which two consecutive records (up to the target) are more than this many ms apart. */
  maxGapMs?: number;
  /** Batches prepared ahead. Default 2. */
  prefetch?: number;
  /**
   * Shuffle rows (or windows) through a buffer of this many, like tf.data's shuffle; each pass over the
   * dataset has its own order. Default 0: time order.
   */
  shuffleBuffer?: number;
  /** Seed of the shuffle buffer. Default 0. */
  seed?: number;
}

interface Window {
  /** Positions (in the range's time order) of the window's steps, and of its target (-1: none). */
  steps: number[];
  target: number;
}

function optionalInt(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  return min === 0 ? checkNonNegativeInt(name, value) : checkPositiveInt(name, value);
}

export class TimeRangeDataset implements AsyncIterable<Batch> {
  readonly featureNames: string[];
  readonly labelNames: string[];
  readonly spec: ParseSpec;
  readonly from: number;
  readonly to: number;
  readonly batchSize: number;
  /** Record numbers of the range in time order. */
  readonly numbers: Float64Array;
  /** Windows skipped (gaps, unparsable records, too few records in a time window) in the last pass. */
  skippedWindows = 0;
  /** Records of the range skipped by the missing / malformed policies in the last pass. */
  skipped = 0;
  /** This pass's skips, for the warning at its end (options.onWarning). */
  private readonly skips: SkipTally;
  private readonly times: Float64Array;
  private readonly options: TimeRangeOptions;
  private readonly sequenceLength: number | undefined;
  private readonly gaps: number[];
  private readonly shuffleBuffer: number;
  private readonly seed: number;
  /** Passes made: each has its own shuffle. */
  private pass = 0;
  /** Passes started (named in skip warnings). */
  private passesStarted = 0;

  constructor(
    readonly file: IndexedFile,
    options: TimeRangeOptions,
  ) {
    checkKnownKeys(options, TIME_RANGE_OPTION_KEYS, 'TimeRangeDataset', TIME_RANGE_FOREIGN_KEYS);
    const time = file.time;
    if (time === undefined) throw new SeekdataError('INVALID_OPTION', `${file.name}: no timestamp index (open it with options.timeColumn)`, { file: file.name });
    const compiled = compileFeatures(file, options);
    this.spec = compiled.spec;
    this.featureNames = compiled.featureNames;
    this.labelNames = compiled.labelNames;
    this.skips = compiled.skips;
    this.from = timeBound('from', options.from);
    this.to = timeBound('to', options.to);
    this.batchSize = checkPositiveInt('batchSize', options.batchSize ?? 32);
    this.sequenceLength = optionalInt('sequenceLength', options.sequenceLength, 1);
    optionalInt('sequenceStride', options.sequenceStride, 1);
    optionalInt('samplingRate', options.samplingRate, 1);
    optionalInt('targetOffset', options.targetOffset, 0);
    for (const name of ['windowMs', 'strideMs', 'targetOffsetMs', 'maxGapMs'] as const) {
      const v = options[name];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw invalidOption(name, 'a non-negative number of milliseconds', v);
    }
    if (options.windowMs !== undefined && this.sequenceLength === undefined) throw invalidOption('sequenceLength', 'set for time windows (windowMs)', undefined);
    if (options.targetOffset !== undefined && options.targetOffsetMs !== undefined) throw invalidOption('targetOffsetMs', 'unset when targetOffset is set', options.targetOffsetMs);
    if (this.sequenceLength === undefined && (options.targetOffset !== undefined || options.targetOffsetMs !== undefined)) {
      throw invalidOption('sequenceLength', 'set: targets belong to windows', undefined);
    }
    this.shuffleBuffer = checkNonNegativeInt('shuffleBuffer', options.shuffleBuffer ?? 0);
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw invalidOption('seed', 'an integer', this.seed);
    checkNonNegativeInt('prefetch', options.prefetch ?? 2);
    this.options = options;
    this.numbers = time.range(this.from, this.to);
    this.times = Float64Array.from(this.numbers, (r) => time.timeOf(r));
    this.gaps = [];
    if (options.maxGapMs !== undefined) {
      for (let p = 0; p + 1 < this.times.length; p++) if (this.times[p + 1] - this.times[p] > options.maxGapMs) this.gaps.push(p);
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

  /** First position after `last` whose time is at least `offsetMs` later, or -1. */
  private targetAfter(last: number, offsetMs: number): number {
    const want = this.times[last] + offsetMs;
    let lo = last + 1;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] < want) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.times.length ? lo : -1;
  }

  private target(last: number): number | undefined {
    const o = this.options;
    if (o.targetOffset !== undefined) return last + o.targetOffset < this.times.length ? last + o.targetOffset : undefined;
    if (o.targetOffsetMs !== undefined) {
      const t = this.targetAfter(last, o.targetOffsetMs);
      return t < 0 ? undefined : t;
    }
    return -1;
  }

  /** Every window of the range, in order (positions only; rows are checked when batches are built). */
  *windows(): Generator<Window> {
    const L = this.sequenceLength;
    const M = this.times.length;
    if (L === undefined) return;
    const o = this.options;
    const accept = (steps: number[]): Window | undefined => {
      const last = steps[steps.length - 1];
      const target = this.target(last);
      if (target === undefined) return undefined;
      if (this.gaps.length > 0 && this.spansGap(steps[0], Math.max(last, target))) return undefined;
      return { steps, target };
    };
    if (o.windowMs !== undefined) {
      const stride = o.strideMs ?? o.windowMs;
      if (!(stride > 0)) return;
      let lo = 0;
      for (let start = this.from; start < this.to; start += stride) {
        while (lo < M && this.times[lo] < start) lo++;
        let hi = lo;
        while (hi < M && this.times[hi] < start + o.windowMs && this.times[hi] < this.to) hi++;
        if (hi - lo < L) {
          if (hi > lo) this.skippedWindows++;
          continue;
        }
        const window = accept(Array.from({ length: L }, (_, k) => hi - L + k));
        if (window === undefined) this.skippedWindows++;
        else yield window;
      }
      return;
    }
    const stride = o.sequenceStride ?? 1;
    const rate = o.samplingRate ?? 1;
    for (let base = 0; base + (L - 1) * rate < M; base += stride) {
      const window = accept(Array.from({ length: L }, (_, k) => base + k * rate));
      if (window === undefined) this.skippedWindows++;
      else yield window;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    this.skippedWindows = 0;
    this.skipped = 0;
    const pass = this.passesStarted++;
    try {
      yield* prefetch(this.batches(), this.options.prefetch ?? 2);
    } finally {
      this.skips.end(`pass ${pass} over the time range`);
    }
  }

  /** Label width of the examples: the target's labels, or its features when forecasting without labels. */
  private yWidth(features: number, labelWidth: number): number {
    const hasTarget = this.options.targetOffset !== undefined || this.options.targetOffsetMs !== undefined;
    return this.sequenceLength !== undefined && hasTarget && labelWidth === 0 ? features : labelWidth;
  }

  /** The examples of the range in time order: rows, or windows with their targets. */
  private async *examples(rows: RangeRows): AsyncGenerator<Example> {
    const F = rows.features;
    const LW = rows.labelWidth;
    const seen = new Set<number>();
    const row = async (p: number): Promise<{ s: Segment; k: number }> => {
      const index = Math.floor(p / rows.segmentSize);
      const s = await rows.segment(index);
      if (!seen.has(index)) {
        seen.add(index);
        this.skipped += s.skipped;
        this.skips.addCounts(s.length, s.skipped, s.firstSkipped);
        rows.prefetch((index + 1) * rows.segmentSize);
      }
      return { s, k: p - s.start };
    };
    if (this.sequenceLength === undefined) {
      for (let p = 0; p < rows.length; p++) {
        const { s, k } = await row(p);
        if (s.valid[k] === 0) continue;
        yield { xs: s.features.subarray(k * F, (k + 1) * F), ys: LW === 0 ? undefined : s.labels.subarray(k * LW, (k + 1) * LW), record: s.records[k] };
      }
      return;
    }
    const L = this.sequenceLength;
    const yWidth = this.yWidth(F, LW);
    windows: for (const window of this.windows()) {
      const xs = new Float32Array(L * F);
      for (let k = 0; k < L; k++) {
        const { s, k: i } = await row(window.steps[k]);
        if (s.valid[i] === 0) {
          this.skippedWindows++;
          continue windows;
        }
        xs.set(s.features.subarray(i * F, (i + 1) * F), k * F);
      }
      const last = window.steps[L - 1];
      let ys: Float32Array | Int32Array | undefined;
      if (yWidth > 0) {
        // The target's labels; its features when forecasting without labels; without a target, the
        // labels of the window's last record.
        const { s, k: i } = await row(window.target >= 0 ? window.target : last);
        if (s.valid[i] === 0) {
          this.skippedWindows++;
          continue;
        }
        ys = LW === 0 ? s.features.subarray(i * F, (i + 1) * F) : s.labels.subarray(i * LW, (i + 1) * LW);
      }
      yield { xs, ys, record: this.numbers[last] };
    }
  }

  private async *batches(): AsyncGenerator<Batch> {
    const rows = new RangeRows(this.file, this.spec, this.numbers);
    const F = rows.features;
    const steps = this.sequenceLength;
    const xWidth = steps === undefined ? F : steps * F;
    const yWidth = this.yWidth(F, rows.labelWidth);
    const intLabels = this.spec.labelType === 'int32' && this.spec.oneHot === 0 && rows.labelWidth > 0;
    let source = this.examples(rows);
    if (this.shuffleBuffer > 0) source = shuffleExamples(source, this.shuffleBuffer, mulberry32(hashInts(this.seed, this.pass++, 0x71e)));
    const batch = this.batchSize;
    let xs = new Float32Array(batch * xWidth);
    let ys = yWidth === 0 ? undefined : intLabels ? new Int32Array(batch * yWidth) : new Float32Array(batch * yWidth);
    let records = new Float64Array(batch);
    let n = 0;
    const flush = (): Batch => {
      const full = n === batch;
      const out: Batch = {
        xs: full ? xs : xs.slice(0, n * xWidth),
        xsShape: steps === undefined ? [n, F] : [n, steps, F],
        ys: ys === undefined ? undefined : full ? ys : ys.slice(0, n * yWidth),
        ysShape: [n, yWidth],
        records: full ? records : records.slice(0, n),
        size: n,
      };
      xs = new Float32Array(batch * xWidth);
      ys = yWidth === 0 ? undefined : intLabels ? new Int32Array(batch * yWidth) : new Float32Array(batch * yWidth);
      records = new Float64Array(batch);
      n = 0;
      return out;
    };
    for await (const example of source) {
      xs.set(example.xs, n * xWidth);
      if (ys !== undefined && example.ys !== undefined) ys.set(example.ys, n * yWidth);
      records[n++] = example.record;
      if (n === batch) yield flush();
    }
    if (n > 0) yield flush();
  }
}

interface Example {
  xs: Float32Array;
  ys: Float32Array | Int32Array | undefined;
  /** The record (for windows: the window's last record). */
  record: number;
}

/** A shuffle buffer: holds up to `size` examples and emits one at random as each new one arrives. */
async function* shuffleExamples(source: AsyncGenerator<Example>, size: number, random: () => number): AsyncGenerator<Example> {
  const buffer: Example[] = [];
  const take = (): Example => {
    const j = Math.floor(random() * buffer.length);
    const out = buffer[j];
    buffer[j] = buffer[buffer.length - 1];
    buffer.pop();
    return out;
  };
  for await (const example of source) {
    buffer.push(example);
    if (buffer.length > size) yield take();
  }
  while (buffer.length > 0) yield take();
}
