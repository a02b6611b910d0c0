/**
 * The indexing pass's fast path for CSV chunks without a quote character (or with `quoting: 'none'`),
 * which is most chunks of most files: there every newline ends a record, so one pass over the bytes
 * finds each field's end, the record's end and the numeric value together — no terminator scan first,
 * no callback per record, no string per field. The pass runs in blocks of records (csv-fast-scan.ts, a
 * small hot loop); after each block the values that were no plain decimal (text, an exponent, blanks, a
 * missing token, 16+ digits) take the general reading of field-stats.ts over exactly the bytes analyze.ts
 * would give it, and then each column's values of the block are added to its statistics in record order,
 * so the result is the one `RecordParser` gives, bit for bit (test/analyze-fast.test.ts compares them).
 */
import type { AnalyzeSpec, ChunkAnalysis } from './analyze.js';
import { QUOTE } from './csv.js';
import { FastScan, scanBlock } from './csv-fast-scan.js';
import { analyzeCsvWasm } from './csv-wasm/analyze-wasm.js';
import { csvScannerWasm, type CsvScanner } from './csv-wasm/load.js';
import { badTimeText, chunkEnds, countText, readExceptions, scanFields } from './csv-fast-parts.js';
import { addMissing, addValues, newStats, toMoments } from './stats.js';
import { zoneOffsets } from './time.js';
import { noteOverflows, overflowedInPass, VocabCollector } from './vocab.js';

/**
 * Whether a chunk can take the fast path: CSV with a delimiter other than a digit, and no quote character
 * from `begin` on (or quotes are plain bytes).
 */
export function fastCsvApplies(bytes: Uint8Array, spec: AnalyzeSpec): boolean {
  // A digit as the delimiter (legal, if odd) would be read as part of a number: the general path.
  if (spec.kind !== 'csv' || (spec.delimiter >= 0x30 && spec.delimiter <= 0x39)) return false;
  if (spec.quoting === 'none') return true;
  if (spec.inQuote) return false;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(QUOTE, spec.begin) < 0;
}

/** A chunk's scan with its statistics, vocabularies and unparsable-timestamp reports (the rare paths). */
class ChunkScan extends FastScan {
  readonly stats: Float64Array | undefined;
  readonly vocab: VocabCollector;
  readonly bad: Array<{ k: number; text: string }> = [];
  badCount = 0;

  /** Unparsable timestamps to keep as examples (a number, not the spec: see below). */
  private readonly maxBad: number;

  constructor(bytes: Uint8Array, last: number, first: number, spec: AnalyzeSpec) {
    const { timeColumn, want, counted } = scanFields(spec);
    const columns = spec.statColumns;
    super(bytes, last, first, spec.delimiter, want, counted, timeColumn, spec.time?.format, zoneOffsets(spec.time?.zone), spec.maxRecordBytes ?? Infinity);
    this.stats = columns > 0 ? newStats(columns) : undefined;
    this.vocab = new VocabCollector(columns);
    for (const c of overflowedInPass(spec.pass)) this.vocab.drop(c);
    // Only numbers and typed arrays are kept: a field holding the spec would change type between the first
    // chunk's spec (its own object shape) and the others', and with it the map of this class, which
    // discards the code optimized for it.
    this.maxBad = spec.maxBad;
  }

  shortRecord(j: number, n: number): void {
    const stats = this.stats;
    if (stats === undefined) return;
    for (let c = n; c < this.want; c++) {
      if (this.counted[c] !== 1) continue;
      addMissing(stats, c);
      this.values[c * this.block + j] = NaN;
    }
  }

  text(c: number, a: number, e: number): void {
    const stats = this.stats;
    if (stats !== undefined) countText(stats, this.vocab, this.bytes, c, a, e);
  }

  badTime(k: number, ta: number, tb: number): void {
    if (this.timeColumn < 0) return;
    this.badCount++;
    if (this.bad.length < this.maxBad) this.bad.push({ k, text: badTimeText(this.bytes, ta, tb) });
  }

  /** Ends a block: the exceptions' general reading, then each column's values added in record order. */
  flush(): void {
    const stats = this.stats;
    const records = this.count - this.blockStart;
    if (stats !== undefined) {
      readExceptions(stats, this.vocab, this.bytes, this.values, this.block, this.exceptions, this.exceptionCount);
      for (let c = 0; c < this.want; c++) if (this.counted[c] === 1) addValues(stats, c, this.values, c * this.block, c * this.block + records);
    }
    this.exceptionCount = 0;
    this.blockStart = this.count;
  }
}

/**
 * analyzeChunk for a chunk `fastCsvApplies` accepted: with this thread's WebAssembly scanner when it loaded
 * (csv-wasm/load.ts), else with the JS one; `scanner` asks for one (tests: 'wasm' throws when the module
 * is not available).
 */
export function analyzeCsvFast(bytes: Uint8Array, spec: AnalyzeSpec, scanner?: CsvScanner): ChunkAnalysis {
  if (scanner !== 'js') {
    const wasm = csvScannerWasm(scanner === 'wasm');
    const result = wasm === undefined ? undefined : analyzeCsvWasm(wasm, bytes, spec);
    if (result !== undefined) return result;
    if (scanner === 'wasm') throw new Error(`the WebAssembly CSV scanner ${wasm === undefined ? 'is not available' : 'cannot hold the chunk'}`);
  }
  return analyzeCsvFastJs(bytes, spec);
}

/** analyzeCsvFast with the JS scanner. */
function analyzeCsvFastJs(bytes: Uint8Array, spec: AnalyzeSpec): ChunkAnalysis {
  const { first, last } = chunkEnds(bytes, spec.begin);
  const scan = new ChunkScan(bytes, last, first, spec);
  // A short first block: in a fresh worker its call ends before V8 optimizes the loop, so the code after
  // the loop has type feedback by then and the optimized code does not bail out there (csv-fast-scan.ts).
  let records = 16;
  while (scan.p <= last) {
    scanBlock(scan, records);
    scan.flush();
    records = scan.block;
  }
  const stats = scan.stats;
  noteOverflows(spec.pass, scan.vocab, spec.statColumns);
  return {
    first,
    last,
    starts: scan.starts.slice(0, scan.count),
    times: scan.times?.slice(0, scan.count),
    badCount: scan.badCount,
    bad: scan.bad,
    stats: stats === undefined ? undefined : toMoments(stats),
    statKeys: undefined,
    vocab: stats === undefined ? undefined : scan.vocab.export(),
    quoteParity: 0,
    newlines: scan.newlines,
    tooLong: scan.tooLong,
  };
}
