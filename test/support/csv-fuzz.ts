/**
 * A generator of adversarial quote-free CSV chunks for the differential tests of the CSV scanners (the
 * WebAssembly one, the JS one and the general path: test/trust-csv-wasm-fuzz.test.ts, bench/csv-fuzz.ts):
 * numbers of every shape, one- to eight-byte text of any byte value, blanks, empty fields, short and long
 * records, CRLF and lone CR, ISO timestamps (same hour, hour changes, bad ones), other delimiters, statistics
 * masks, a time column anywhere or none, chunks cut at every kind of place, vocabularies that overflow.
 * Everything is drawn from a seeded generator: a seed and a case number name a chunk again.
 */
import { analyzeChunkGeneral, type AnalyzeSpec, type ChunkAnalysis } from '../../src/index/records/analyze.js';
import { analyzeCsvFast, fastCsvApplies } from '../../src/index/records/csv-fast.js';

export type Rand = () => number;

export interface FuzzCase {
  /** The chunks, analysed in order (more than one: the same `pass`, a vocabulary overflowed in an earlier one). */
  chunks: Array<{ bytes: Uint8Array; spec: AnalyzeSpec }>;
  records: number;
}

const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, list: readonly T[]): T => list[int(rand, list.length)];
const chance = (rand: Rand, p: number): boolean => rand() < p;

function digits(rand: Rand, n: number): string {
  let s = '';
  for (let k = 0; k < n; k++) s += String.fromCharCode(0x30 + int(rand, 10));
  return s;
}

const SPECIAL = [
  '.5', '5.', '-', '+1', '1e5', '1E-5', '-2.5e+3', 'NaN', 'nan', 'Infinity', '-Infinity', '0x1F', '-0', '-0.0', '0', '00', '-.5', '.', '-.',
  '1.5.5', '--1', '+', '1e', 'e5', '999999999999999', '1000000000000000', '999999999999999.9', '9007199254740993', '4294967296', '2147483648',
  '0.0000000000000000000001', '0.00000000000000000000001', 'NA', 'N/A', 'null', 'true', '1,5', '1_000', '١٢', '1e400', '-1e-400',
];

/** A number of any shape. */
export function number(rand: Rand): string {
  if (chance(rand, 0.12)) return pick(rand, SPECIAL);
  const sign = chance(rand, 0.3) ? '-' : chance(rand, 0.03) ? '+' : '';
  const lead = chance(rand, 0.1) ? '0'.repeat(1 + int(rand, 3)) : '';
  const w = rand();
  const whole = w < 0.08 ? '' : digits(rand, w < 0.7 ? 1 + int(rand, 4) : w < 0.9 ? 5 + int(rand, 5) : 10 + int(rand, 16));
  const r = rand();
  const fraction = r < 0.3 ? '' : r < 0.85 ? `.${digits(rand, int(rand, 9))}` : `.${digits(rand, int(rand, 26))}`;
  const exp = chance(rand, 0.03) ? `${pick(rand, ['e', 'E'])}${pick(rand, ['', '-', '+'])}${digits(rand, 1 + int(rand, 3))}` : '';
  return `${sign}${lead}${whole}${fraction}${exp}`;
}

/** Bytes that matter to the scanners: letters e E I N n +, blanks, the delimiter and its neighbours, CR, NUL, 0x80+. */
function oddByte(rand: Rand, delimiter: number): number {
  const r = rand();
  if (r < 0.3) return pick(rand, [0x65, 0x45, 0x49, 0x4e, 0x6e, 0x2b, 0x2d, 0x2e, 0x20, 0x09]);
  if (r < 0.4) return Math.max(0, Math.min(255, delimiter + pick(rand, [-1, 1, 0])));
  if (r < 0.45) return pick(rand, [0x00, 0x0d, 0x80, 0xff, 0x7f, 0x30, 0x39, 0x2f, 0x3a]);
  const b = int(rand, 256);
  return b === 0x0a ? 0x61 : b;
}

/** Text of 1..8 bytes (as a latin1 string: one character a byte). */
export function text(rand: Rand, delimiter: number): string {
  const n = chance(rand, 0.5) ? 1 : 1 + int(rand, 8);
  let s = '';
  for (let k = 0; k < n; k++) s += String.fromCharCode(oddByte(rand, delimiter));
  return s;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** An ISO timestamp near the last one (same hour mostly), or a broken one. */
function timestamp(rand: Rand, state: { ms: number }): string {
  if (chance(rand, 0.03)) return pick(rand, ['', 'x', '2024-02-30T01:02:03Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:01Z', '2024-01-01T01:60:00Z', '2024-01-01T01:', '2024-01-01T01:02:', '2024-01-01T01:02:03.', '2024-01-01', '2024-01-01T01:02:03Zx', '2024-01-01T01:02:03+0100', ' 2024-01-01T01:02:03Z ']);
  state.ms += chance(rand, 0.05) ? int(rand, 2 * 3600_000) : int(rand, 5000);
  const d = new Date(state.ms);
  const day = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const sep = chance(rand, 0.03) ? pick(rand, [' ', 't']) : 'T';
  let clock = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  if (!chance(rand, 0.05)) clock += `:${two(chance(rand, 0.01) ? 60 : d.getUTCSeconds())}`;
  if (chance(rand, 0.6) && clock.length > 5) clock += `${chance(rand, 0.05) ? ',' : '.'}${digits(rand, chance(rand, 0.1) ? int(rand, 45) : 1 + int(rand, 6))}`;
  const zone = pick(rand, ['Z', 'Z', 'Z', 'Z', '', 'z', '+01:00', '-05:30', '+0000', 'Z ']);
  const pad = chance(rand, 0.05) ? pick(rand, [' ', '\t', ' \t']) : '';
  return `${pad}${day}${sep}${clock}${zone}${pad}`;
}

type Kind = 'number' | 'text' | 'category' | 'mixed' | 'empty' | 'ids';

function value(rand: Rand, kind: Kind, delimiter: number, j: number, categories: string[]): string {
  let v: string;
  switch (kind) {
    case 'number': v = chance(rand, 0.05) ? text(rand, delimiter) : number(rand); break;
    case 'text': v = text(rand, delimiter); break;
    case 'category': v = chance(rand, 0.03) ? number(rand) : pick(rand, categories); break;
    case 'empty': v = chance(rand, 0.7) ? '' : pick(rand, [' ', '\t', '  ', '0']); break;
    case 'ids': v = chance(rand, 0.1) ? pick(rand, categories) : `${j % 3 === 0 ? '\xe9' : 'id'}${j}`; break;
    default: v = chance(rand, 0.5) ? number(rand) : chance(rand, 0.5) ? text(rand, delimiter) : pick(rand, categories);
  }
  if (chance(rand, 0.03)) v = `${pick(rand, [' ', '\t'])}${v}`;
  if (chance(rand, 0.03)) v = `${v}${pick(rand, [' ', '\t', ' \t'])}`;
  return v;
}

/** Delimiters: any ASCII byte but a quote, a newline or CR is legal (options.ts); digits take the general path. */
const DELIMITERS = [0x2c, 0x2c, 0x2c, 0x2c, 0x3b, 0x09, 0x7c, 0x2d, 0x2e, 0x20, 0x00, 0x7f, 0x65, 0x45, 0x4e, 0x3a, 0x54, 0x5a, 0x2b];

/**
 * One adversarial case (one chunk, or several of one pass); `small`: fewer and narrower records (the bounded
 * test), the same kinds of value.
 */
export function fuzzCase(rand: Rand, pass: number, small = false): FuzzCase {
  const delimiter = pick(rand, DELIMITERS);
  const columns = chance(rand, 0.01) ? (small ? 300 : 500 + int(rand, 5000)) : 1 + int(rand, chance(rand, 0.1) ? 40 : 8);
  // Dense cases: numbers and one-byte categories only, over many blocks (the module's fast paths).
  const dense = chance(rand, 0.3);
  const all: readonly Kind[] = dense ? ['number', 'number', 'category'] : ['number', 'number', 'number', 'text', 'category', 'category', 'mixed', 'empty', 'ids'];
  const kinds: Kind[] = Array.from({ length: columns }, () => pick(rand, all));
  const categories = Array.from({ length: 1 + int(rand, 12) }, () => (chance(rand, dense ? 0.9 : 0.6) ? String.fromCharCode(oddByte(rand, delimiter)) : text(rand, delimiter)));
  const timeAt = chance(rand, 0.35) ? -1 : int(rand, columns + 1);
  const statColumns = chance(rand, 0.1) ? 0 : chance(rand, 0.6) ? columns : int(rand, columns + 2);
  const statMask = chance(rand, 0.25) && statColumns > 0 ? Uint8Array.from({ length: statColumns }, () => (chance(rand, 0.6) ? 1 : 0)) : undefined;
  const zone = pick(rand, [undefined, undefined, 'UTC', 'Europe/Berlin']);
  const format = chance(rand, 0.85) ? ('iso' as const) : pick(rand, ['s', 'ms', 'us', 'ns'] as const);
  const unit = { iso: 1, s: 1e-3, ms: 1, us: 1e3, ns: 1e6 }[format];
  const time = timeAt < 0 ? undefined : { field: timeAt, format, zone };
  const overflow = kinds.includes('ids') && chance(rand, small ? 0.08 : 0.15);
  const many = overflow ? 1150 + int(rand, small ? 200 : 2500) : dense ? int(rand, small ? 200 : 3000) : chance(rand, 0.3) ? int(rand, small ? 200 : 600) : int(rand, 60);
  const state = { ms: Date.UTC(2024, int(rand, 12), 1 + int(rand, 28), int(rand, 24)) };
  const eols = chance(rand, 0.5) ? ['\n'] : ['\n', '\r\n', '\r\n', '\n\n', '\r\r\n'];
  const d = String.fromCharCode(delimiter);
  let chunksWanted = overflow && chance(rand, 0.6) ? 2 + int(rand, 2) : 1;
  const chunks: FuzzCase['chunks'] = [];
  let records = 0;
  while (chunksWanted-- > 0) {
    const lines: string[] = [];
    const n = chunks.length === 0 ? many : int(rand, small ? 200 : 600);
    for (let j = 0; j < n; j++) {
      const short = rand();
      const width = short < 0.05 ? int(rand, columns + 1) : short < 0.1 ? columns + 1 + int(rand, 4) : columns;
      const fields: string[] = [];
      for (let c = 0; c < width; c++) {
        if (c === timeAt) fields.push(format === 'iso' ? timestamp(rand, state) : chance(rand, 0.1) ? number(rand) : String((state.ms + j) * unit));
        else fields.push(value(rand, kinds[c] ?? 'mixed', delimiter, j + records * 7, categories));
      }
      let line = fields.join(d);
      if (chance(rand, 0.005)) line = `${line}${d}${'1.5'.repeat(small ? 50 : 200 + int(rand, 400))}`;
      if (chance(rand, 0.01)) line = line.replace(/\n/g, '');
      lines.push(line + pick(rand, eols));
    }
    records += n;
    // Something before `begin` (a header, a partial record), and the end cut at any kind of place.
    const head = chance(rand, 0.5) ? '' : pick(rand, ['h\n', 'a,b,c\n', `${text(rand, delimiter)}`, '\n', `2024${d}1.5\r\n`]);
    let body = head + lines.join('');
    const cut = rand();
    if (cut < 0.15) body = body.slice(0, body.length - 1 - int(rand, 12));
    else if (cut < 0.25) body += number(rand);
    else if (cut < 0.3) body = body.replace(/\n$/, '\r');
    let bytes = Uint8Array.from(Buffer.from(body, 'latin1'));
    if (chance(rand, 0.15) && bytes.length > 16) bytes = bytes.subarray(0, bytes.length - (bytes.length % 8)).slice();
    const begin = head.length === 0 ? (chance(rand, 0.1) ? int(rand, Math.min(bytes.length + 1, 40)) : 0) : Math.min(head.length, bytes.length);
    const spec: AnalyzeSpec = {
      kind: 'csv', delimiter, begin, inQuote: false, statColumns, statMask, time, maxBad: int(rand, 6), quoting: 'none',
      maxRecordBytes: pick(rand, [undefined, 1 << 20, 30, 200, 1]), pass: chunksWanted > 0 || chunks.length > 0 ? pass : undefined,
    };
    chunks.push({ bytes, spec });
  }
  return { chunks, records };
}

/** A short, exact text of an analysis (vocabularies in their own order or sorted, stats as bits). */
function view(a: ChunkAnalysis, sortVocab: boolean): string {
  const times = a.times === undefined ? undefined : [...a.times].map((t) => (Object.is(t, -0) ? '-0' : Number.isNaN(t) ? 'NaN' : t));
  const stats = a.stats === undefined ? undefined : Buffer.from(a.stats.buffer, a.stats.byteOffset, a.stats.byteLength).toString('hex');
  const vocab = a.vocab?.map((v) => (v === null ? null : sortVocab ? [...v].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)) : v));
  while (vocab !== undefined && vocab.length > 0 && Array.isArray(vocab[vocab.length - 1]) && vocab[vocab.length - 1]?.length === 0) vocab.pop();
  return JSON.stringify({ ...a, starts: [...a.starts], times, stats, vocab });
}

/** Where two analyses differ (the first differing key), or undefined. */
export function difference(a: ChunkAnalysis, b: ChunkAnalysis, sortVocab: boolean): string | undefined {
  const x = JSON.parse(view(a, sortVocab)) as Record<string, unknown>;
  const y = JSON.parse(view(b, sortVocab)) as Record<string, unknown>;
  for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
    const p = JSON.stringify(x[key]);
    const q = JSON.stringify(y[key]);
    if (p !== q) return `${key}: ${p?.slice(0, 300)} against ${q?.slice(0, 300)}`;
  }
  return undefined;
}

/** What the cases held (so a test can check that the generator still makes them). */
export interface Seen {
  chunks: number;
  records: number;
  /** Chunks with a vocabulary that overflowed, with unparsable timestamps, with a record over maxRecordBytes. */
  overflowed: number;
  badTimes: number;
  tooLong: number;
  /** Later chunks of a pass (the vocabularies that overflowed before are not collected). */
  passed: number;
}

const GARBAGE = Buffer.from('\n9,9.9999\r\n-e,1\t', 'latin1');

/**
 * A copy of `bytes` in the middle of a larger buffer (at an odd offset, numbers, newlines and delimiters around
 * it), as a decoder's output may be: nothing outside the chunk may be read.
 */
function embedded(bytes: Uint8Array): Uint8Array {
  const parent = new Uint8Array(bytes.length + 64);
  for (let k = 0; k < parent.length; k++) parent[k] = GARBAGE[k % GARBAGE.length];
  parent.set(bytes, 29);
  return parent.subarray(29, 29 + bytes.length);
}

/**
 * A case through the JS scanner, the WebAssembly one and (chunks without a pass) the general path: the
 * differences found, each naming the chunk and the pair. The pass numbers `passJs` and `passWasm` keep the
 * two scanners' memory of overflowed vocabularies apart.
 */
export function runCase(c: FuzzCase, passJs: number, passWasm: number, seen?: Seen): string[] {
  const found: string[] = [];
  const js = c.chunks.map(({ bytes, spec }) => analyzeCsvFast(embedded(bytes), { ...spec, pass: spec.pass === undefined ? undefined : passJs }, 'js'));
  const wasm = c.chunks.map(({ bytes, spec }) => analyzeCsvFast(embedded(bytes), { ...spec, pass: spec.pass === undefined ? undefined : passWasm }, 'wasm'));
  for (const [k, { bytes, spec }] of c.chunks.entries()) {
    if (seen !== undefined) {
      seen.chunks++;
      seen.records += js[k].starts.length;
      if (js[k].vocab?.includes(null) === true) seen.overflowed++;
      if (js[k].badCount > 0) seen.badTimes++;
      if (js[k].tooLong >= 0) seen.tooLong++;
      if (spec.pass !== undefined && k > 0) seen.passed++;
    }
    if (!fastCsvApplies(bytes, spec)) found.push(`chunk ${k}: fastCsvApplies false`);
    const d = difference(wasm[k], js[k], false);
    if (d !== undefined) found.push(`chunk ${k}: wasm against js: ${d}`);
    if (spec.pass === undefined) {
      const g = difference(js[k], analyzeChunkGeneral(bytes, spec), true);
      if (g !== undefined) found.push(`chunk ${k}: js against general: ${g}`);
    }
  }
  return found;
}
