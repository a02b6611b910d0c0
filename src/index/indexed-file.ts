/** A data file with its record, time and statistics indexes: what datasets and the CLI stand on. */
import { SeekdataError } from '../errors.js';
import type { ReaderInfo, SeekableReader } from '../readers/reader.js';
import type { ResolvedRecordOptions } from './records/options.js';
import type { ColumnStats } from './records/stats.js';
import type { ResolvedTimeFormat } from './records/time.js';
import type { RecordIndex } from './record-index.js';
import type { TimeIndex } from './time-index.js';
import type { Indexed, RecordHome, SkippedFile } from './indexed.js';

export interface IndexReport {
  records: number;
  /** How the indexes were obtained: loaded from the index file, or built by a pass now. */
  status: 'loaded' | 'built' | 'rebuilt' | 'none';
  indexPath: string | undefined;
  /** Size of the index file in bytes (when saved or loaded). */
  indexBytes: number | undefined;
  /** Seconds spent opening (loading or building). */
  seconds: number;
  time:
    | {
        column: string | number | undefined;
        /** The format used, after resolving `auto` / `epoch` from the data. */
        format: ResolvedTimeFormat | 'function';
        zone: string | undefined;
        sorted: boolean;
        first: number | undefined;
        last: number | undefined;
        unparsable: number;
        /** The first unparsable values, with their record numbers. */
        unparsableExamples: Array<{ record: number; text: string }>;
      }
    | undefined;
}

export interface IndexedInfo extends ReaderInfo {
  records: number;
  columns: string[];
  timeRange: { first: string; last: string } | null;
  sorted: boolean | null;
  unparsableTimes: number;
}

export class IndexedFile implements Indexed {
  constructor(
    readonly reader: SeekableReader,
    readonly records: RecordIndex,
    readonly time: TimeIndex | undefined,
    readonly columns: string[],
    readonly stats: ColumnStats[],
    readonly options: ResolvedRecordOptions,
    readonly report: IndexReport,
  ) {}

  get name(): string {
    return this.reader.name;
  }

  /** Chunks datasets decode ahead of the one in use: twice the parallelism. */
  get readAhead(): number {
    return Math.max(2, this.reader.parallelism * 2);
  }

  /** One file leaves nothing out. */
  get skippedFiles(): readonly SkippedFile[] {
    return [];
  }

  /** Every record is this file's own. */
  locate(record: number): RecordHome {
    void record;
    return { file: this, first: 0, count: this.records.count, position: 0 };
  }

  fileOf(record: number): { name: string; first: number } {
    void record;
    return { name: this.name, first: 0 };
  }

  /** Records per chunk, the units' sizes and checks: what identifies the file's layout for a saved state. */
  layoutArrays(): Array<ArrayLike<number>> {
    const units = this.reader.units;
    return [this.records.firstRecord, units.dStart, units.cEnd, units.param];
  }

  private requireTime(): TimeIndex {
    if (this.time === undefined) {
      throw new SeekdataError('INVALID_OPTION', `${this.name}: no timestamp index (open it with options.timeColumn or options.time)`, { file: this.name });
    }
    return this.time;
  }

  /**
   * Record numbers with time in [t0, t1) (epoch ms or Date), in time order, at most `limit`: a
   * Float64Array, the type of record numbers everywhere (`batch.records` too).
   */
  range(t0: number | Date, t1: number | Date, limit?: number): Float64Array {
    return this.requireTime().range(+t0, +t1, limit);
  }

  /** The record whose time is closest to t. */
  nearest(t: number | Date): number | undefined {
    return this.requireTime().nearest(+t);
  }

  /** One file is open: nothing to prepare. */
  prepare(): Promise<void> {
    return Promise.resolve();
  }

  info(): IndexedInfo {
    const t = this.time?.summary;
    const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString());
    return {
      ...this.reader.info(),
      index: { path: this.report.indexPath, status: this.report.status },
      records: this.records.count,
      columns: this.columns,
      timeRange: t === undefined || t.first === undefined ? null : { first: iso(t.first), last: iso(t.last) },
      sorted: t === undefined ? null : t.sorted,
      unparsableTimes: t === undefined ? 0 : t.unparsable,
    };
  }

  private readonly closer = new AbortController();

  get closing(): AbortSignal {
    return this.closer.signal;
  }

  async close(): Promise<void> {
    this.closer.abort();
    await this.reader.close();
  }
}
