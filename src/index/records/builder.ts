/**
 * The main-thread half of the indexing pass: takes each chunk's analysis in file order, joins the record
 * that straddles each chunk boundary, and assembles the record offsets (per-chunk first record + 32-bit
 * offsets within the chunk), timestamps and merged column statistics. What it builds, and the pieces it
 * builds it with (typed arrays joined once, the time scan, the tails packed), are in built-records.ts.
 */
import { SeekdataError } from '../../errors.js';
import { analyzeChunk, contentEnd, isBlank, type AnalyzeSpec, type ChunkAnalysis, type ChunkEdges } from './analyze.js';
import { MAX_TAIL_BYTES, packTails, Parts, scanTimes, type BuiltRecords, type TimeScan } from './built-records.js';
import { text } from './numbers.js';
import { countNewlines, recordTooLong, unclosedQuote } from './record-errors.js';
import { RecordParser } from './record-parser.js';
import { mergeStats, newStats, STAT_SLOTS } from './stats.js';
import { finalizeVocab, mergeVocab } from './vocab.js';
import { concatBytes } from '../../util.js';

export interface BuilderOptions {
  file: string;
  /** Spec for a chunk at offset 0 (its `begin` skips the header) and for any other chunk. */
  specFor: (offset: number) => AnalyzeSpec;
  /** CSV column names (stat columns are named by them). */
  columns: string[];
  /** A user function giving each record's time from its text. */
  timeFn?: ((record: string) => number | Date) | undefined;
  strict: boolean;
  maxBad: number;
  /** A record longer than this (bytes before its newline) is a PARSE_ERROR. */
  maxRecordBytes: number;
}

/** The chunk being added, for line numbers of records in it. */
interface Here {
  chunk: number;
  bytes: Uint8Array;
}

export class RecordBuilder {
  private readonly chunkStarts: number[] = [];
  private readonly firstRecord: number[] = [];
  private readonly offsets = new Parts<Uint32Array>((n) => new Uint32Array(n));
  private readonly times: Parts<Float64Array> | undefined;
  private readonly timeScan: TimeScan = { valid: 0, sorted: true };
  /** The last valid time so far (-Infinity: none yet). */
  private lastTime = -Infinity;
  private count = 0;
  private carryStart = 0;
  private carry: Uint8Array[] = [];
  /** Bytes in `carry`. */
  private carryBytes = 0;
  /** Newline bytes before each chunk seen (and after the last), for line numbers in errors. */
  private readonly newlinesBefore: number[] = [0];
  private inQuote = false;
  private stats: Float64Array | undefined;
  private readonly jsonStats = new Map<string, Float64Array>();
  private readonly vocabs = new Map<string, Map<string, number> | null>();
  private readonly tails = new Map<number, Uint8Array | null>();
  /**
   * For a tail too long to store (null in `tails`): its length and its last MAX_TAIL_BYTES bytes, so that
   * `finishOn` can cut it at a later chunk start (what remains may be short enough to store). Kept while
   * `suffixBytes` stays under MAX_SUFFIX_BYTES; a tail left without one makes `finishOn` give up.
   */
  private readonly longTails = new Map<number, { length: number; suffix: Uint8Array | undefined }>();
  private suffixBytes = 0;
  private badCount = 0;
  private ended = false;
  private readonly bad: Array<{ record: number; text: string }> = [];
  private readonly parser: RecordParser;

  constructor(private readonly options: BuilderOptions) {
    const spec = options.specFor(0);
    this.parser = new RecordParser({ ...spec, begin: 0 });
    const timed = spec.time !== undefined || options.timeFn !== undefined;
    this.times = timed ? new Parts<Float64Array>((n) => new Float64Array(n)) : undefined;
    if (spec.statColumns > 0 && spec.kind === 'csv') this.stats = newStats(spec.statColumns);
  }

  /** Where the chunks added so far start (the record offsets are relative to them). */
  get starts(): readonly number[] {
    return this.chunkStarts;
  }

  /** The chunk (among those seen) holding absolute offset `at`. */
  private chunkOfOffset(at: number): number {
    let c = this.chunkStarts.length - 1;
    while (c > 0 && this.chunkStarts[c] > at) c--;
    return c;
  }

  /** Moves the chunk pointer forward to the chunk holding absolute offset `start` (records arrive in order). */
  private enter(start: number): number {
    let chunk = this.firstRecord.length - 1;
    while (chunk + 1 < this.chunkStarts.length && this.chunkStarts[chunk + 1] <= start) {
      chunk++;
      this.firstRecord.push(this.count);
    }
    return chunk;
  }

  /** Appends a record starting at absolute offset `start`. */
  private append(start: number, time: number): void {
    const chunk = this.enter(start);
    this.offsets.add(Uint32Array.of(start - this.chunkStarts[chunk]));
    if (this.times !== undefined) {
      const one = Float64Array.of(time);
      this.times.add(one);
      this.lastTime = scanTimes(this.timeScan, one, this.lastTime);
    }
    this.count++;
  }

  /**
   * Appends the records a chunk's analysis found, all starting in the chunk at absolute offset `offset`
   * (the last one added): their starts are already relative to it.
   */
  private appendAll(offset: number, starts: Uint32Array, times: Float64Array | undefined): void {
    if (starts.length === 0) return;
    this.enter(offset + starts[0]);
    this.offsets.add(starts);
    if (this.times !== undefined) {
      const part = times ?? new Float64Array(starts.length).fill(NaN);
      this.times.add(part);
      // Scanned here, while the workers decode the next chunks, instead of all at once after the last one.
      this.lastTime = scanTimes(this.timeScan, part, this.lastTime);
    }
    this.count += starts.length;
  }

  private noteBad(record: number, value: string): void {
    if (this.options.strict) {
      throw new SeekdataError('PARSE_ERROR', `${this.options.file}: record ${record}: unparsable timestamp ${JSON.stringify(value)}`, {
        file: this.options.file,
        record,
      });
    }
    this.badCount++;
    if (this.bad.length < this.options.maxBad) this.bad.push({ record, text: value });
  }

  private userTime(line: string, record: number): number {
    const fn = this.options.timeFn;
    if (fn === undefined) return NaN;
    let value: number | Date;
    try {
      value = fn(line);
    } catch (error) {
      this.noteBad(record, `(time function threw: ${error instanceof Error ? error.message : String(error)}) ${line.slice(0, 60)}`);
      return NaN;
    }
    const t = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : NaN;
    if (Number.isNaN(t)) this.noteBad(record, line.slice(0, 100));
    return t;
  }

  /** A record parsed here (the one joined across a chunk boundary, or the last one). */
  private appendParsed(bytes: Uint8Array, start: number, end: number, absoluteStart: number): void {
    const spec = this.options.specFor(-1);
    if (isBlank(spec.kind, bytes, start, end)) return;
    const before = this.parser.badCount;
    let time = this.parser.record(bytes, start, end, this.count);
    if (this.parser.badCount > before) this.noteBad(this.count, this.parser.lastBad);
    if (this.options.timeFn !== undefined) time = this.userTime(text(bytes, start, end), this.count);
    this.append(absoluteStart, time);
  }

  /**
   * Whether the next chunk must come whole (not as its analysis's ChunkEdges): it starts inside a quoted
   * field, so the worker's analysis (which assumed it did not) is redone here on all its bytes.
   */
  needsWhole(): boolean {
    return this.inQuote;
  }

  /**
   * Adds the next chunk: its bytes, or (with its analysis, when `needsWhole()` is false) the edges of them
   * the join reads.
   */
  addChunk(offset: number, chunkBytes: Uint8Array | ChunkEdges, given: ChunkAnalysis | undefined): void {
    const whole = chunkBytes instanceof Uint8Array ? chunkBytes : 'whole' in chunkBytes ? chunkBytes.whole : undefined;
    const edges = whole === undefined && !(chunkBytes instanceof Uint8Array) && 'head' in chunkBytes ? chunkBytes : undefined;
    if (edges !== undefined && (given === undefined || this.inQuote)) throw new Error('internal: a chunk that needs all its bytes came as its edges');
    // With edges, the bytes up to the first record end: all this reads of the chunk but its tail.
    const bytes = whole ?? edges?.head ?? new Uint8Array(0);
    const length = whole?.length ?? edges?.length ?? 0;
    const chunk = this.chunkStarts.length;
    this.chunkStarts.push(offset);
    if (this.firstRecord.length === 0) this.firstRecord.push(0);
    let spec = this.options.specFor(offset);
    if (this.count === 0 && this.carry.length === 0 && offset === 0) this.carryStart = spec.begin;
    // Workers assume a chunk starts outside quotes; when it does not (a quoted field spans the
    // boundary), analyse it again here with the right state.
    let analysis = given;
    if (analysis === undefined || this.inQuote) {
      spec = { ...spec, inQuote: this.inQuote };
      analysis = analyzeChunk(bytes, spec);
    }
    this.inQuote = this.inQuote !== (analysis.quoteParity === 1);
    this.newlinesBefore.push(this.newlinesBefore[chunk] + countNewlines(bytes, 0, spec.begin) + analysis.newlines);
    const here = { chunk, bytes };
    if (analysis.first < 0) {
      const piece = bytes.slice(spec.begin);
      this.carry.push(piece);
      this.carryBytes += piece.length;
      // Checked as it grows: a runaway record (an unclosed quote) fails before it fills the memory.
      if (this.carryBytes > this.options.maxRecordBytes) throw this.tooLong(this.count, this.carryStart, here);
      return;
    }
    const head = concatBytes([...this.carry, bytes.subarray(spec.begin, analysis.first + 1)]);
    const headTerminator = head.length - 1;
    if (headTerminator > this.options.maxRecordBytes) throw this.tooLong(this.count, this.carryStart, here);
    const before = this.count;
    this.appendParsed(head, 0, contentEnd(head, 0, headTerminator), this.carryStart);
    if (this.count > before && this.carryStart < offset) {
      // The head record started in an earlier chunk: what lies past that chunk's end is its tail.
      const owner = this.chunkOfOffset(this.carryStart);
      const tail = head.subarray(this.chunkStarts[owner + 1] - this.carryStart);
      this.tails.set(owner, tail.length <= MAX_TAIL_BYTES ? tail.slice() : null);
      if (tail.length > MAX_TAIL_BYTES) {
        const keep = this.suffixBytes + MAX_TAIL_BYTES <= MAX_SUFFIX_BYTES;
        if (keep) this.suffixBytes += MAX_TAIL_BYTES;
        this.longTails.set(owner, { length: tail.length, suffix: keep ? tail.slice(tail.length - MAX_TAIL_BYTES) : undefined });
      }
    }
    const base = this.count;
    if (analysis.tooLong >= 0) throw this.tooLong(base + analysis.tooLong, offset + analysis.starts[analysis.tooLong], here);
    let times = analysis.times;
    if (this.options.timeFn !== undefined) {
      if (edges !== undefined) throw new Error('internal: a user time function reads whole chunks');
      times = new Float64Array(analysis.starts.length);
      for (let k = 0; k < analysis.starts.length; k++) {
        const s = analysis.starts[k];
        const e = k + 1 < analysis.starts.length ? analysis.starts[k + 1] : analysis.last + 1;
        times[k] = this.userTime(text(bytes, s, e).replace(/[\r\n\s]+$/, ''), base + k);
      }
    }
    this.appendAll(offset, analysis.starts, times);
    for (const b of analysis.bad) this.noteBad(base + b.k, b.text);
    this.badCount += analysis.badCount - analysis.bad.length;
    this.mergeStats(analysis);
    this.carryStart = offset + analysis.last + 1;
    const rest = edges !== undefined ? edges.tail : analysis.last + 1 < length ? bytes.slice(analysis.last + 1) : undefined;
    this.carry = rest === undefined || rest.length === 0 ? [] : [rest];
    this.carryBytes = this.carry.length === 0 ? 0 : this.carry[0].length;
  }

  /** 1-based line of decompressed offset `at`: in the chunk being added, or the start of the carried record. */
  private lineOf(at: number, here: Here | undefined): number {
    const owner = this.chunkOfOffset(at);
    if (here !== undefined && owner === here.chunk) return this.newlinesBefore[owner] + countNewlines(here.bytes, 0, at - this.chunkStarts[owner]) + 1;
    // `at` starts the carried record: the carry's first piece is its chunk's bytes from `at` on.
    const rest = this.carry[0] ?? new Uint8Array(0);
    return this.newlinesBefore[owner + 1] - countNewlines(rest, 0, rest.length) + 1;
  }

  private tooLong(record: number, offset: number, here: Here | undefined): SeekdataError {
    return recordTooLong(this.options.file, { record, offset, line: this.lineOf(offset, here) }, this.options.maxRecordBytes, this.options.specFor(-1));
  }

  private mergeStats(analysis: ChunkAnalysis): void {
    if (analysis.vocab !== undefined) {
      analysis.vocab.forEach((values, c) => {
        const name = analysis.statKeys?.[c] ?? this.options.columns[c] ?? String(c);
        const merged: Array<Map<string, number> | null> = [this.vocabs.has(name) ? (this.vocabs.get(name) ?? null) : new Map()];
        mergeVocab(merged, [values]);
        this.vocabs.set(name, merged[0]);
      });
    }
    if (analysis.stats === undefined) return;
    if (analysis.statKeys === undefined) {
      this.stats = this.stats === undefined ? analysis.stats.slice() : mergeStats(this.stats, analysis.stats);
      return;
    }
    analysis.statKeys.forEach((key, c) => {
      const part = analysis.stats?.subarray(c * STAT_SLOTS, (c + 1) * STAT_SLOTS) ?? newStats(1);
      const mine = this.jsonStats.get(key);
      this.jsonStats.set(key, mine === undefined ? part.slice() : mergeStats(mine, part));
    });
  }

  /** Ends the pass: the unterminated last record, and the arrays (offsets and times joined when first read). */
  finish(): BuiltRecords {
    this.end();
    return this.built(this.firstRecord, this.offsets, this.tails, this.chunkStarts.length);
  }

  /**
   * Ends the pass as `finish` does, but with the records re-based onto other chunks, which start at
   * `starts` (increasing, the first at 0, each one where a chunk of this pass starts): what a pass over
   * those chunks would have built, without decoding again (the reader's chunks of a zstd file whose scan
   * cut it in 1 MiB pieces: whole frames, and the pieces of a frame read in pieces). Only the records: what
   * else a pass over those chunks records (the CRC32s of a big frame's pieces) is the caller's to have.
   * Undefined when it cannot (a start that is not one of the pass's, a record offset past 32 bits, a long
   * tail whose end was not kept): then a pass over those chunks is needed.
   */
  finishOn(starts: ArrayLike<number>): BuiltRecords | undefined {
    this.end();
    const passStarts = this.chunkStarts;
    const m = passStarts.length;
    const n = starts.length;
    if (n === 0 || m === 0 || starts[0] !== passStarts[0]) return undefined;
    for (let j = 1; j < m; j++) if (!(passStarts[j] > passStarts[j - 1])) return undefined;
    // Each of the pass's chunks' chunk among `starts` (reader[j]), and each start's chunk of the pass (at[i]).
    const reader = new Int32Array(m);
    const at = new Int32Array(n + 1);
    at[n] = m;
    let i = 0;
    for (let j = 0; j < m; j++) {
      if (i + 1 < n && starts[i + 1] === passStarts[j]) {
        i++;
        at[i] = j;
      }
      reader[j] = i;
    }
    if (i !== n - 1) return undefined; // a start that is not one of the pass's (or out of order)
    const firstRecord: number[] = [];
    for (let r = 0; r <= n; r++) firstRecord.push(this.firstRecord[at[r]]);
    // The offsets: each record's start moves by where its chunk of the pass starts in its new chunk.
    // The parts are copied where they change: they are the workers' arrays, which stay as they came.
    const offsets = new Parts<Uint32Array>((len) => new Uint32Array(len));
    let k = 0;
    let j = 0;
    for (const part of this.offsets.pieces) {
      let out: Uint32Array | undefined;
      for (let x = 0; x < part.length; x++, k++) {
        while (this.firstRecord[j + 1] <= k) j++;
        const shift = passStarts[j] - starts[reader[j]];
        if (shift === 0) continue;
        const moved = part[x] + shift;
        if (moved > 0xffffffff) return undefined;
        out ??= part.slice();
        out[x] = moved;
      }
      offsets.add(out ?? part);
    }
    if (k !== this.count) throw new Error('internal: the offsets do not count the records');
    // The tails: a record that crosses the end of its chunk of the pass crosses the end of its new chunk
    // when it ends past the next start; its tail is then what lies past that start.
    const tails = new Map<number, Uint8Array | null>();
    for (const [c, tail] of this.tails) {
      const r = reader[c];
      if (r + 1 >= n) continue; // the last chunk has no tail
      const long = tail === null ? this.longTails.get(c) : undefined;
      if (tail === null && long === undefined) throw new Error('internal: a long tail without its length');
      const length = tail?.length ?? long?.length ?? 0;
      const next = starts[r + 1];
      const past = passStarts[c + 1] + length - next;
      if (past <= 0) continue;
      if (past > MAX_TAIL_BYTES) {
        tails.set(r, null);
      } else if (tail !== null) {
        tails.set(r, tail.subarray(length - past));
      } else {
        if (long?.suffix === undefined) return undefined;
        tails.set(r, long.suffix.subarray(MAX_TAIL_BYTES - past));
      }
    }
    return this.built(firstRecord, offsets, tails, n);
  }

  /** The end of the pass: the last record, the statistics kept by the joins' parser, `firstRecord` filled. */
  private end(): void {
    if (this.ended) throw new Error('internal: a pass ended twice');
    this.ended = true;
    if (this.inQuote) throw unclosedQuote(this.options.file, { record: this.count, offset: this.carryStart, line: this.lineOf(this.carryStart, undefined) });
    const last = concatBytes(this.carry);
    if (last.length > this.options.maxRecordBytes) throw this.tooLong(this.count, this.carryStart, undefined);
    if (last.length > 0) this.appendParsed(last, 0, contentEnd(last, 0, last.length), this.carryStart);
    // The parser of joined records kept its own JSONL statistics.
    this.mergeStats({ ...emptyAnalysis(), stats: this.parser.moments(), statKeys: this.parser.statKeys(), vocab: this.parser.stats === undefined ? undefined : this.parser.vocab.export() });
    while (this.firstRecord.length < this.chunkStarts.length + 1) this.firstRecord.push(this.count);
  }

  private built(firstRecord: readonly number[], offsets: Parts<Uint32Array>, stored: ReadonlyMap<number, Uint8Array | null>, chunks: number): BuiltRecords {
    let stats = this.stats;
    let statNames: string[] | undefined = this.options.columns;
    if (this.jsonStats.size > 0) {
      statNames = [...this.jsonStats.keys()];
      stats = newStats(statNames.length);
      statNames.forEach((key, c) => stats?.set(this.jsonStats.get(key) ?? newStats(1), c * STAT_SLOTS));
    }
    const { tails, tailOffsets, tailStored } = packTails(stored, chunks);
    const times = this.times;
    return {
      tails,
      tailOffsets,
      tailStored,
      vocab: statNames?.map((name) => finalizeVocab(this.vocabs.get(name))),
      count: this.count,
      firstRecord: Float64Array.from(firstRecord),
      get offsets() {
        return offsets.done();
      },
      offsetParts: offsets.pieces,
      get times() {
        return times?.done();
      },
      timeParts: times?.pieces,
      join: async () => {
        await offsets.doneSliced();
        await times?.doneSliced();
      },
      timeScan: this.times === undefined ? undefined : { ...this.timeScan },
      badCount: this.badCount,
      bad: this.bad,
      stats,
      statNames: stats === undefined ? undefined : statNames,
    };
  }
}

/** At most this many bytes of long tails' ends kept for `finishOn` (256 tails): past it, a second pass. */
const MAX_SUFFIX_BYTES = 16 << 20;

function emptyAnalysis(): ChunkAnalysis {
  return { first: -1, last: -1, starts: new Uint32Array(0), times: undefined, badCount: 0, bad: [], stats: undefined, statKeys: undefined, vocab: undefined, quoteParity: 0, newlines: 0, tooLong: -1 };
}
