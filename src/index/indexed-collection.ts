/**
 * Many files as one data set: the surface of an `IndexedFile` (records, chunks, time, columns, statistics)
 * over the files of a collection, with record and chunk numbers running across them in collection order
 * (file k's record j is the sum of the record counts of files 0..k-1, plus j). Each file keeps its own index
 * and reader; this view merges what they know: counts, statistics and vocabularies (collection-stats.ts),
 * the time index (collection-time.ts). Opening: open-collection.ts.
 */
import { SeekdataError } from '../errors.js';
import { emptyStats, type RemoteStats } from '../sources/retry.js';
import type { JobRunner } from '../workers/pool.js';
import { CollectionChunks, CollectionLayout, CollectionRecords } from './collection-records.js';
import { mergeColumnStats } from './collection-stats.js';
import { CollectionTime } from './collection-time.js';
import type { IndexedFile, IndexReport } from './indexed-file.js';
import type { Indexed, RecordHome, SkippedFile } from './indexed.js';
import type { ResolvedRecordOptions } from './records/options.js';
import type { ColumnStats } from './records/stats.js';

export type { SkippedFile } from './indexed.js';

export interface CollectionReport {
  /** Files in the collection (skipped ones not counted). */
  files: number;
  records: number;
  /** Files left out by `onBadFile: 'skip'`, with the error that made them bad. */
  skipped: SkippedFile[];
  /** How the files' indexes were obtained: loaded from index files, built now, rebuilt, or not saved. */
  indexes: Record<IndexReport['status'], number>;
  /** Seconds spent opening the collection. */
  seconds: number;
  /** The merged time summary (first, last, sorted across files, unparsable counts added up). */
  time: IndexReport['time'];
}

export interface CollectionInfo {
  name: string;
  files: number;
  records: number;
  chunks: number;
  compressedSize: number;
  size: number;
  formats: Record<string, number>;
  columns: string[];
  timeRange: { first: string; last: string } | null;
  sorted: boolean | null;
  unparsableTimes: number;
  skipped: SkippedFile[];
  indexes: CollectionReport['indexes'];
}

export class IndexedCollection implements Indexed {
  readonly records: CollectionRecords;
  readonly reader: CollectionChunks;
  readonly time: CollectionTime | undefined;
  readonly stats: ColumnStats[];
  readonly columns: string[];
  readonly options: ResolvedRecordOptions;
  readonly report: CollectionReport;
  private readonly layout: CollectionLayout;

  constructor(
    /** The collection's files, in collection order. */
    readonly files: readonly IndexedFile[],
    readonly name: string,
    init: { parallelism: number; runner: JobRunner; readAhead: number; skipped: SkippedFile[]; seconds: number },
  ) {
    if (files.length === 0) throw new SeekdataError('NOT_FOUND', `${name}: no files left in the collection`, { file: name });
    this.layout = new CollectionLayout(files);
    this.records = new CollectionRecords(this.layout, name);
    this.reader = new CollectionChunks(this.layout, name, init.parallelism, init.runner);
    this.readAhead = init.readAhead;
    const first = files[0];
    this.options = first.options;
    this.columns = first.columns;
    this.stats = mergeColumnStats(files.map((f) => f.stats));
    const timed = files.every((f) => f.time !== undefined);
    this.time = timed ? new CollectionTime(files.map((f, k) => ({ time: f.time as NonNullable<typeof f.time>, first: this.layout.recordBase[k] })), (r) => this.layout.fileOfRecord(r)) : undefined;
    const indexes: CollectionReport['indexes'] = { loaded: 0, built: 0, rebuilt: 0, none: 0 };
    for (const f of files) indexes[f.report.status]++;
    const t = first.report.time;
    const summary = this.time?.summary;
    this.report = {
      files: files.length,
      records: this.records.count,
      skipped: init.skipped,
      indexes,
      seconds: init.seconds,
      time:
        t === undefined || summary === undefined
          ? undefined
          : {
              ...t,
              sorted: summary.sorted,
              first: summary.first,
              last: summary.last,
              unparsable: summary.unparsable,
              unparsableExamples: files.flatMap((f, k) => (f.report.time?.unparsableExamples ?? []).map((e) => ({ record: e.record + this.layout.recordBase[k], text: e.text }))).slice(0, 10),
            },
    };
  }

  readonly readAhead: number;

  get skippedFiles(): readonly SkippedFile[] {
    return this.report.skipped;
  }

  private requireTime(): CollectionTime {
    if (this.time === undefined) throw new SeekdataError('INVALID_OPTION', `${this.name}: no timestamp index (open it with options.timeColumn or options.time)`, { file: this.name });
    return this.time;
  }

  /** Record numbers with time in [t0, t1) in time order across the files (k-way merged), at most `limit`. */
  range(t0: number | Date, t1: number | Date, limit?: number): Float64Array {
    return this.requireTime().range(+t0, +t1, limit);
  }

  nearest(t: number | Date): number | undefined {
    return this.requireTime().nearest(+t);
  }

  /** The file holding collection record `record`, with the collection number of its record 0. */
  locate(record: number): RecordHome {
    if (!Number.isSafeInteger(record) || record < 0 || record >= this.records.count) {
      throw new SeekdataError('OUT_OF_RANGE', `${this.name}: record ${record} does not exist (${this.records.count} records)`, { file: this.name, record });
    }
    const k = this.layout.fileOfRecord(record);
    return { file: this.files[k], first: this.layout.recordBase[k], count: this.files[k].records.count, position: k };
  }

  /** Collection record number of record `local` of file `k`. */
  recordNumber(k: number, local: number): number {
    return this.layout.recordBase[k] + local;
  }

  layoutArrays(): Array<ArrayLike<number>> {
    return [Float64Array.of(this.files.length), ...this.files.flatMap((f) => f.layoutArrays())];
  }

  info(): CollectionInfo {
    const summary = this.time?.summary;
    const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString());
    const formats: Record<string, number> = {};
    let compressedSize = 0;
    let size = 0;
    for (const f of this.files) {
      const r = f.reader;
      formats[r.format] = (formats[r.format] ?? 0) + 1;
      compressedSize += r.compressedSize;
      size += r.size;
    }
    return {
      name: this.name,
      files: this.files.length,
      records: this.records.count,
      chunks: this.layout.chunks,
      compressedSize,
      size,
      formats,
      columns: this.columns,
      timeRange: summary === undefined || summary.first === undefined ? null : { first: iso(summary.first), last: iso(summary.last) },
      sorted: summary === undefined ? null : summary.sorted,
      unparsableTimes: summary === undefined ? 0 : summary.unparsable,
      skipped: this.report.skipped,
      indexes: this.report.indexes,
    };
  }

  /** Requests, retries and bytes of the remote files so far, added up (zeros for local files). */
  remoteStats(): RemoteStats {
    const sum = emptyStats();
    for (const f of this.files) {
      const s = f.reader.remoteStats;
      if (s === undefined) continue;
      for (const key of Object.keys(sum) as Array<keyof RemoteStats>) sum[key] += s[key];
    }
    return sum;
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}
