/**
 * Parsed rows of a time range, addressed by position in time order, loaded in segments (a few kept):
 * contiguous record runs (sorted files) load whole chunks, scattered records (unsorted files) load by
 * record.
 */
import type { Indexed } from '../index/indexed.js';
import type { ParseSpec } from './parse.js';
import { labelWidthOf, loadChunkRows, loadRecordRows } from './rows.js';

export interface Segment {
  start: number;
  length: number;
  features: Float32Array;
  labels: Float32Array | Int32Array;
  /** 1 where the record parsed (0: skipped by the policies). */
  valid: Uint8Array;
  records: Float64Array;
  times: Float64Array;
  /** Records of the segment skipped by the policies, and the first of them with why. */
  skipped: number;
  firstSkipped: { record: number; reason: string } | undefined;
}

const KEEP = 4;

export class RangeRows {
  private readonly cache = new Map<number, Promise<Segment>>();
  readonly features: number;
  readonly labelWidth: number;

  constructor(
    private readonly file: Indexed,
    private readonly spec: ParseSpec,
    /** Record numbers of the range, in time order. */
    readonly numbers: Float64Array,
    /** Aborted when the consumer leaves: segments not loaded yet are not, a timed map's call is stopped. */
    private readonly signal?: AbortSignal,
    readonly segmentSize = 16_384,
  ) {
    this.features = spec.features.length;
    this.labelWidth = labelWidthOf(spec);
  }

  get length(): number {
    return this.numbers.length;
  }

  segment(index: number): Promise<Segment> {
    let segment = this.cache.get(index);
    if (segment === undefined) {
      segment = this.load(index);
      this.cache.set(index, segment);
      while (this.cache.size > KEEP) {
        const oldest = this.cache.keys().next().value;
        if (oldest === undefined) break;
        this.cache.delete(oldest);
      }
    } else {
      this.cache.delete(index);
      this.cache.set(index, segment);
    }
    return segment;
  }

  /** Starts loading the segment holding position p (read-ahead). */
  prefetch(p: number): void {
    if (p < this.length) void this.segment(Math.floor(p / this.segmentSize)).catch(() => undefined);
  }

  private async load(index: number): Promise<Segment> {
    const start = index * this.segmentSize;
    const length = Math.min(this.segmentSize, this.length - start);
    const numbers = this.numbers.subarray(start, start + length);
    const F = this.features;
    const L = this.labelWidth;
    const segment: Segment = {
      start,
      length,
      features: new Float32Array(length * F),
      labels: this.spec.labelType === 'int32' && this.spec.oneHot === 0 ? new Int32Array(length * L) : new Float32Array(length * L),
      valid: new Uint8Array(length),
      records: Float64Array.from(numbers),
      times: Float64Array.from(numbers, (r) => this.file.time?.timeOf(r) ?? NaN),
      skipped: 0,
      firstSkipped: undefined,
    };
    const place = (k: number, from: { features: Float32Array; labels: Float32Array | Int32Array }, row: number): void => {
      segment.features.set(from.features.subarray(row * F, row * F + F), k * F);
      segment.labels.set(from.labels.subarray(row * L, row * L + L), k * L);
      segment.valid[k] = 1;
    };
    let contiguous = true;
    for (let k = 1; k < numbers.length && contiguous; k++) contiguous = numbers[k] === numbers[k - 1] + 1;
    if (contiguous && numbers.length > 0) {
      const records = this.file.records;
      const first = records.chunkOf(numbers[0]);
      const last = records.chunkOf(numbers[numbers.length - 1]);
      const chunks = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => loadChunkRows(this.file, first + i, this.spec, this.signal)));
      for (const c of chunks) {
        // The chunks may hold records outside the range: count only the segment's own.
        segment.firstSkipped ??= c.rows.skippedExamples.find((e) => e.record >= numbers[0] && e.record <= numbers[numbers.length - 1]);
        for (let k = 0; k < length; k++) {
          const rel = numbers[k] - c.first;
          if (rel < 0 || rel >= c.rowOf.length) continue;
          const row = c.rowOf[rel];
          if (row >= 0) place(k, c.rows, row);
        }
      }
      for (let k = 0; k < length; k++) segment.skipped += 1 - segment.valid[k];
      return segment;
    }
    const rows = await loadRecordRows(this.file, numbers, this.spec, this.signal);
    segment.skipped = rows.skipped;
    segment.firstSkipped = rows.skippedExamples[0];
    const position = new Map<number, number>();
    numbers.forEach((r, k) => position.set(r, k));
    for (let row = 0; row < rows.rows; row++) place(position.get(rows.records[row]) ?? 0, rows, row);
    return segment;
  }
}
