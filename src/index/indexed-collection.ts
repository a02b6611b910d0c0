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
import type { CollectionMember } from './collection-member.js';
import { CollectionChunks, CollectionLayout, CollectionRecords } from './collection-records.js';
import { mergeColumnStats } from './collection-stats.js';
import { CollectionTime } from './collection-time.js';
import { timeBound } from './records/time-bound.js';
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
  /**
   * The collection manifest used to open the collection without opening its files (its path), or undefined
   * when every file was opened now (no manifest, or one that was missing, stale or damaged).
   */
  manifest: string | undefined;
  /** Files whose indexes were loaded (or built) at open, before any record was read. */
  openedAtStart: number;
  /** Where this open wrote a new collection manifest, if it did. */
  manifestWritten: string | undefined;
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
    /** The collection's files, in collection order: open, or opened when first needed (from a manifest). */
    readonly members: readonly CollectionMember[],
    readonly name: string,
    init: {
      parallelism: number;
      runner: JobRunner;
      readAhead: number;
      skipped: SkippedFile[];
      seconds: number;
      manifest?: string | undefined;
      manifestWritten?: string | undefined;
      openConcurrency?: number;
    },
  ) {
    if (members.length === 0) throw new SeekdataError('NOT_FOUND', `${name}: no files left in the collection`, { file: name });
    this.layout = new CollectionLayout(members, name);
    this.records = new CollectionRecords(this.layout, name);
    this.reader = new CollectionChunks(this.layout, name, init.parallelism, init.runner);
    this.readAhead = init.readAhead;
    this.openConcurrency = init.openConcurrency ?? 4;
    const first = members[0].facts;
    this.options = first.options;
    this.columns = first.columns;
    this.stats = mergeColumnStats(members.map((m) => m.facts.stats));
    const timed = members.every((m) => m.facts.time !== undefined);
    this.time = timed
      ? new CollectionTime(
          members.map((m, k) => ({ summary: m.facts.time as NonNullable<typeof m.facts.time>, lookup: () => this.timeOfFile(k), first: this.layout.recordBase[k] })),
          (r) => this.layout.fileOfRecord(r),
        )
      : undefined;
    const indexes: CollectionReport['indexes'] = { loaded: 0, built: 0, rebuilt: 0, none: 0 };
    for (const m of members) indexes[m.facts.status]++;
    const t = first.timeReport;
    const summary = this.time?.summary;
    this.report = {
      files: members.length,
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
              unparsableExamples: members.flatMap((m, k) => (m.facts.timeReport?.unparsableExamples ?? []).map((e) => ({ record: e.record + this.layout.recordBase[k], text: e.text }))).slice(0, 10),
            },
      manifest: init.manifest,
      openedAtStart: members.filter((m) => m.file !== undefined).length,
      manifestWritten: init.manifestWritten,
    };
  }

  readonly readAhead: number;
  private readonly openConcurrency: number;

  /** The files, all open (NOT_OPENED when the collection came from its manifest and has not opened them all: see `prepare`). */
  get files(): readonly IndexedFile[] {
    return this.members.map((m) => m.need(this.name));
  }

  /** Files open now (loaded their indexes): all of them unless the collection was opened from its manifest. */
  get openedFiles(): number {
    return this.members.filter((m) => m.file !== undefined).length;
  }

  private timeOfFile(k: number): NonNullable<IndexedFile['time']> {
    const time = this.layout.need(k).time;
    if (time === undefined) throw new SeekdataError('INDEX_MISMATCH', `${this.members[k].name}: has no time index`, { file: this.members[k].name });
    return time;
  }

  /**
   * Opens the files that synchronous lookups will need: every file, or with `range` only those whose time
   * span meets [from, to) (`range`, `nearest`, `TimeRangeDataset` and record lookups are synchronous; reads
   * of records and chunks open their files themselves). Files already open are left as they are; a few open
   * at once (openConcurrency). A collection opened without its manifest has every file open already.
   */
  async prepare(range?: { from: number | Date | string; to: number | Date | string }): Promise<void> {
    const every = (): number[] => this.members.map((_, k) => k);
    const wanted = range === undefined || this.time === undefined ? every() : this.time.overlapping(timeBound('from', range.from), timeBound('to', range.to));
    const todo = wanted.filter((k) => this.members[k].file === undefined);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) await this.members[todo[next++]].open();
    };
    await Promise.all(Array.from({ length: Math.min(this.openConcurrency, todo.length) }, worker));
  }

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
    return { file: this.layout.need(k), first: this.layout.recordBase[k], count: this.members[k].facts.records, position: k };
  }

  fileOf(record: number): { name: string; first: number } {
    const k = this.layout.fileOfRecord(record);
    return { name: this.members[k].name, first: this.layout.recordBase[k] };
  }

  /** Collection record number of record `local` of file `k`. */
  recordNumber(k: number, local: number): number {
    return this.layout.recordBase[k] + local;
  }

  layoutArrays(): Array<ArrayLike<number>> {
    return [Float64Array.of(this.members.length), ...this.members.flatMap((m) => m.facts.layout)];
  }

  info(): CollectionInfo {
    const summary = this.time?.summary;
    const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString());
    const formats: Record<string, number> = {};
    let compressedSize = 0;
    let size = 0;
    for (const { facts } of this.members) {
      formats[facts.format] = (formats[facts.format] ?? 0) + 1;
      compressedSize += facts.compressedSize;
      size += facts.size;
    }
    return {
      name: this.name,
      files: this.members.length,
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
    for (const m of this.members) {
      const s = m.file?.reader.remoteStats;
      if (s === undefined) continue;
      for (const key of Object.keys(sum) as Array<keyof RemoteStats>) sum[key] += s[key];
    }
    return sum;
  }

  private readonly closer = new AbortController();

  get closing(): AbortSignal {
    return this.closer.signal;
  }

  async close(): Promise<void> {
    this.closer.abort();
    await Promise.all(this.members.map((m) => m.close()));
  }
}
