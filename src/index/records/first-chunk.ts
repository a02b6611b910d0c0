/**
 * What the indexing pass must know before it starts: the bytes at the start of the file, the CSV header
 * (column names and where the records begin), and a sample time value to resolve `auto` formats.
 */
import { SeekdataError, invalidOption } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import { chunkLayout, ChunkDecoder, isBigUnit, type PieceOptions } from '../../readers/chunks.js';
import type { HeadChunk } from '../../readers/format.js';
import { formatOf, type Format } from '../../readers/formats.js';
import type { UnitTable } from '../../readers/units.js';
import { inlineRunner, type JobRunner } from '../../workers/pool.js';
import { contentEnd, forEachTerminator, isBlank, type AnalyzeSpec } from './analyze.js';
import { splitRecord, type Quoting } from './csv.js';
import { settle, unwrap, type Settled } from '../../util.js';
import { text } from './numbers.js';
import type { ResolvedRecordOptions } from './options.js';
import { resolveTimeFormat, type ResolvedTimeFormat } from './time.js';

/**
 * The first chunk's bytes, decoded by `runner`: the indexing pass gives its own (a pool worker, which has
 * the fastest decoder backend and spares the main thread); by default the calling thread.
 */
export interface FirstChunk {
  bytes: Uint8Array;
  /**
   * With a chunk map: chunks decoded while the CSV header was read, for the pass to take instead of decoding
   * them again — chunk 0, and the next ones (whole units), decoded meanwhile by the other workers. Settled:
   * a failure is the pass's to report when it reaches that chunk.
   */
  decoded: ReadonlyMap<number, Promise<Settled<Uint8Array>>>;
  /**
   * With a chunk map: the decoder that read chunk 0, still open, for the pass to go on with and close. When
   * chunk 0 is the first piece of a big unit, its stream stands after that piece: a new decoder could reach
   * piece 1 only by decoding the unit from its start again (a zstd frame or an xz block cannot be entered
   * in the middle). That stream also checks the unit as a whole (its CRC32s of pieces, its checksum at its
   * end) over the bytes handed out for the header, as the pass's own stream would. Whoever holds it when
   * the pass does not start closes it (`close` may be called more than once).
   */
  decoder: ChunkDecoder | undefined;
  /** Without a chunk map: what the format's `head` decoded, for its scan to reuse (ScanContext.head). */
  head: HeadChunk | undefined;
}

const NONE: FirstChunk = { bytes: new Uint8Array(0), decoded: new Map(), decoder: undefined, head: undefined };

/**
 * `alongside`: chunks after the first to decode at the same time (the pass's workers would be idle while
 * the first chunk decodes and the header is read: see the indexing pass, open-indexed.ts, for how many).
 */
export async function firstChunkBytes(
  source: ByteSource,
  format: Format,
  units: UnitTable | undefined,
  pieces: PieceOptions,
  runner: JobRunner = inlineRunner,
  alongside = 0,
): Promise<FirstChunk> {
  if (source.size === 0) return NONE;
  if (units !== undefined) {
    const layout = chunkLayout(units, pieces);
    if (layout.count === 0) return NONE;
    // 'lazy', as the indexing pass that goes on with this decoder: it fails as a whole when a unit fails its
    // check, and only the header is looked at before it.
    const decoder = new ChunkDecoder(source, units, layout, runner, { verify: 'lazy' });
    const decoded = new Map<number, Promise<Settled<Uint8Array>>>();
    // Pieces of a big unit after the first decode one after another, in the pass (see scanKnown).
    const whole = (c: number): boolean => !isBigUnit(units, layout.unit[c], layout.big);
    try {
      const first = settle(decoder.decode(0));
      decoded.set(0, first);
      for (let c = 1; c <= alongside && c < layout.count && whole(c); c++) decoded.set(c, settle(decoder.decode(c)));
      return { bytes: unwrap(await first), decoded, decoder, head: undefined };
    } catch (error) {
      decoder.close();
      throw error;
    }
  }
  // A file whose units are found by a scan: its format decodes the start without a chunk map.
  const head = formatOf(format).head;
  if (head === undefined) throw new Error(`internal: no chunk map for a ${format} file`);
  const found = await head(source, runner, alongside);
  return { bytes: found.bytes, decoded: new Map(), decoder: undefined, head: found };
}

export interface FileLayout {
  /** Where records begin in the first chunk (after a byte-order mark and the CSV header). */
  begin: number;
  columns: string[];
  timeField: number | string[] | undefined;
  timeFormat: ResolvedTimeFormat | undefined;
  /** Fields per record used for CSV statistics. */
  statColumns: number;
  /** CSV: which of them keep statistics (absent: all). */
  statMask: Uint8Array | undefined;
  /** JSONL: the fields that keep statistics (absent: all). */
  statOnly: string[] | undefined;
}

/** The first window `lines` scans for terminators; each further one is twice as long. */
export const FIRST_WINDOW = 4096;

/**
 * Lines of `bytes` from `from`, as [start, contentEnd, nextStart], stopping at the first unterminated one.
 * The layout needs the first few lines only: terminators are found in windows that double from
 * FIRST_WINDOW bytes, each starting after the last terminator found (outside quotes, so the next window
 * starts outside quotes too), instead of in the whole chunk at once. A window finds the same terminators
 * a whole-chunk scan finds before its end: a terminator depends only on the bytes before it.
 */
export function* lines(bytes: Uint8Array, from: number, kind: AnalyzeSpec['kind'], delimiter: number, quoting: Quoting, isWholeFile: boolean): Generator<[number, number, number]> {
  let start = from;
  let window = FIRST_WINDOW;
  for (;;) {
    const end = Math.min(bytes.length, start + window);
    const terminators: number[] = [];
    forEachTerminator(bytes.subarray(0, end), { kind, delimiter, quoting, begin: start, inQuote: false, statColumns: 0, maxBad: 0 }, (t) => terminators.push(t));
    for (const t of terminators) {
      yield [start, contentEnd(bytes, start, t), t + 1];
      start = t + 1;
    }
    if (end === bytes.length) break;
    if (terminators.length === 0) window *= 2;
  }
  if (isWholeFile && start < bytes.length) yield [start, bytes.length, bytes.length];
}

export function describeLayout(file: string, first: Uint8Array, isWholeFile: boolean, options: ResolvedRecordOptions): FileLayout {
  const kind = options.kind;
  const delimiter = options.delimiter.charCodeAt(0);
  let begin = first.length >= 3 && first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf ? 3 : 0;
  const it = lines(first, begin, kind, delimiter, options.quoting, isWholeFile);
  const nextRecord = (): [number, number, number] | undefined => {
    for (;;) {
      const r = it.next();
      if (r.done === true) return undefined;
      if (!isBlank(kind, first, r.value[0], r.value[1])) return r.value;
    }
  };
  let columns: string[] = [];
  if (kind === 'csv' && options.header) {
    const header = nextRecord();
    if (header === undefined) {
      if (first.length > begin && !isWholeFile) {
        throw new SeekdataError('PARSE_ERROR', `${file}: the CSV header line is longer than the first chunk (${first.length} bytes)`, { file });
      }
    } else {
      columns = splitRecord(first.subarray(header[0], header[1]), delimiter, options.quoting).map((c) => c.trim());
      begin = header[2];
    }
  }
  const sample = nextRecord();
  if (kind === 'csv' && !options.header && sample !== undefined) {
    columns = splitRecord(first.subarray(sample[0], sample[1]), delimiter, options.quoting).map((_, k) => String(k));
  }
  let timeField: number | string[] | undefined;
  let sampleValue: string | number | undefined;
  const tc = options.timeColumn;
  if (tc !== undefined && kind === 'csv') {
    timeField = typeof tc === 'number' ? tc : columns.indexOf(tc);
    if (timeField < 0 && typeof tc === 'string' && /^\d+$/.test(tc) && !options.header) timeField = Number(tc);
    if (timeField < 0) {
      throw invalidOption('timeColumn', `a column of ${file} (${columns.length === 0 ? 'the file has no header' : columns.join(', ')})`, tc);
    }
    if (sample !== undefined) sampleValue = splitRecord(first.subarray(sample[0], sample[1]), delimiter, options.quoting)[timeField];
  } else if (tc !== undefined && kind === 'jsonl') {
    timeField = String(tc).split('.');
    if (sample !== undefined) {
      try {
        let v: unknown = JSON.parse(text(first, sample[0], sample[1]));
        for (const key of timeField) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
        if (typeof v === 'string' || typeof v === 'number') sampleValue = v;
      } catch {
        // An invalid first record leaves the format to the default; the pass reports the record.
      }
    }
  }
  if (kind === 'jsonl' && sample !== undefined) {
    try {
      const value: unknown = JSON.parse(text(first, sample[0], sample[1]));
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) columns = Object.keys(value);
    } catch {
      // Column names of JSONL are informative only.
    }
  }
  let statMask: Uint8Array | undefined;
  let statOnly: string[] | undefined;
  if (Array.isArray(options.stats)) {
    if (kind === 'csv') {
      statMask = new Uint8Array(columns.length);
      for (const name of options.stats) {
        const c = columns.indexOf(name);
        if (c < 0) throw invalidOption('stats', `columns of ${file} (${columns.join(', ')})`, name);
        statMask[c] = 1;
      }
    } else statOnly = options.stats;
  }
  return {
    begin,
    columns,
    statMask,
    statOnly,
    timeField,
    timeFormat: timeField === undefined ? undefined : resolveTimeFormat(options.timeFormat, sampleValue),
    statColumns: !options.stats ? 0 : kind === 'csv' ? columns.length : kind === 'jsonl' ? 1 : 0,
  };
}
