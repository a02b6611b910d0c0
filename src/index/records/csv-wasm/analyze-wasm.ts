/**
 * csv-fast.ts's analysis with the hot loop in WebAssembly (wasm/csv-scan.ts, the same loop as csv-fast-scan.ts
 * `scanBlock`): the chunk is copied once into the module's memory, the module scans it a block of records
 * at a time — record and field ends, plain decimals into the block's column buffer, record starts and the
 * time field's bounds, the ISO timestamps that share the last one's date and hour, and each column's values
 * added to the chunk's statistics, which live in the module's memory — and leaves the rest to the same JS as
 * the JS scanner, in the same order: text values to the vocabularies, short records' missing values, the
 * general reading of the exceptions (the values of a block with exceptions are added after it), and the
 * other timestamps parsed. The result is the JS scanner's, bit for bit (test/trust-csv-wasm*.test.ts and the
 * differential tests run both).
 */
import type { AnalyzeSpec, ChunkAnalysis } from '../analyze.js';
import { badTimeText, chunkEnds, countText, readExceptions, scanFields } from '../csv-fast-parts.js';
import { addMissing, newStats, STAT_SLOTS, toMoments } from '../stats.js';
import { IsoPrefixCache, isoDateHour, parseTime, PREFIX, type ResolvedTimeFormat, type ZoneOffsets, zoneOffsets } from '../time.js';
import { noteOverflows, overflowedInPass, VocabCollector } from '../vocab.js';
import { REGIONS_START, type CsvScannerWasm } from './load.js';

const PAGE = 65536;
/** Bytes after the chunk that a read of the module at its last byte may touch (16 bytes: wasm/csv-scan.ts fieldEnd). */
const PAD = 16;

const align = (n: number): number => Math.ceil(n / 16) * 16;

/** Where a chunk's regions lie in the module's memory. */
interface Layout {
  counted: number;
  values: number;
  starts: number;
  ta: number;
  tb: number;
  texts: number;
  exceptions: number;
  shorts: number;
  times: number;
  dropped: number;
  stats: number;
  known: number;
  byteCounts: number;
  base: number;
  end: number;
}

function layout(want: number, columns: number, block: number, length: number): Layout {
  const counted = REGIONS_START;
  const values = align(counted + want);
  const starts = align(values + block * want * 8);
  const ta = align(starts + block * 4);
  const tb = align(ta + block * 4);
  const texts = align(tb + block * 4);
  const exceptions = align(texts + block * want * 16);
  const shorts = align(exceptions + block * want * 16);
  const times = align(shorts + block * 8);
  const dropped = align(times + block * 8);
  const stats = align(dropped + want);
  const known = align(stats + columns * STAT_SLOTS * 8);
  const byteCounts = align(known + want * 256);
  const base = align(byteCounts + want * 256 * 4);
  return { times, dropped, stats, known, byteCounts, counted, values, starts, ta, tb, texts, exceptions, shorts, base, end: base + length + PAD };
}

/** The most memory a wasm32 module can have. */
const MAX_MEMORY = 65536 * PAGE;

function blockOf(want: number): number {
  return Math.max(16, Math.min(128, Math.floor(65536 / Math.max(1, want))));
}

/**
 * analyzeChunk for a chunk `fastCsvApplies` accepted, with the module `scanner`; undefined when the module's
 * memory cannot hold the chunk (2 GiB and more, or the memory cannot grow): the JS scanner then takes it.
 */
export function analyzeCsvWasm(scanner: CsvScannerWasm, chunk: Uint8Array, spec: AnalyzeSpec): ChunkAnalysis | undefined {
  const { first, last } = chunkEnds(chunk, spec.begin);
  const time = spec.time;
  const fields = scanFields(spec);
  const { timeColumn, want } = fields;
  const columns = spec.statColumns;
  const block = blockOf(want);
  const at = layout(want, columns, block, chunk.length);
  const memory = scanner.memory;
  // Offsets in the module are 32-bit signed (as in the JS scanner's exception lists): larger chunks take JS.
  if (at.end > MAX_MEMORY || chunk.length >= 2 ** 31) return undefined;
  if (memory.buffer.byteLength < at.end) {
    try {
      memory.grow(Math.ceil((at.end - memory.buffer.byteLength) / PAGE));
    } catch {
      return undefined;
    }
  }
  const heap = memory.buffer;
  const bytes = new Uint8Array(heap, at.base, chunk.length);
  bytes.set(chunk);
  new Uint8Array(heap, at.base + chunk.length, PAD).fill(0);
  const counted = new Uint8Array(heap, at.counted, want);
  counted.set(fields.counted);
  const values = new Float64Array(heap, at.values, block * want);
  const blockStarts = new Uint32Array(heap, at.starts, block);
  const ta = new Int32Array(heap, at.ta, block);
  const tb = new Int32Array(heap, at.tb, block);
  const texts = new Int32Array(heap, at.texts, block * want * 4);
  const exceptions = new Int32Array(heap, at.exceptions, block * want * 4);
  const shorts = new Int32Array(heap, at.shorts, block * 2);

  const vocab = new VocabCollector(columns);
  for (const c of overflowedInPass(spec.pass)) vocab.drop(c);
  const format = time?.format;
  const zone = zoneOffsets(time?.zone);
  const iso = new IsoPrefixCache();
  const room = Math.max(1024, chunk.length >> 6);
  let starts = new Uint32Array(room);
  let times = format === undefined ? undefined : new Float64Array(room);
  const bad: Array<{ k: number; text: string }> = [];
  let badCount = 0;
  const limit = spec.maxRecordBytes ?? Infinity;

  let p = first + 1;
  scanner.setup(at.base, chunk.length, last, spec.delimiter, want, at.counted, timeColumn, block, at.values, at.starts, at.ta, at.tb, at.texts, at.exceptions, at.shorts, limit, first < 0 ? 0 : 1);
  // The chunk's statistics live in the module's memory: the module adds the values (addBlock) and counts
  // the text it reads; JS counts the rest of the text and the missing values into the same doubles.
  const stats = columns > 0 ? new Float64Array(heap, at.stats, columns * STAT_SLOTS) : undefined;
  stats?.set(newStats(columns));
  scanner.setStats(at.dropped, stats === undefined ? 0 : at.stats);
  // ISO timestamps that share the remembered date and hour are read in the module; the others here.
  const wasmIso = format === 'iso' && timeColumn >= 0;
  scanner.setTime(at.times, wasmIso ? 1 : 0, zone === undefined ? 0 : 1);
  const blockTimes = new Float64Array(heap, at.times, block);
  const dropped = new Uint8Array(heap, at.dropped, want);
  // Text of a column dropped before the chunk (overflowed in an earlier chunk of the pass) is counted in the module from the start.
  for (let c = 0; c < want; c++) dropped[c] = counted[c] === 1 && vocab.dropped(c) ? 1 : 0;
  // One-byte text values the vocabulary holds are counted in the module (wasm/csv-scan.ts setKnown).
  const known = new Uint8Array(heap, at.known, want * 256);
  known.fill(0);
  const byteCounts = new Int32Array(heap, at.byteCounts, want * 256);
  byteCounts.fill(0);
  scanner.setKnown(at.known, at.byteCounts);
  const held: Array<number[]> = Array.from({ length: want }, () => []);
  let count = 0;
  // The JS scanner's blocks (a first one of 16 records): a value's place in its column's vocabulary
  // depends on the block that reads it (text during the scan, the general reading after the block).
  let upTo = 16;
  while (p <= last) {
    p = scanner.scanBlock(p, upTo, count);
    upTo = block;
    const records = scanner.getRecordCount();
    if (count + records > starts.length) {
      const size = Math.max(starts.length * 2, count + records);
      starts = grown(starts, new Uint32Array(size));
      if (times !== undefined) times = grown(times, new Float64Array(size));
    }
    starts.set(blockStarts.subarray(0, records), count);
    if (stats !== undefined) {
      // The same order as the JS scanner: text during the scan, short records, then the exceptions; a block
      // without exceptions had its values added to the statistics by the module already.
      const textCount = scanner.getTextCount();
      const exceptionCount = scanner.getExceptionCount();
      const shortCount = scanner.getShortCount();
      if (textCount > 0) countTexts(stats, vocab, bytes, texts, textCount, known, held);
      if (shortCount > 0) countShorts(stats, counted, shorts, shortCount);
      if (exceptionCount > 0) {
        readExceptions(stats, vocab, bytes, values, block, exceptions, exceptionCount);
        markTextBytes(vocab, bytes, exceptions, exceptionCount, known, held);
        scanner.addBlock(records);
      }
      // Text in a column whose vocabulary was dropped (only by adding text above) is only counted, in the module.
      if (textCount > 0 || exceptionCount > 0) {
        for (let c = 0; c < want; c++) if (counted[c] === 1 && dropped[c] === 0 && vocab.dropped(c)) dropped[c] = 1;
      }
    }
    if (times !== undefined && wasmIso && scanner.getTimeMisses() === 0) times.set(blockTimes.subarray(0, records), count);
    else if (times !== undefined && format !== undefined) badCount += parseTimes(times, count, records, bytes, ta, tb, format, zone, iso, timeColumn, bad, spec.maxBad, wasmIso ? blockTimes : undefined, scanner);
    count += records;
  }
  // The known one-byte values' counts, once for the chunk: each is in its vocabulary already (its place fixed),
  // so adding its count later changes only when (a vocabulary dropped since keeps nothing either way).
  if (stats !== undefined) addKnownCounts(vocab, byteCounts, held);
  noteOverflows(spec.pass, vocab, columns);
  return {
    first,
    last,
    starts: starts.slice(0, count),
    times: times?.slice(0, count),
    badCount,
    bad,
    stats: stats === undefined ? undefined : toMoments(stats.slice()),
    statKeys: undefined,
    vocab: stats === undefined ? undefined : vocab.export(),
    quoteParity: 0,
    newlines: scanner.getNewlines(),
    tooLong: scanner.getTooLong(),
  };
}

function grown<T extends Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/**
 * The block's text values for JS, in order: each counted, and added to its column's vocabulary; a one-byte
 * value the vocabulary now holds is marked known (`held`: per column, the bytes marked), so the module counts
 * its later meetings (`addKnownCounts`).
 */
function countTexts(stats: Float64Array, vocab: VocabCollector, bytes: Uint8Array, texts: Int32Array, n: number, known: Uint8Array, held: number[][]): void {
  for (let k = 0, end = n * 4; k < end; k += 4) {
    const c = texts[k];
    const a = texts[k + 1];
    const z = countText(stats, vocab, bytes, c, a, texts[k + 2]);
    if (z >= 0 && z - a === 1 && texts[k + 2] === z) markKnown(vocab, c, bytes[a], known, held);
  }
}

/** Marks one-byte value `byte` of column c known to the module (unless marked or the vocabulary was dropped). */
function markKnown(vocab: VocabCollector, c: number, byte: number, known: Uint8Array, held: number[][]): void {
  if (known[c * 256 + byte] === 0 && !vocab.dropped(c)) {
    known[c * 256 + byte] = 1;
    held[c].push(byte);
  }
}

/**
 * The one-byte values that stop the module's number reading (load.ts GENERAL_BYTES) and that the general
 * reading always finds to be text: no number and no missing token is one of these letters or "+".
 */
const TEXT_BYTES = new Uint8Array(256);
for (const c of 'eEINn+') TEXT_BYTES[c.charCodeAt(0)] = 1;

/**
 * After the general reading of a block's exceptions: a one-byte exception that is always text (TEXT_BYTES),
 * now in its column's vocabulary, is marked known, so the module counts its later meetings as it does other
 * one-byte text (its place in the vocabulary is fixed already).
 */
function markTextBytes(vocab: VocabCollector, bytes: Uint8Array, x: Int32Array, n: number, known: Uint8Array, held: number[][]): void {
  for (let k = 0, end = n * 4; k < end; k += 4) {
    const a = x[k + 2];
    if (x[k + 3] - a === 1 && TEXT_BYTES[bytes[a]] === 1) markKnown(vocab, x[k + 1], bytes[a], known, held);
  }
}

const ONE_BYTE = new Uint8Array(1);

/** Adds the module's counts of known one-byte values to the vocabularies (their places are already fixed), and clears them. */
function addKnownCounts(vocab: VocabCollector, byteCounts: Int32Array, held: number[][]): void {
  for (let c = 0; c < held.length; c++) {
    for (const b of held[c]) {
      const n = byteCounts[c * 256 + b];
      if (n === 0) continue;
      byteCounts[c * 256 + b] = 0;
      ONE_BYTE[0] = b;
      vocab.addRepeat(c, ONE_BYTE, 0, 1, n);
    }
  }
}

function countShorts(stats: Float64Array, counted: Uint8Array, shorts: Int32Array, n: number): void {
  for (let k = 0, end = n * 2; k < end; k += 2) {
    for (let c = shorts[k + 1]; c < counted.length; c++) if (counted[c] === 1) addMissing(stats, c);
  }
}

/** The block's timestamps into times[count, count + records); returns how many did not parse (kept in `bad`). */
function parseTimes(
  times: Float64Array, count: number, records: number, bytes: Uint8Array, ta: Int32Array, tb: Int32Array,
  format: ResolvedTimeFormat, zone: ZoneOffsets | undefined, iso: IsoPrefixCache, timeColumn: number, bad: Array<{ k: number; text: string }>, maxBad: number,
  read: Float64Array | undefined, scanner: CsvScannerWasm,
): number {
  let badCount = 0;
  for (let j = 0; j < records; j++) {
    let t = read === undefined ? NaN : read[j];
    if (t === t) {
      times[count + j] = t;
      continue;
    }
    const a = ta[j];
    const b = tb[j];
    if (a >= 0) t = format === 'iso' ? iso.parse(bytes, a, b, zone) : parseTime(bytes, a, b, format, zone);
    if (read !== undefined && a >= 0) {
      // Remember this value's date and hour in the module when they are valid ones.
      let s = a;
      while (s < b && (bytes[s] === 0x20 || bytes[s] === 0x09)) s++;
      if (b - s >= PREFIX) {
        const dateHour = isoDateHour(bytes, s, b);
        if (dateHour === dateHour) scanner.setPrefix(s, dateHour);
      }
    }
    if (t !== t && timeColumn >= 0) {
      badCount++;
      if (bad.length < maxBad) bad.push({ k: count + j, text: badTimeText(bytes, a, b) });
    }
    times[count + j] = t;
  }
  return badCount;
}
