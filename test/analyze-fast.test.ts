/**
 * The indexing pass's per-chunk analysis (records/analyze.ts, its quote-free CSV fast path csv-fast.ts,
 * byte-hashed vocabularies, the ISO date/hour prefix cache) against a straightforward reference written
 * here: records found byte by byte, fields split by csv.ts (the one definition of a value), values read as strings by regular expressions and Number(), ISO
 * timestamps by a regular expression. On generated hostile CSV (quotes, CRLF, blank lines, NA tokens,
 * exponents, 16+ digit numbers, bad timestamps and zones, short and long records, odd delimiters) cut
 * into chunks at random places (inside quoted fields too), starts, times, statistics, vocabularies and
 * unparsable-timestamp reports must be identical, bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { analyzeChunkGeneral, type AnalyzeSpec, type ChunkAnalysis } from '../src/index/records/analyze.js';
import { RecordBuilder } from '../src/index/records/builder.js';
import type { BuiltRecords } from '../src/index/records/built-records.js';
import { daysFromCivil } from '../src/index/records/civil.js';
import { fastCsvApplies } from '../src/index/records/csv-fast.js';
import { decodeFieldBytes, splitFields, splitRecord } from '../src/index/records/csv.js';
import { addMissing, addText, addValue, newStats, toMoments } from '../src/index/records/stats.js';
import { ZoneOffsets } from '../src/index/records/time.js';
import { MAX_CATEGORIES } from '../src/index/records/vocab.js';
import { prng } from './support/fixtures.js';
import { analyzeBoth, comparable, padVocab } from './support/analysis.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const latin1 = new TextDecoder('latin1');

// ---------------------------------------------------------------- the reference

const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);
const trimBlanks = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '');

function refNumber(value: string): number {
  const v = trimBlanks(value);
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) || /^[+-]?Infinity$/.test(v)) return Number(v);
  return NaN;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** ISO-8601 as documented (README: timestamps): UTC unless an offset is given. */
function refIso(value: string, zone?: ZoneOffsets): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(.*)$/.exec(trimBlanks(value));
  if (m === null) return NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > DAYS[month - 1] || (month === 2 && day === 29 && !leap)) return NaN;
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (hour > 24 || minute > 59 || second > 60) return NaN;
  let fraction = 0;
  let scale = 1;
  for (const c of m[7] ?? '') {
    scale /= 10;
    fraction += Number(c) * scale;
  }
  const ms = daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + fraction * 1000;
  const suffix = m[8];
  if (suffix === '') return zone === undefined ? ms : zone.toUtc(ms);
  if (suffix === 'Z' || suffix === 'z') return ms;
  const z = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(suffix);
  if (z === null || Number(z[2]) > 23 || Number(z[3] ?? 0) > 59) return NaN;
  return ms - (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3_600_000 + Number(z[3] ?? 0) * 60_000);
}

/** The record-ending newlines from `begin` (quote-aware per csv.ts), and what the scan saw. */
function refTerminators(bytes: Uint8Array, spec: AnalyzeSpec): { ends: number[]; quoted: boolean[]; newlines: number; flips: number } {
  let inQuote = spec.inQuote;
  let quoted = inQuote;
  let newlines = 0;
  let flips = 0;
  const ends: number[] = [];
  const quotedRecords: boolean[] = [];
  for (let i = spec.begin; i < bytes.length; i++) {
    if (bytes[i] === 0x22 && spec.quoting !== 'none') {
      inQuote = !inQuote;
      flips++;
      quoted = true;
    } else if (bytes[i] === 0x0a) {
      newlines++;
      if (!inQuote) {
        ends.push(i);
        quotedRecords.push(quoted);
        quoted = false;
      }
    }
  }
  return { ends, quoted: quotedRecords, newlines, flips };
}

function referenceAnalyze(bytes: Uint8Array, spec: AnalyzeSpec): ChunkAnalysis {
  const scan = refTerminators(bytes, spec);
  const zone = spec.time?.zone === undefined ? undefined : new ZoneOffsets(spec.time.zone);
  const timeColumn = typeof spec.time?.field === 'number' ? spec.time.field : -1;
  const stats = spec.statColumns > 0 ? newStats(spec.statColumns) : undefined;
  /** Per column: value bytes (as a latin1 string, so distinct bytes stay distinct) → count; null: overflowed. */
  const vocab: Array<Map<string, number> | null> = [];
  const starts: number[] = [];
  const times: number[] = [];
  const bad: Array<{ k: number; text: string }> = [];
  let badCount = 0;
  let tooLong = -1;
  const max = 4096;
  const bounds = new Int32Array(2 * max);
  const flags = new Uint8Array(max);
  for (let r = 1; r < scan.ends.length; r++) {
    const start = scan.ends[r - 1] + 1;
    const t = scan.ends[r];
    const end = t > start && bytes[t - 1] === 0x0d ? t - 1 : t;
    if (start === end) continue;
    const k = starts.length;
    if (t - start > (spec.maxRecordBytes ?? Infinity) && tooLong < 0) tooLong = k;
    const n = splitFields(bytes, start, end, spec.delimiter, bounds, flags, max, spec.quoting);
    const value = (c: number): Uint8Array => {
      const raw = bytes.subarray(bounds[2 * c], bounds[2 * c + 1]);
      // The one definition of a value (csv.ts) for quoted fields; unquoted ones are their bytes.
      return flags[c] === 0 ? raw : decodeFieldBytes(raw, 0, raw.length);
    };
    for (let c = 0; stats !== undefined && c < spec.statColumns; c++) {
      if (spec.statMask !== undefined && spec.statMask[c] !== 1) continue;
      if (c >= n) {
        addMissing(stats, c);
        continue;
      }
      const v = value(c);
      const s = decoder.decode(v);
      const x = refNumber(s);
      if (!Number.isNaN(x)) addValue(stats, c, x);
      else if (MISSING.has(trimBlanks(s))) addMissing(stats, c);
      else {
        addText(stats, c);
        while (vocab.length <= c) vocab.push(new Map());
        const map = vocab[c];
        if (map === null) continue;
        const key = latin1.decode(v);
        if (map.has(key)) map.set(key, (map.get(key) ?? 0) + 1);
        else if (map.size >= MAX_CATEGORIES) vocab[c] = null;
        else map.set(key, 1);
      }
    }
    starts.push(start);
    if (spec.time === undefined) continue;
    let time = NaN;
    if (timeColumn >= 0) {
      if (timeColumn >= n) {
        badCount++;
        if (bad.length < spec.maxBad) bad.push({ k, text: '(no such field)' });
      } else {
        const text = flags[timeColumn] === 1 ? decoder.decode(value(timeColumn)) : decoder.decode(value(timeColumn)).trim();
        time = refIso(decoder.decode(value(timeColumn)), zone);
        if (Number.isNaN(time)) {
          badCount++;
          if (bad.length < spec.maxBad) bad.push({ k, text: text.slice(0, 100) });
        }
      }
    }
    times.push(time);
  }
  return {
    first: scan.ends.length > 0 ? scan.ends[0] : -1,
    last: scan.ends.length > 0 ? scan.ends[scan.ends.length - 1] : -1,
    starts: Uint32Array.from(starts),
    times: spec.time === undefined ? undefined : Float64Array.from(times),
    badCount,
    bad,
    stats: stats === undefined ? undefined : toMoments(stats),
    statKeys: undefined,
    vocab: stats === undefined ? undefined : vocab.map((m) => (m === null ? null : mergeByText(m))),
    quoteParity: scan.flips & 1,
    newlines: scan.newlines,
    tooLong,
  };
}

function mergeByText(map: Map<string, number>): Array<[string, number]> {
  const out = new Map<string, number>();
  for (const [key, count] of map) {
    const value = decoder.decode(Uint8Array.from(key, (c) => c.charCodeAt(0)));
    out.set(value, (out.get(value) ?? 0) + count);
  }
  return [...out];
}

// ---------------------------------------------------------------- generated hostile CSV

const WORDS = ['a', 'b', 'north', 'Nord', 'nope', 'e', 'E5x', 'Inf', 'café', '東京', 'x y', 'z\t', 'Nx', '-', '.', '1.2.3', '12ab', '-x', 'N/Ax'];
const MISSING_TOKENS = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', ' NA ', '\tnull'];
const NUMBERS = ['0', '-0', '5', '-12', '3.25', '-0.5', '.5', '5.', '+7', '1e5', '2E-3', '-1.5e+2', ' 42 ', '\t3.5', '7 ', '12345678901234567', '0.12345678901234567', '1234567890.123456', '999999999999999', '1000000000000000', 'Infinity', '-Infinity', '00012', '0.000001234',
  // Around the fast path's 32-bit digit reading (9 digits) and its exact limit (15 significant digits).
  '999999999', '-999999999', '1000000000', '2147483647', '2147483648', '-4294967296', '1700000000123', '-1700000000.123', '99999999999999.9', '0.999999999', '000000000000001', '-00000000000000000001', '12345.678901234'];

function timestamp(rand: () => number, base: number, zoneStyle: number): string {
  const iso = new Date(base).toISOString(); // 2024-01-01T00:00:01.101Z
  const r = rand();
  if (r < 0.02) return ['2024-02-30T00:00:00Z', '2023-02-29 10:00', 'soon', '2024-13-01', '2024-01-01T25:00', '2024-01-01T10:61', '', '2024-01-01T10:00:00.', '2024-01-01T10:00+24:00', '2024-01-01T10', '2024-01-01T10:00:'][Math.floor(rand() * 11)];
  if (r < 0.04) return ['2024-01-01', '2024-01-01Z', '2024-01-01+02:00', ' 2024-01-01T10:00 ', '2024-01-01t10:00:60', '2024-01-01T24:00', '2000-02-29T12:00:00,5', `2024-01-01T10:00:00.${'1234567890'.repeat(5)}Z`][Math.floor(rand() * 8)];
  const stem = iso.slice(0, 19);
  const fraction = rand() < 0.5 ? iso.slice(19, 23) : rand() < 0.5 ? '' : '.123456789';
  const zone = zoneStyle === 0 ? 'Z' : zoneStyle === 1 ? '' : ['+02:00', '-0530', 'z', '+01', 'Z'][Math.floor(rand() * 5)];
  const sep = rand() < 0.1 ? ' ' : 'T';
  return `${stem.slice(0, 10)}${sep}${stem.slice(11)}${fraction}${zone}`;
}

interface Shape {
  delimiter: string;
  quotes: boolean;
  crlf: number;
  columns: number;
}

function hostileCsv(seed: number, records: number, shape: Shape): Uint8Array {
  const rand = prng(seed);
  const d = shape.delimiter;
  const lines: string[] = [['time', ...Array.from({ length: shape.columns - 1 }, (_, c) => `c${c}`)].join(d)];
  let t = Date.UTC(2024, 0, 1);
  const zoneStyle = Math.floor(rand() * 3);
  for (let r = 0; r < records; r++) {
    t += Math.floor(rand() * 400_000);
    const u = rand();
    if (u < 0.02) {
      lines.push(rand() < 0.5 ? '' : '\r');
      continue;
    }
    const fields = [timestamp(rand, t, zoneStyle)];
    for (let c = 1; c < shape.columns; c++) {
      const v = rand();
      let field: string;
      if (c === shape.columns - 1) field = `id${Math.floor(rand() * 3000)}`; // a text column over the vocabulary limit
      else if (v < 0.55) field = (rand() * 200 - 100).toFixed(Math.floor(rand() * 5));
      else if (v < 0.7) field = NUMBERS[Math.floor(rand() * NUMBERS.length)];
      else if (v < 0.8) field = MISSING_TOKENS[Math.floor(rand() * MISSING_TOKENS.length)];
      else field = WORDS[Math.floor(rand() * WORDS.length)];
      if (field.includes(d)) field = 'w';
      if (shape.quotes && rand() < 0.05) {
        const q = Math.floor(rand() * 4);
        field = q === 0 ? `"${field}"` : q === 1 ? ` "${field}${d} ""x""" ` : q === 2 ? `"multi\nline ${field}"` : `"${field}\r\n"`;
      }
      fields.push(field);
    }
    const w = rand();
    if (w < 0.02) fields.length = 1 + Math.floor(rand() * shape.columns); // short record
    else if (w < 0.04) fields.push('extra', '9');
    else if (w < 0.05) fields.splice(0, fields.length, '   ');
    lines.push(fields.join(d) + (rand() < shape.crlf ? '\r' : ''));
  }
  return encoder.encode(lines.join('\n') + (rand() < 0.5 ? '\n' : ''));
}

function specFor(shape: Shape, statColumns: number, statMask?: Uint8Array, zone?: string): AnalyzeSpec {
  return {
    kind: 'csv',
    delimiter: shape.delimiter.charCodeAt(0),
    begin: 0,
    inQuote: false,
    statColumns,
    statMask,
    time: { field: 0, format: 'iso', zone },
    maxBad: 5,
    quoting: 'rfc4180',
    maxRecordBytes: 300,
  };
}

/** Cuts `bytes` into chunks at random places; each with its spec (begin after the header, quote state). */
function chunks(bytes: Uint8Array, spec: AnalyzeSpec, rand: () => number, meanBytes: number): Array<{ offset: number; bytes: Uint8Array; spec: AnalyzeSpec }> {
  const header = bytes.indexOf(0x0a) + 1;
  const out: Array<{ offset: number; bytes: Uint8Array; spec: AnalyzeSpec }> = [];
  let inQuote = false;
  for (let offset = 0; offset < bytes.length; ) {
    const size = 1 + Math.floor(rand() * 2 * meanBytes);
    const piece = bytes.slice(offset, Math.min(bytes.length, offset + size));
    const s: AnalyzeSpec = { ...spec, begin: offset === 0 ? header : 0, inQuote };
    out.push({ offset, bytes: piece, spec: s });
    inQuote = inQuote !== (refTerminators(piece, s).flips % 2 === 1);
    offset += piece.length;
  }
  return out;
}

const SHAPES: Shape[] = [
  { delimiter: ',', quotes: false, crlf: 0, columns: 8 },
  { delimiter: ',', quotes: false, crlf: 0.5, columns: 8 },
  { delimiter: ';', quotes: false, crlf: 1, columns: 5 },
  { delimiter: '\t', quotes: false, crlf: 0.2, columns: 6 },
  { delimiter: '-', quotes: false, crlf: 0, columns: 6 },
  { delimiter: '|', quotes: true, crlf: 0.3, columns: 7 },
  { delimiter: ',', quotes: true, crlf: 0, columns: 8 },
];

describe('the index pass per chunk, fast path and general path, against a reference', () => {
  SHAPES.forEach((shape, s) => {
    it(`delimiter ${JSON.stringify(shape.delimiter)}, ${shape.quotes ? 'quoted fields' : 'no quotes'}, CRLF ${shape.crlf}: identical starts, times, statistics, vocabularies, reports`, () => {
      const bytes = hostileCsv(100 + s, 4000, shape);
      const rand = prng(7 + s);
      const masks: Array<[number, Uint8Array | undefined, string | undefined]> = [
        [shape.columns, undefined, undefined],
        [shape.columns, Uint8Array.from({ length: shape.columns }, (_, c) => (c % 2 === 0 ? 1 : 0)), undefined],
        [0, undefined, 'Europe/Berlin'],
        [2, undefined, undefined],
      ];
      let fastChunks = 0;
      for (const [statColumns, mask, zone] of masks) {
        for (const chunk of chunks(bytes, specFor(shape, statColumns, mask, zone), rand, 3000)) {
          const want = referenceAnalyze(chunk.bytes, chunk.spec);
          const fast = analyzeBoth(chunk.bytes, chunk.spec);
          const general = analyzeChunkGeneral(chunk.bytes, chunk.spec);
          if (fastCsvApplies(chunk.bytes, chunk.spec)) fastChunks++;
          padVocab(fast, want);
          padVocab(general, want);
          padVocab(fast, want);
          expect(comparable(fast), `chunk at ${chunk.offset}, ${statColumns} columns`).toEqual(comparable(want));
          expect(comparable(general), `chunk at ${chunk.offset} (general path)`).toEqual(comparable(want));
        }
      }
      // The fast path must have been exercised where it applies (and only there).
      if (!shape.quotes) expect(fastChunks).toBeGreaterThan(20);
    });
  });

  it('big chunks (many blocks of records, values read later in their column order), huge records and 1,500 columns', () => {
    const shapes: Shape[] = [
      { delimiter: ',', quotes: false, crlf: 0.1, columns: 9 },
      { delimiter: '\t', quotes: false, crlf: 0, columns: 3 },
    ];
    for (const [s, shape] of shapes.entries()) {
      // One chunk of ~30,000 records: the fast path reads it in blocks; numbers that take the general
      // reading (' 42 ', '1e5', 16+ digits) must land in their record's place in each column's sums.
      const bytes = hostileCsv(300 + s, 30_000, shape);
      const spec = { ...specFor(shape, shape.columns), begin: bytes.indexOf(0x0a) + 1, maxRecordBytes: 1 << 20 };
      expect(fastCsvApplies(bytes, spec)).toBe(true);
      expect(comparable(analyzeBoth(bytes, spec))).toEqual(comparable(referenceAnalyze(bytes, spec)));
    }
    // 1,500 columns (a smaller block of records), some records short, some numbers needing the general reading.
    const rand = prng(99);
    const width = 1500;
    const lines = [Array.from({ length: width }, (_, c) => (c === 0 ? 'time' : `c${c}`)).join(',')];
    for (let r = 0; r < 300; r++) {
      const n = rand() < 0.1 ? 1 + Math.floor(rand() * width) : width;
      const fields = [new Date(Date.UTC(2024, 0, 1) + r * 61_000).toISOString()];
      for (let c = 1; c < n; c++) fields.push(rand() < 0.9 ? (rand() * 1e6 - 5e5).toFixed(Math.floor(rand() * 4)) : NUMBERS[Math.floor(rand() * NUMBERS.length)]);
      lines.push(fields.join(','));
    }
    const wide = encoder.encode(lines.join('\n') + '\n');
    const spec = { ...specFor({ delimiter: ',', quotes: false, crlf: 0, columns: width }, width), begin: wide.indexOf(0x0a) + 1, maxRecordBytes: 1 << 24 };
    const fast = analyzeBoth(wide, spec);
    const want = referenceAnalyze(wide, spec);
    padVocab(fast, want);
    expect(comparable(fast)).toEqual(comparable(want));
  });

  it('whole files: the builder joins the same records from fast and reference chunk analyses', () => {
    for (const [s, shape] of SHAPES.entries()) {
      const bytes = hostileCsv(200 + s, 3000, shape);
      const spec = specFor(shape, shape.columns);
      const built = (analyse: (b: Uint8Array, sp: AnalyzeSpec) => ChunkAnalysis): BuiltRecords => {
        const rand = prng(11 + s);
        const builder = new RecordBuilder({
          file: 'hostile.csv',
          specFor: (offset) => (offset === 0 ? { ...spec, begin: bytes.indexOf(0x0a) + 1 } : spec),
          columns: ['time', ...Array.from({ length: shape.columns - 1 }, (_, c) => `c${c}`)],
          strict: false,
          maxBad: 5,
          maxRecordBytes: 1 << 20,
        });
        // Workers analyse every chunk as if it started outside quotes (the builder redoes the others).
        for (const chunk of chunks(bytes, spec, rand, 2000)) builder.addChunk(chunk.offset, chunk.bytes, analyse(chunk.bytes, { ...chunk.spec, inQuote: false }));
        return builder.finish();
      };
      const fast = built(analyzeBoth);
      const reference = built(referenceAnalyze);
      expect(fast.count).toBeGreaterThan(2500);
      // What the builder hands out, joined (the parts they arrived in may be cut differently, and the join
      // functions are each builder's own); the parts joined must be the arrays.
      const joined = (b: BuiltRecords): Record<string, unknown> => {
        const { offsetParts, timeParts, join, ...rest } = { ...b, stats: [...(b.stats ?? [])] };
        expect(Float64Array.from(offsetParts.flatMap((p) => [...p]))).toEqual(Float64Array.from(b.offsets));
        expect(timeParts?.flatMap((p) => [...p])).toEqual(b.times === undefined ? undefined : [...b.times]);
        expect(typeof join).toBe('function');
        return rest;
      };
      expect(joined(fast)).toEqual(joined(reference));
    }
  });

  it('a tab or space delimiter is never taken for a blank: empty fields stay fields (csv.ts, index and parsers alike)', () => {
    expect(splitRecord(encoder.encode('a\t\tb'), 9)).toEqual(['a', '', 'b']);
    expect(splitRecord(encoder.encode('\t x \t'), 9)).toEqual(['', 'x', '']);
    expect(splitRecord(encoder.encode('"x"\t\ty'), 9)).toEqual(['x', '', 'y']);
    expect(splitRecord(encoder.encode('"x" \t y'), 9)).toEqual(['x', 'y']);
    expect(splitRecord(encoder.encode('a  b'), 0x20)).toEqual(['a', '', 'b']);
    // The index reads the same fields: the empty second field is missing, the third is the number.
    const spec: AnalyzeSpec = { kind: 'csv', delimiter: 9, begin: 0, inQuote: false, statColumns: 3, time: undefined, maxBad: 5 };
    for (const body of ['h\n"q"\t\t7\nend', 'h\nq\t\t7\nend']) {
      const stats = analyzeBoth(encoder.encode(body), spec).stats ?? new Float64Array(0);
      expect([stats[9 + 1], stats[18], stats[18 + 3]], body).toEqual([1, 1, 7]);
    }
  });

  it('a "-" delimiter is not a minus sign: "1--3" is 1, an empty field, 3', () => {
    const spec: AnalyzeSpec = { kind: 'csv', delimiter: 0x2d, begin: 0, inQuote: false, statColumns: 3, time: undefined, maxBad: 5 };
    const stats = analyzeBoth(encoder.encode('h\n1--3\nend'), spec).stats ?? new Float64Array(0);
    // Column 1: one missing value; column 2: the number 3 (count 1, min 3).
    expect([stats[9 + 1], stats[18], stats[18 + 3]]).toEqual([1, 1, 3]);
  });

  it('the reference ISO parser agrees with hand-computed instants (it is a truth of its own)', () => {
    expect(refIso('2024-01-01T00:00:01.101Z')).toBe(Date.UTC(2024, 0, 1, 0, 0, 1, 101));
    expect(refIso('2024-03-10 12:30+02:00')).toBe(Date.UTC(2024, 2, 10, 10, 30));
    expect(refIso('2024-03-10T12:30:00-0530')).toBe(Date.UTC(2024, 2, 10, 18, 0));
    expect(refIso('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(refIso('2023-02-29')).toBeNaN();
    expect(refIso('2024-01-01T10:00:')).toBeNaN();
    expect(refNumber(' 1e3 ')).toBe(1000);
    expect(refNumber('0x10')).toBeNaN();
  });
});
