/**
 * The per-chunk part of the indexing pass, run in the worker pool on each decoded chunk: find the
 * newlines that end records (for CSV, those outside quoted fields, given the quote state at the chunk's
 * start), and parse the records that lie wholly inside the chunk for their timestamp and column
 * statistics. The record that straddles the chunk's start is parsed by the main thread, which joins it.
 */
import { analyzeCsvFast, fastCsvApplies } from './csv-fast.js';
import { QUOTE, type Quoting } from './csv.js';
import { isSpace } from './numbers.js';
import { RecordParser } from './record-parser.js';
import type { ResolvedTimeFormat } from './time.js';

export type RecordKind = 'lines' | 'csv' | 'jsonl';

export interface AnalyzeSpec {
  kind: RecordKind;
  /** CSV field delimiter (a byte). */
  delimiter: number;
  /** First byte of the chunk that belongs to records (after the header, for the first chunk). */
  begin: number;
  /** CSV: whether `begin` lies inside a quoted field. */
  inQuote: boolean;
  /** CSV: number of columns to keep statistics for; JSONL: any value > 0 turns statistics on. 0 = none. */
  statColumns: number;
  /** CSV: per column, 1 to keep its statistics (absent: every column). */
  statMask?: Uint8Array | undefined;
  /** JSONL: the field paths to keep statistics for (absent: every field). */
  statOnly?: string[] | undefined;
  /** Timestamp field: CSV column number or JSONL key path. Absent: no timestamps (or a user function). */
  time?: { field: number | string[]; format: ResolvedTimeFormat; zone?: string | undefined } | undefined;
  /** Unparsable timestamps to keep as examples. */
  maxBad: number;
  /** CSV: how quote characters are read (csv.ts). Default 'rfc4180'. */
  quoting?: Quoting | undefined;
  /** Records longer than this (bytes before their newline) are reported in `tooLong`. Default: no limit. */
  maxRecordBytes?: number | undefined;
  /**
   * The indexing pass the chunk belongs to (a number unique in the process): a thread that saw a column's
   * vocabulary overflow in one chunk of the pass does not collect it in the next (vocab.ts
   * `overflowedInPass`; the merged result is the same). Absent: each chunk on its own.
   */
  pass?: number | undefined;
  /**
   * The analysis also returns the bytes the main thread's join reads (`ChunkAnalysis.edges`), so the pass
   * need not move whole chunks to it (the job keeps its bytes). Not with a user time function, which reads
   * every record there.
   */
  edges?: boolean | undefined;
  /** The analysis also returns the CRC-32 of every `subCrcBytes` bytes of the chunk (`ChunkAnalysis.subCrcs`; readers/sub-crcs.ts). */
  subCrcBytes?: number | undefined;
}

/**
 * What the main thread's join reads of a chunk (RecordBuilder.addChunk): its length, the bytes up to its
 * first record end and those after its last; the whole chunk when it has no record end, holds a record over
 * the limit (whose error counts lines in it) or is the file's first (a header before `begin`).
 */
export type ChunkEdges = { whole: Uint8Array } | { length: number; head: Uint8Array; tail: Uint8Array };

export interface ChunkAnalysis {
  /** First and last record-ending newline at or after `begin`, or -1. */
  first: number;
  last: number;
  /** Starts (chunk offsets) of the records wholly between `first` and `last`. */
  starts: Uint32Array;
  /** Their timestamps (epoch ms, NaN when unparsable), when timestamps are asked for. */
  times: Float64Array | undefined;
  badCount: number;
  /** Unparsable timestamps: index into `starts` and the text. */
  bad: Array<{ k: number; text: string }>;
  /** Packed partial column statistics (stats.ts), and for JSONL the key of each column. */
  stats: Float64Array | undefined;
  statKeys: string[] | undefined;
  /** Distinct non-numeric values per statistics column (vocab.ts), null where there were too many. */
  vocab: Array<Array<[string, number]> | null> | undefined;
  /** Parity of the number of quote characters in [begin, end) (CSV). */
  quoteParity: number;
  /** With `AnalyzeSpec.edges`: copies of the bytes the join reads. */
  edges?: ChunkEdges | undefined;
  /** Newline bytes in [begin, end), record-ending or not (for line numbers in errors). */
  newlines: number;
  /** Index into `starts` of the first record longer than `maxRecordBytes`, or -1. */
  tooLong: number;
  /** With `AnalyzeSpec.subCrcBytes`: the CRC-32 of every so many bytes of the chunk, 4 bytes little-endian each. */
  subCrcs?: Uint8Array | undefined;
}

const NL = 0x0a;
const CR = 0x0d;

/** Content end of a line ending at terminator `t` (drops one "\r" before the "\n"). */
export function contentEnd(bytes: Uint8Array, start: number, t: number): number {
  return t > start && bytes[t - 1] === CR ? t - 1 : t;
}

/** Whether a line's content counts as no record (blank lines are skipped in CSV and JSONL). */
export function isBlank(kind: RecordKind, bytes: Uint8Array, start: number, end: number): boolean {
  if (kind === 'lines') return false;
  if (kind === 'csv') return start === end;
  for (let i = start; i < end; i++) if (!isSpace(bytes[i]) && bytes[i] !== CR) return false;
  return true;
}

/** What a terminator scan found besides the terminators. */
export interface TerminatorScan {
  /** Parity of the quote characters seen (CSV with quoting; else 0). */
  quoteParity: number;
  /** Newline bytes seen, record-ending or not. */
  newlines: number;
}

/**
 * Finds the record-ending newlines of a chunk from `begin` on, calling `onTerminator` for each with
 * whether the record it ends holds a quote character. For CSV with quoting every quote toggles
 * "inside quotes" (the same count csv.ts splits fields by), and newlines inside quotes end nothing.
 */
export function forEachTerminator(bytes: Uint8Array, spec: AnalyzeSpec, onTerminator: (t: number, quoted: boolean) => void): TerminatorScan {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = spec.begin;
  let newlines = 0;
  if (spec.kind !== 'csv' || spec.quoting === 'none') {
    for (;;) {
      const nl = buf.indexOf(NL, p);
      if (nl < 0) return { quoteParity: 0, newlines };
      newlines++;
      onTerminator(nl, false);
      p = nl + 1;
    }
  }
  let inQuote = spec.inQuote;
  let quoted = inQuote;
  let flips = 0;
  let nextQuote = buf.indexOf(QUOTE, p);
  for (;;) {
    const nl = buf.indexOf(NL, p);
    while (nextQuote >= 0 && (nl < 0 || nextQuote < nl)) {
      inQuote = !inQuote;
      quoted = true;
      flips++;
      nextQuote = buf.indexOf(QUOTE, nextQuote + 1);
    }
    if (nl < 0) return { quoteParity: flips & 1, newlines };
    newlines++;
    if (!inQuote) {
      onTerminator(nl, quoted);
      quoted = false;
    }
    p = nl + 1;
  }
}

/**
 * Analyses a chunk: quote-free CSV chunks take the one-pass path of csv-fast.ts, every other chunk the
 * terminator scan and the record parser (`analyzeChunkGeneral`); both give the same result.
 */
export function analyzeChunk(bytes: Uint8Array, spec: AnalyzeSpec): ChunkAnalysis {
  return fastCsvApplies(bytes, spec) ? analyzeCsvFast(bytes, spec) : analyzeChunkGeneral(bytes, spec);
}

/** Analyses any chunk: finds the terminators, then parses record by record. */
export function analyzeChunkGeneral(bytes: Uint8Array, spec: AnalyzeSpec): ChunkAnalysis {
  const parser = new RecordParser(spec);
  const limit = spec.maxRecordBytes ?? Infinity;
  let tooLong = -1;
  let starts = new Uint32Array(1024);
  let times: Float64Array | undefined = spec.time === undefined ? undefined : new Float64Array(1024);
  let count = 0;
  let first = -1;
  let last = -1;
  const scan = forEachTerminator(bytes, spec, (t, quoted) => {
    if (first < 0) {
      first = t;
      last = t;
      return;
    }
    const start = last + 1;
    last = t;
    const end = contentEnd(bytes, start, t);
    if (isBlank(spec.kind, bytes, start, end)) return;
    if (count === starts.length) {
      const grown = new Uint32Array(count * 2);
      grown.set(starts);
      starts = grown;
      if (times !== undefined) {
        const g = new Float64Array(count * 2);
        g.set(times);
        times = g;
      }
    }
    if (t - start > limit && tooLong < 0) tooLong = count;
    const time = parser.record(bytes, start, end, count, quoted);
    starts[count] = start;
    if (times !== undefined) times[count] = time;
    count++;
  });
  return {
    first,
    last,
    starts: starts.slice(0, count),
    times: times?.slice(0, count),
    badCount: parser.badCount,
    bad: parser.bad,
    stats: parser.moments(),
    statKeys: parser.statKeys(),
    vocab: parser.stats === undefined ? undefined : parser.vocab.export(),
    quoteParity: scan.quoteParity,
    newlines: scan.newlines,
    tooLong,
  };
}
