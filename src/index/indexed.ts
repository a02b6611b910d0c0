/**
 * What datasets, the Arrow export and the CLI read a data set through: one indexed file (`IndexedFile`) or
 * a collection of them (`IndexedCollection`), which presents the same surface with record and chunk numbers
 * running across its files. Datasets depend on these interfaces only, so anything that takes a file takes a
 * collection.
 */
import type { DecodedChunk, ChunkWork } from '../readers/chunks.js';
import type { JobRunner } from '../workers/pool.js';
import type { IndexedFile, IndexReport } from './indexed-file.js';
import type { RecordKind } from './records/analyze.js';
import type { ResolvedRecordOptions } from './records/options.js';
import type { RecordEnds } from './records/record-ends.js';
import type { ColumnStats } from './records/stats.js';
import type { TimeSummary } from './time-index.js';

/** Record access by number (see RecordIndex for each member). Chunk numbers are those of `ChunkAccess`. */
export interface RecordAccess {
  readonly count: number;
  readonly kind: RecordKind;
  /** Per chunk: the first record starting in it (length chunks + 1). */
  readonly firstRecord: ArrayLike<number>;
  recordsOf(chunk: number): { first: number; end: number };
  chunkOf(i: number): number;
  /** Byte range of record i in its file's decompressed bytes (its length is what callers use). */
  span(i: number): { start: number; end: number };
  content(bytes: Uint8Array): Uint8Array;
  ends(bytes: Uint8Array): RecordEnds;
  get(i: number): Promise<Uint8Array>;
  text(i: number): Promise<string>;
  getMany(indices: ArrayLike<number>, concurrency?: number): Promise<Uint8Array[]>;
  slice(from: number, to: number): Promise<Uint8Array[]>;
  verifyTail(chunk: number): Promise<void>;
  headSpan(chunk: number): number;
  headComing(chunk: number, head: Promise<Uint8Array | undefined>): Promise<void>;
  chunkSpans(chunk: number): ChunkSpans;
}

/**
 * A chunk's records as spans of the chunk's bytes followed by its tail (RecordIndex.chunkSpans); `startsFile`:
 * the chunk is its file's first (a byte-order mark may come before its first record); `fileEnd` is where the
 * file ends in those coordinates (a last line may lack its newline).
 */
export interface ChunkSpans {
  records: Float64Array;
  spans: Uint32Array;
  tail: Uint8Array;
  long: number[];
  startsFile: boolean;
  fileEnd: number;
}

/** Chunk decoding with a step run on it in the same job (see SeekableReader.decodeWith). */
export interface ChunkAccess {
  readonly name: string;
  readonly parallelism: number;
  readonly runner: JobRunner;
  decodeWith(chunk: number, work: ChunkWork, signal?: AbortSignal): Promise<DecodedChunk>;
}

/** The time index of a data set (see TimeIndex). */
export interface TimeLookup {
  readonly summary: TimeSummary;
  /** Record numbers with time in [t0, t1), in time order (ties in record order), at most `limit`. */
  range(t0: number, t1: number, limit?: number): Float64Array;
  nearest(t: number): number | undefined;
  /** Time of a record (NaN when unparsable). */
  timeOf(record: number): number;
}

/** Where a record lives: its file, and the numbers of that file's records in the data set. */
export interface RecordHome {
  file: IndexedFile;
  /** Number of the file's record 0 in the data set. */
  first: number;
  /** Records of the file. */
  count: number;
  /** Position of the file in the data set (0 for a single file). */
  position: number;
}

/** A file left out of a collection (`onBadFile: 'skip'`), and why. */
export interface SkippedFile {
  file: string;
  code: string;
  reason: string;
}

/** One indexed file or a collection: the surface datasets use. */
export interface Indexed {
  readonly name: string;
  readonly records: RecordAccess;
  readonly reader: ChunkAccess;
  readonly time: TimeLookup | undefined;
  readonly columns: string[];
  readonly stats: ColumnStats[];
  readonly options: ResolvedRecordOptions;
  readonly report: { readonly time: IndexReport['time'] };
  /** Files of a collection left out by `onBadFile: 'skip'` (none for one file): datasets warn of them. */
  readonly skippedFiles: readonly SkippedFile[];
  /** Chunks datasets decode ahead of the one in use. */
  readonly readAhead: number;
  range(t0: number | Date, t1: number | Date, limit?: number): Float64Array;
  nearest(t: number | Date): number | undefined;
  /** The file holding record `record` (with how its numbers map). */
  locate(record: number): RecordHome;
  /**
   * The name of the file holding record `record` and the data-set number of that file's record 0, known
   * without the file being open (a member of a collection opened from its manifest, or of a closed one):
   * what error messages and warnings name.
   */
  fileOf(record: number): { name: string; first: number };
  /** Arrays identifying the layout (files, chunks, records per chunk, block checks): what a saved state must match. */
  layoutArrays(): Array<ArrayLike<number>>;
  /**
   * Opens what synchronous lookups (`range`, `nearest`, `locate`, `timeOf`, record spans) will need: for a
   * collection opened from its manifest, its files (only those whose time spans meet `range` when given;
   * bounds as TimeRangeDataset takes them: epoch ms, a Date or a time text);
   * nothing for one file or a collection whose files are all open.
   */
  prepare(range?: { from: number | Date | string; to: number | Date | string }): Promise<void>;
  /** Aborted when `close()` starts: work still running for the data set (a timed map's call) stops early. */
  readonly closing: AbortSignal;
  close(): Promise<void>;
}
