/**
 * Whether a span of bytes holds one record: the check of a loaded index that no offset was left out. A
 * record's span runs from its start to the next record's start: its line up to the line end that ends it
 * (the first `\n` outside quotes, by the rule of analyze.ts `forEachTerminator`: for CSV with quoting every
 * `"` toggles "inside quotes"), then for CSV and JSONL any blank lines (`isBlank`), which are no records.
 * An index with an offset left out (and its count reduced to match) gives one record the span of two: it
 * starts and ends at line ends, so only a record end inside it shows it.
 *
 * The newlines and quotes are found with Buffer's native search, as the indexing pass finds them, and a
 * quote found once serves every later span of the same bytes (spans of a chunk come in ascending order):
 * in a quote-free chunk one search answers for all its records.
 */
import { contentEnd, isBlank, type RecordKind } from './analyze.js';
import { QUOTE, type Quoting } from './csv.js';

const NL = 0x0a;

export class RecordEnds {
  private readonly buf: Buffer;
  private readonly quotes: boolean;
  /** The first quote at or after `from` (-1: none there or after); `from` -1: not searched yet. */
  private quote = -1;
  private from = -1;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly kind: RecordKind,
    quoting: Quoting,
  ) {
    // A view, not a copy: the search runs over the caller's bytes.
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.quotes = kind === 'csv' && quoting !== 'none';
  }

  /**
   * Where the record that starts at `start` (outside quotes) ends before the span [start, end) does: the
   * position of its line end when anything but blank lines follows it in the span (the next record's
   * bytes), else -1. A span with no line end (the file's last record without a newline) holds one record.
   */
  extra(start: number, end: number): number {
    const t = this.lineEnd(start, end);
    if (t < 0 || t === end - 1) return -1;
    if (this.kind === 'lines') return t;
    // Blank lines may follow (the last one without a newline at the file's end).
    for (let p = t + 1; p < end; ) {
      const nl = this.buf.indexOf(NL, p);
      const stop = nl < 0 || nl >= end ? end : nl;
      if (!isBlank(this.kind, this.bytes, p, contentEnd(this.bytes, p, stop))) return t;
      p = stop + 1;
    }
    return -1;
  }

  /** The first record-ending `\n` in [start, end), from `start` outside quotes, or -1. */
  private lineEnd(start: number, end: number): number {
    let inside = false;
    for (let p = start; ; ) {
      const nl = this.buf.indexOf(NL, p);
      if (nl < 0 || nl >= end) return -1;
      if (this.quotes) {
        for (let q = this.nextQuote(p, nl); q >= 0; q = this.nextQuote(q + 1, nl)) inside = !inside;
      }
      if (!inside) return nl;
      p = nl + 1;
    }
  }

  /** The first quote in [p, limit), or -1. */
  private nextQuote(p: number, limit: number): number {
    if (this.from >= 0 && p < this.from) {
      // Before the known stretch (spans asked for out of order): a plain loop over this line only.
      for (let i = p; i < limit; i++) if (this.bytes[i] === QUOTE) return i;
      return -1;
    }
    if (this.from < 0 || (this.quote >= 0 && this.quote < p)) {
      // Past the known quote: the next one, found once for every span it serves.
      this.quote = this.buf.indexOf(QUOTE, p);
      this.from = p;
    }
    return this.quote >= 0 && this.quote < limit ? this.quote : -1;
  }
}
