/**
 * TimeRangeDataset: the records of a time range [from, to) in time order, in batches; or sliding
 * windows over them for sequence models, by records (sequenceLength / sequenceStride / samplingRate, as
 * Keras' timeseries_dataset_from_array) or by time (windowMs / strideMs), with an explicit forecasting
 * target (records or milliseconds ahead) and windows that never span a gap longer than maxGapMs. In time
 * order, through a shuffle buffer, or (`shuffle: 'exact'`) in a uniform random order served in rounds.
 */
import { SeekdataError, invalidOption } from '../errors.js';
import type { Indexed } from '../index/indexed.js';
import { timeBound } from '../index/records/time-bound.js';
import { checkBoolean, checkKnownKeys, checkNonNegativeInt, checkOneOf, checkPositiveInt } from '../options.js';
import { TIME_RANGE_FOREIGN_KEYS, TIME_RANGE_OPTION_KEYS } from '../option-keys.js';
import { prefetch, type Batch } from './batch.js';
import { compileFeatures } from './features.js';
import type { ParseSpec } from './parse.js';
import { labelWidthOf } from './rows.js';
import { hashInts, mulberry32 } from './permutation.js';
import { RangeRows, type Segment } from './range-rows.js';
import { groupByFile, listExamples, RangeWindows, type Window } from './range-windows.js';
import type { TimeRangeOptions } from './time-range-options.js';
import { examplesPerRound, roundExamples, shuffleExamples, type Example, type ExampleList, type RoundReport } from './range-shuffle.js';
import { DEFAULT_SHUFFLE_MEMORY_BYTES } from './rounds.js';
import type { SkipTally } from './skips.js';

export type { TimeRangeOptions } from './time-range-options.js';

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
  private readonly options: TimeRangeOptions;
  private readonly sequenceLength: number | undefined;
  /** The range's windows (positions), when windows are asked for. */
  private readonly rangeWindows: RangeWindows | undefined;
  private readonly shuffleBuffer: number;
  private readonly exact: boolean;
  private readonly shuffleMemoryBytes: number;
  private readonly seed: number;
  /** The range's examples as positions (exact shuffle), listed once, and the windows rejected while listing. */
  private listed: { list: ExampleList; rejected: number } | undefined;
  /** `shuffle: 'exact'`: passes over the range's chunks (rounds) made by the last iteration. */
  passesMade = 0;
  /** `shuffle: 'exact'`: the most parsed rows a round held at once, over the iterations so far. */
  peakRoundRows = 0;
  /** Passes made: each has its own shuffle. */
  private pass = 0;
  /** Passes started (named in skip warnings). */
  private passesStarted = 0;

  /**
   * The dataset, after opening the files the range needs: a collection opened from its manifest opens only
   * the files whose time spans meet [from, to) (the constructor needs them open: NOT_OPENED otherwise).
   */
  static async open(file: Indexed, options: TimeRangeOptions): Promise<TimeRangeDataset> {
    if (typeof options === 'object' && options !== null) await file.prepare({ from: options.from, to: options.to });
    return new TimeRangeDataset(file, options);
  }

  constructor(
    readonly file: Indexed,
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
    if (options.targetAlignment !== undefined) {
      checkOneOf('targetAlignment', options.targetAlignment, ['end', 'start'] as const);
      if (options.targetAlignment === 'start' && options.targetOffset === undefined) throw invalidOption('targetOffset', "set with targetAlignment: 'start' (0 for the window's first record)", undefined);
    }
    if (this.sequenceLength === undefined && (options.targetOffset !== undefined || options.targetOffsetMs !== undefined)) {
      throw invalidOption('sequenceLength', 'set: targets belong to windows', undefined);
    }
    this.shuffleBuffer = checkNonNegativeInt('shuffleBuffer', options.shuffleBuffer ?? 0);
    const shuffle = options.shuffle ?? false;
    if (shuffle !== 'exact' && shuffle !== false) throw invalidOption('shuffle', "'exact' or false", shuffle);
    this.exact = shuffle === 'exact';
    if (this.exact && this.shuffleBuffer > 0) throw invalidOption('shuffleBuffer', "0 (unset) with shuffle: 'exact'", this.shuffleBuffer);
    this.shuffleMemoryBytes = checkPositiveInt('shuffleMemoryBytes', options.shuffleMemoryBytes ?? DEFAULT_SHUFFLE_MEMORY_BYTES);
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw invalidOption('seed', 'an integer', this.seed);
    checkNonNegativeInt('prefetch', options.prefetch ?? 2);
    this.options = options;
    const continuous = checkBoolean('continuous', options.continuous ?? false);
    const inRange = time.range(this.from, this.to);
    // Windows stay inside one file (unless continuous): the range is taken file by file, each in time order.
    const grouped = this.sequenceLength === undefined || continuous ? { numbers: inRange, breaks: [] } : groupByFile(file, inRange);
    this.numbers = grouped.numbers;
    const times = Float64Array.from(this.numbers, (r) => time.timeOf(r));
    this.rangeWindows = this.sequenceLength === undefined ? undefined : new RangeWindows(times, this.from, this.to, this.sequenceLength, options, grouped.breaks);
  }

  /** Every window of the range, in order (positions only; rows are checked when batches are built). */
  *windows(): Generator<Window> {
    if (this.rangeWindows === undefined) return;
    yield* this.rangeWindows.windows(() => {
      this.skippedWindows++;
    });
  }

  /** The examples as positions in the range's time order (for the exact shuffle), listed once. */
  private exampleList(): { list: ExampleList; rejected: number } {
    const yWidth = this.yWidth(this.spec.features.length, labelWidthOf(this.spec));
    this.listed ??= listExamples(this.rangeWindows, this.numbers.length, yWidth);
    return this.listed;
  }


  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    this.skippedWindows = 0;
    this.skipped = 0;
    this.passesMade = 0;
    const pass = this.passesStarted++;
    // Aborted when the consumer stops early: a round being loaded stops at its next chunk, segments not
    // loaded yet are not, and a timed map's call still running is stopped (map-clock.ts).
    const stop = new AbortController();
    const batches = prefetch(this.batches(stop.signal), this.options.prefetch ?? 2);
    try {
      for (;;) {
        const next = await batches.next();
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      stop.abort();
      await batches.return(undefined);
      this.skips.end(`pass ${pass} over the time range`);
    }
  }

  /** Passes over the range's chunks an iteration makes: 1 unless `shuffle: 'exact'` needs more rounds. */
  get passesPerIteration(): number {
    if (!this.exact) return 1;
    const { list } = this.exampleList();
    return Math.ceil(list.count / examplesPerRound(list, this.numbers.length, this.spec, this.shuffleMemoryBytes));
  }

  /** The examples of one pass in a uniform random order, loaded in rounds. */
  private exactExamples(signal: AbortSignal): AsyncGenerator<Example> {
    const { list, rejected } = this.exampleList();
    this.skippedWindows += rejected;
    const report: RoundReport = {
      records: (read, skipped, example) => {
        this.skipped += skipped;
        this.skips.addCounts(read, skipped, example);
      },
      skippedWindow: () => {
        this.skippedWindows++;
      },
      round: (rows) => {
        this.passesMade++;
        this.peakRoundRows = Math.max(this.peakRoundRows, rows);
      },
    };
    const perRound = examplesPerRound(list, this.numbers.length, this.spec, this.shuffleMemoryBytes);
    const concurrency = this.file.readAhead;
    return roundExamples({ file: this.file, spec: this.spec, numbers: this.numbers, list, seed: this.seed, pass: this.pass++, perRound, concurrency, report, signal });
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

  private async *batches(signal: AbortSignal): AsyncGenerator<Batch> {
    const F = this.spec.features.length;
    const labelWidth = labelWidthOf(this.spec);
    const steps = this.sequenceLength;
    const xWidth = steps === undefined ? F : steps * F;
    const yWidth = this.yWidth(F, labelWidth);
    const intLabels = this.spec.labelType === 'int32' && this.spec.oneHot === 0 && labelWidth > 0;
    let source = this.exact ? this.exactExamples(signal) : this.examples(new RangeRows(this.file, this.spec, this.numbers, signal));
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
