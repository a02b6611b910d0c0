/**
 * The record offset index: the start of every record as the number of the first record of each chunk
 * plus a 32-bit offset within the chunk (4 bytes per record, no per-record objects), and record access
 * through the reader: one record, many (each needed chunk decoded once), or a slice.
 *
 * A loaded index is untrusted (record-sections.ts checks its structure): where the bytes are at hand,
 * every record cut out of them must start at offset 0, right after a `\n`, or after the byte-order mark,
 * end with a `\n` or the file, and hold one record (no record ends inside it: an offset left out would
 * merge two; records/record-ends.ts); and a chunk's stored tail is used only once it has been compared with the data (when the next chunk is
 * decoded for its own rows, or else the first time the tail is needed: tail-checks.ts), so a crafted
 * index cannot change the bytes of a record.
 */
import { SeekdataError } from '../errors.js';
import type { SeekableReader } from '../readers/reader.js';
import type { ChunkSpans } from './indexed.js';
import type { RecordKind } from './records/analyze.js';
import type { Quoting } from './records/csv.js';
import { RecordEnds } from './records/record-ends.js';
import type { RecordTails } from './record-tails.js';
import { TailChecks } from './tail-checks.js';

export type { RecordTails } from './record-tails.js';

const decoder = new TextDecoder();

/** Where a record index came from: built from the data now (trusted), or loaded from an index file. */
export interface RecordIndexOrigin {
  indexPath: string | undefined;
  /** True when the tails were taken from the data in this process (no need to check them). */
  verified: boolean;
}

/**
 * Whether a record may start at `at` of `bytes` (bytes that begin at a chunk's start, or hold the byte before
 * the record): at 0, right after a `\n`, or after a byte-order mark at 3 when `bytes` begin the file
 * (`startsFile`; as RecordIndex.checkStart). What a loaded offset must satisfy where the bytes are at hand.
 */
export function startsLine(bytes: Uint8Array, at: number, startsFile: boolean): boolean {
  return at === 0 || bytes[at - 1] === 0x0a || (startsFile && at === 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf);
}

/**
 * Whether a record's span ending at `end` of `bytes` ends a line: its last byte is a `\n` (a span holds its
 * terminator and any blank lines after it), or it ends where the file does (`fileEnd`, in the same
 * coordinates: a last line may lack its newline). A span of nothing ends none.
 */
export function endsLine(bytes: Uint8Array, start: number, end: number, fileEnd: number): boolean {
  return end > start && (end === fileEnd || bytes[end - 1] === 0x0a);
}

export class RecordIndex {
  readonly count: number;
  private readonly tailChecks: TailChecks;

  constructor(
    private readonly reader: SeekableReader,
    readonly kind: RecordKind,
    /** CSV: how quotes are read, which decides where a record's line ends (records/record-ends.ts). */
    readonly quoting: Quoting,
    /** Per chunk: number of the first record starting in it or later (length chunks + 1). */
    readonly firstRecord: Float64Array,
    /** Per record: start offset within its chunk. */
    readonly offsets: Uint32Array,
    /** Per chunk: the bytes past its end that complete its last record (see BuiltRecords.tails). */
    readonly tails: RecordTails,
    private readonly origin: RecordIndexOrigin = { indexPath: undefined, verified: true },
  ) {
    this.count = offsets.length;
    this.tailChecks = new TailChecks(reader, kind, tails, (c) => this.tailSpan(c), (what, record) => this.corrupt(what, record), origin.verified, (c) => this.atStart(c));
  }

  /** The record that starts right at chunk c's start (c > 0), if one does. */
  private atStart(chunk: number): number | undefined {
    const r = this.firstRecord[chunk];
    return chunk > 0 && r < this.firstRecord[chunk + 1] && this.offsets[r] === 0 ? r : undefined;
  }

  /**
   * Checks that record i's bytes, `bytes` ending at decompressed `end`, end a line (or the file) and hold one
   * record. `ends` scans them, when the caller has one for bytes that hold them at `at` (else one is made).
   */
  private checkEnd(i: number, bytes: Uint8Array, end: number, ends?: RecordEnds, at = 0): void {
    if (!endsLine(bytes, 0, bytes.length, end === this.reader.size ? bytes.length : -1)) throw this.corrupt(`record ${i} does not end at a line end (offset ${end})`, i);
    const extra = (ends ?? this.ends(bytes)).extra(at, at + bytes.length);
    if (extra >= 0) throw this.corrupt(`record ${i} holds more than one record: its line ends at offset ${end - bytes.length + extra - at} of its span ending at ${end} (an offset left out)`, i);
  }

  /** A scan of `bytes` for where records end, by this index's record kind and quoting. */
  ends(bytes: Uint8Array): RecordEnds {
    return new RecordEnds(bytes, this.kind, this.quoting);
  }

  /** Bytes from the end of chunk c to the start of the record after its last one (0 when no record of c runs past its end). */
  private tailSpan(chunk: number): number {
    const { first, end } = this.recordsOf(chunk);
    if (end <= first) return 0;
    const next = end < this.count ? this.reader.layout.start[this.chunkOf(end)] + this.offsets[end] : this.reader.size;
    return Math.max(0, next - this.reader.layout.start[chunk + 1]);
  }

  private corrupt(what: string, record?: number): SeekdataError {
    const where = this.origin.indexPath ?? 'record index';
    return new SeekdataError('CORRUPT_INDEX', `${where}: record index does not match ${this.reader.name}: ${what} (a damaged or crafted index: rebuild it)`, {
      file: this.origin.indexPath ?? this.reader.name,
      record,
    });
  }

  /** Checks that a record starting at decompressed `start` follows a line end: `before` is the byte before it (or the first three bytes for a start at 3). */
  private checkStart(i: number, start: number, before: number | undefined, head?: Uint8Array): void {
    if (start === 0 || before === 0x0a) return;
    if (start === 3 && head !== undefined && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return;
    if (before === undefined) return;
    throw this.corrupt(`record ${i} does not start at a line start (offset ${start})`, i);
  }

  /**
   * Compares the stored tail of a chunk with the data (once per chunk), so that it can be used. Rejects
   * with CORRUPT_INDEX when they differ.
   */
  async verifyTail(chunk: number): Promise<void> {
    await this.tailChecks.verify(chunk);
    // A record at the chunk's very start follows the previous chunk's last byte: checked once too.
    await this.tailChecks.verifyStart(chunk);
  }

  /** Bytes of chunk c's start that would check chunk c - 1's stored tail while it is unchecked, else 0 (see headComing). */
  headSpan(chunk: number): number {
    return this.tailChecks.headSpan(chunk);
  }

  /**
   * Chunk c's first `headSpan(c)` bytes are on their way from a job that decodes the chunk whole for its
   * own rows (undefined if it fails): they check chunk c - 1's stored tail, with no decode of their own,
   * also for a verifyTail(c - 1) called meanwhile. Rejects with CORRUPT_INDEX when the tail differs.
   */
  headComing(chunk: number, head: Promise<Uint8Array | undefined>): Promise<void> {
    return this.tailChecks.headComing(chunk, head);
  }

  /** Records starting in chunk c: [first, end). */
  recordsOf(chunk: number): { first: number; end: number } {
    return { first: this.firstRecord[chunk], end: this.firstRecord[chunk + 1] };
  }

  /** The tail of chunk c, or undefined when it was too long to store or is not checked yet (see verifyTail). */
  tailOf(chunk: number): Uint8Array | undefined {
    if (this.tails.stored[chunk] === 0 || !this.tailChecks.usable(chunk)) return undefined;
    return this.tails.bytes.subarray(this.tails.offsets[chunk], this.tails.offsets[chunk + 1]);
  }

  /**
   * The records starting in a chunk as spans relative to the chunk's bytes followed by its tail (what a
   * worker needs to parse them without the next chunk). Records running past an unstored tail are
   * listed in `long` instead (read them with `get`).
   */
  chunkSpans(chunk: number): ChunkSpans {
    const { first, end } = this.recordsOf(chunk);
    const layout = this.reader.layout;
    const chunkStart = layout.start[chunk];
    const chunkLength = layout.start[chunk + 1] - chunkStart;
    const tail = this.tailOf(chunk);
    const available = chunkLength + (tail?.length ?? 0);
    const records = new Float64Array(end - first);
    const spans = new Uint32Array(2 * (end - first));
    const fileEnd = this.reader.size - chunkStart;
    const long: number[] = [];
    let n = 0;
    for (let r = first; r < end; r++) {
      const start = this.offsets[r];
      const spanEnd = (r + 1 < this.count ? this.start(r + 1) : this.reader.size) - chunkStart;
      if (spanEnd > available && tail === undefined) {
        long.push(r);
        continue;
      }
      records[n] = r;
      spans[2 * n] = start;
      spans[2 * n + 1] = Math.min(spanEnd, available);
      n++;
    }
    // Fresh arrays, fit to post to a worker: the tail is copied out of the tails section (a view into it
    // would clone the whole loaded index file into every job; `new Uint8Array(view)` copies, where a
    // Buffer's `slice` would not).
    return { records: records.slice(0, n), spans: spans.slice(0, 2 * n), tail: tail === undefined ? new Uint8Array(0) : new Uint8Array(tail), long, startsFile: chunk === 0, fileEnd };
  }

  /**
   * The content of record i from the bytes of its start chunk (and the chunk's tail), without reading
   * anything; undefined when the record runs past a tail that was not stored. `ends`: a scan of `bytes`
   * shared by the calls for one chunk.
   */
  fromChunk(i: number, chunk: number, bytes: Uint8Array, ends = this.ends(bytes)): Uint8Array | undefined {
    const chunkStart = this.reader.layout.start[chunk];
    const { start, end } = this.span(i);
    const from = start - chunkStart;
    const to = end - chunkStart;
    this.checkStart(i, start, from > 0 ? bytes[from - 1] : undefined, chunk === 0 ? bytes : undefined);
    if (to <= bytes.length) {
      const record = bytes.slice(from, to);
      this.checkEnd(i, record, end, ends, from);
      return this.content(record);
    }
    const tail = this.tailOf(chunk);
    if (tail === undefined) return undefined;
    const out = new Uint8Array(bytes.length - from + Math.min(tail.length, to - bytes.length));
    out.set(bytes.subarray(from));
    out.set(tail.subarray(0, out.length - (bytes.length - from)), bytes.length - from);
    this.checkEnd(i, out, chunkStart + bytes.length + Math.min(tail.length, to - bytes.length));
    return this.content(out);
  }

  private check(i: number): void {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.count) {
      throw new SeekdataError('OUT_OF_RANGE', `${this.reader.name}: record ${i} does not exist (${this.count} records)`, {
        file: this.reader.name,
        record: i,
      });
    }
  }

  /** The chunk record i starts in. */
  chunkOf(i: number): number {
    const first = this.firstRecord;
    let lo = 0;
    let hi = first.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (first[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Decompressed offset where record i starts. */
  start(i: number): number {
    this.check(i);
    return this.reader.layout.start[this.chunkOf(i)] + this.offsets[i];
  }

  /** Byte range [start, end) of record i, including its line terminator (and, for CSV / JSONL, any blank lines after it). */
  span(i: number): { start: number; end: number } {
    const start = this.start(i);
    const end = i + 1 < this.count ? this.start(i + 1) : this.reader.size;
    return { start, end };
  }

  /** Strips the terminator (and trailing blank lines for CSV / JSONL) from a record's span. */
  content(bytes: Uint8Array): Uint8Array {
    let end = bytes.length;
    if (this.kind === 'lines') {
      if (end > 0 && bytes[end - 1] === 0x0a) end--;
      if (end > 0 && bytes[end - 1] === 0x0d) end--;
    } else {
      const isTrail = (b: number): boolean => b === 0x0a || b === 0x0d || (this.kind === 'jsonl' && (b === 0x20 || b === 0x09));
      while (end > 0 && isTrail(bytes[end - 1])) end--;
    }
    return bytes.subarray(0, end);
  }

  /** The bytes of record i, without its line terminator. */
  async get(i: number): Promise<Uint8Array> {
    const { start, end } = this.span(i);
    // One byte more before the record when it is in the same chunk, to check that a line ends there.
    const chunk = this.chunkOf(i);
    const lead = start === 3 ? 3 : start > this.reader.layout.start[chunk] ? 1 : 0;
    if (lead === 0 && start !== 0) await this.tailChecks.verifyStart(chunk);
    const bytes = await this.reader.read(start - lead, end - start + lead);
    this.checkStart(i, start, lead > 0 ? bytes[lead - 1] : undefined, lead === 3 ? bytes : undefined);
    const record = bytes.subarray(lead);
    this.checkEnd(i, record, end);
    this.noteTail(i, chunk, record);
    return this.content(record);
  }

  /** The record that completes past its chunk's end was read whole: its tail is checked for free. */
  private noteTail(i: number, chunk: number, record: Uint8Array): void {
    if (!this.tailChecks.pending(chunk) || i !== this.firstRecord[chunk + 1] - 1) return;
    this.tailChecks.check(chunk, record.subarray(this.reader.layout.start[chunk + 1] - this.start(i)), i);
  }

  async text(i: number): Promise<string> {
    return decoder.decode(await this.get(i));
  }

  /**
   * Records by number, returned in the requested order. Records are grouped by chunk so each chunk is
   * decoded once, `concurrency` chunks at a time, and dropped once its records are copied out.
   */
  async getMany(indices: ArrayLike<number>, concurrency = this.reader.parallelism): Promise<Uint8Array[]> {
    const out = new Array<Uint8Array>(indices.length);
    const byChunk = new Map<number, number[]>();
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      this.check(i);
      const c = this.chunkOf(i);
      const list = byChunk.get(c);
      if (list === undefined) byChunk.set(c, [k]);
      else list.push(k);
    }
    const groups = [...byChunk.entries()].sort((a, b) => a[0] - b[0]);
    let next = 0;
    const work = async (): Promise<void> => {
      while (next < groups.length) {
        const [chunk, positions] = groups[next++];
        // The chunk's last record may need its tail: check the tail against the data first (once).
        if (this.tailChecks.pending(chunk) && positions.some((k) => indices[k] === this.firstRecord[chunk + 1] - 1)) await this.verifyTail(chunk);
        // A record at the chunk's very start: the byte before it is the previous chunk's (checked once).
        if (positions.some((k) => indices[k] === this.firstRecord[chunk])) await this.tailChecks.verifyStart(chunk);
        // Records that all end inside the chunk need only its bytes through the last one: a verified prefix
        // of its unit where the reader can decode one (gzip spans, indexed xz blocks), else the whole chunk.
        const chunkStart = this.reader.layout.start[chunk];
        const chunkEnd = this.reader.layout.start[chunk + 1];
        let need = 0;
        for (const k of positions) need = Math.max(need, this.span(indices[k]).end - chunkStart);
        const bytes = need < chunkEnd - chunkStart ? await this.reader.chunkPrefix(chunk, need) : await this.reader.chunk(chunk);
        const ends = this.ends(bytes);
        for (const k of positions) {
          // A record running past its chunk is completed from the chunk's tail; only a record longer
          // than the tail limit is read through the reader (its start checked in the chunk's bytes).
          const fromChunk = this.fromChunk(indices[k], chunk, bytes, ends);
          if (fromChunk !== undefined) out[k] = fromChunk;
          else {
            const { start, end } = this.span(indices[k]);
            const record = await this.reader.read(start, end - start);
            this.checkEnd(indices[k], record, end);
            out[k] = this.content(record);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, groups.length)) }, work));
    return out;
  }

  /** Records from..to-1 in order. */
  async slice(from: number, to: number): Promise<Uint8Array[]> {
    const end = Math.min(to, this.count);
    if (from >= end) return [];
    this.check(from);
    const { start: first } = this.span(from);
    const fromChunk = this.chunkOf(from);
    const lead = first === 3 ? 3 : first > this.reader.layout.start[fromChunk] ? 1 : 0;
    if (lead === 0 && first !== 0) await this.tailChecks.verifyStart(fromChunk);
    const start = first - lead;
    const last = this.span(end - 1).end;
    const bytes = await this.reader.read(start, last - start);
    const ends = this.ends(bytes);
    const out: Uint8Array[] = [];
    for (let i = from; i < end; i++) {
      const span = this.span(i);
      const at = span.start - start;
      this.checkStart(i, span.start, at > 0 ? bytes[at - 1] : undefined, start === 0 ? bytes : undefined);
      const record = bytes.subarray(at, span.end - start);
      this.checkEnd(i, record, span.end, ends, at);
      out.push(this.content(record));
    }
    return out;
  }
}
