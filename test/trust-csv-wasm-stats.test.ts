/**
 * The column statistics of the WebAssembly CSV scanner (added in the module's memory: wasm/csv-scan.ts
 * addBlock / addColumn) against the JS scanner's and the general path's, every double compared with
 * Object.is (and byte for byte): magnitudes at the 1e15 and 22-digit-fraction boundaries where values leave
 * the module's reading, negative zero, integers beside fractions, exceptions (text, "1e5", "NaN", blanks,
 * " 12 ") at the first and last record of the 16-record first block and of later blocks, short records,
 * missing values, chunks of one record and of many blocks. Values of very different magnitudes make the
 * sums depend on the order of the additions, so a value added out of its place changes some bits.
 */
import { describe, expect, it } from 'vitest';
import { analyzeChunkGeneral, type AnalyzeSpec, type ChunkAnalysis } from '../src/index/records/analyze.js';
import { analyzeCsvFast, fastCsvApplies } from '../src/index/records/csv-fast.js';
import { finalizeStats, STAT_SLOTS } from '../src/index/records/stats.js';
import { comparable, exact, padVocab } from './support/analysis.js';
import { prng } from './support/fixtures.js';

function spec(over: Partial<AnalyzeSpec> = {}): AnalyzeSpec {
  return { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 5, time: undefined, maxBad: 5, quoting: 'none', maxRecordBytes: 1 << 20, ...over };
}

/** Every statistics double of `a` and `b` the same (Object.is: -0 apart from 0), with the slot named on failure. */
function sameDoubles(a: Float64Array | undefined, b: Float64Array | undefined, where: string): void {
  expect(a === undefined, where).toBe(b === undefined);
  if (a === undefined || b === undefined) return;
  expect(a.length, where).toBe(b.length);
  for (let k = 0; k < a.length; k++) {
    if (!Object.is(a[k], b[k])) expect.fail(`${where}: column ${Math.floor(k / STAT_SLOTS)} slot ${k % STAT_SLOTS}: ${a[k]} against ${b[k]}`);
  }
}

/** The chunk (first byte a newline: every line a record) through both scanners and the general path. */
function check(text: string, s: AnalyzeSpec, where: string): ChunkAnalysis {
  const bytes = Uint8Array.from(Buffer.from(`\n${text}`, 'latin1'));
  expect(fastCsvApplies(bytes, s), where).toBe(true);
  const js = analyzeCsvFast(bytes.slice(), s, 'js');
  const wasm = analyzeCsvFast(bytes.slice(), s, 'wasm');
  const general = analyzeChunkGeneral(bytes, s);
  sameDoubles(wasm.stats, js.stats, `${where}: wasm against js`);
  sameDoubles(wasm.stats, general.stats, `${where}: wasm against the general path`);
  expect(exact(wasm), `${where}: wasm against js`).toEqual(exact(js));
  padVocab(general, wasm);
  padVocab(wasm, general);
  expect(comparable(wasm), `${where}: wasm against the general path`).toEqual(comparable(general));
  return wasm;
}

/** Values whose sums depend on the order they are added in, and the boundaries of the module's reading. */
const NUMBERS = [
  '999999999999999', '-999999999999999', '1000000000000000', '999999999999999.9', '99999999999999.99', '123456789012345',
  '0.0000000000000000000001', '0.00000000000000000000001', '1.2345678901234567890123', '-0.1234567890123456789012',
  '0.1', '0.2', '0.3', '-0', '-0.0', '0', '0.0', '5', '5.0', '5.5', '-7', '3.14159', '1e-7', '0.000001', '12345678.9',
  '2147483647', '2147483648', '4294967296.5', '9007199254740993', '.5', '5.', '-.25',
];
/** Values the module hands to JS (the general reading) or counts as text or missing. */
const EXCEPTIONS = ['1e5', '-2.5E-3', 'NaN', 'nan', 'NA', '', ' 12 ', '\t7', '+3', 'Infinity', '-Infinity', 'N/A', 'null', 'abc', 'x', 'e', '1.2.3', '--1', '0x10', ' '];

function pick<T>(list: readonly T[], rand: () => number): T {
  return list[Math.floor(rand() * list.length)];
}

/**
 * Records of `columns` fields: numbers mostly, an exception at `exceptionAt` (records, all columns) and now and
 * then at random, and short records at `shortAt`.
 */
function records(n: number, columns: number, rand: () => number, exceptionAt: Set<number>, shortAt: Set<number>, rate = 0.05): string {
  const lines: string[] = [];
  for (let j = 0; j < n; j++) {
    const fields: string[] = [];
    const width = shortAt.has(j) ? j % columns : columns;
    for (let c = 0; c < width; c++) fields.push(exceptionAt.has(j) || rand() < rate ? pick(EXCEPTIONS, rand) : pick(NUMBERS, rand));
    lines.push(fields.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Record numbers at the edges of the scanners' blocks: the first one of 16 records, then blocks of `block`. */
function blockEdges(block: number, blocks: number): Set<number> {
  const at = new Set([0, 15, 16, 17]);
  for (let k = 0, start = 16; k < blocks; k++, start += block) for (const j of [start - 1, start, start + 1, start + block - 1]) at.add(j);
  return at;
}

describe('statistics of the WebAssembly CSV scanner, double for double', () => {
  it('each adversarial value alone in a chunk of one record, in a counted column beside others', () => {
    for (const value of [...NUMBERS, ...EXCEPTIONS]) {
      check(`${value}\n`, spec({ statColumns: 1 }), JSON.stringify(value));
      check(`1.5,${value},-0\n`, spec({ statColumns: 3 }), `middle ${JSON.stringify(value)}`);
      check(`${value},2\r\n`, spec({ statColumns: 2 }), `CRLF ${JSON.stringify(value)}`);
    }
  });

  it('exceptions at the first and last records of the first block and of later ones, in many blocks', () => {
    // 5 columns: blocks of 128 records after the first 16.
    const rand = prng(11);
    const edges = blockEdges(128, 12);
    for (const rate of [0, 0.02, 0.3]) check(records(16 + 128 * 12 + 5, 5, rand, edges, new Set(), rate), spec(), `edges, rate ${rate}`);
    // An exception in one column only, at each edge in turn: the values after it wait for JS, the ones before do not.
    for (const j of [0, 15, 16, 143, 144, 271]) {
      const lines = Array.from({ length: 300 }, (_, k) => `${k === j ? '1e300' : NUMBERS[k % NUMBERS.length]},${NUMBERS[(k * 7) % NUMBERS.length]}`);
      check(`${lines.join('\n')}\n`, spec({ statColumns: 2 }), `one exception at record ${j}`);
    }
  });

  it('short records and missing values at block edges, a statistics mask and a time column beyond the statistics', () => {
    const rand = prng(12);
    const edges = blockEdges(128, 6);
    check(records(16 + 128 * 6, 5, rand, new Set([3, 200]), edges), spec(), 'short records at the edges');
    const mask = Uint8Array.of(1, 0, 1, 0, 1);
    check(records(900, 5, rand, edges, new Set([1, 16, 144])), spec({ statMask: mask }), 'mask');
    const lines = Array.from({ length: 500 }, (_, k) => `${pick(NUMBERS, rand)},${k % 50 === 0 ? '' : pick(NUMBERS, rand)},2024-01-02T03:04:${String(k % 60).padStart(2, '0')}Z`);
    check(`${lines.join('\n')}\n`, spec({ statColumns: 2, time: { field: 2, format: 'iso', zone: undefined } }), 'time column beyond the statistics');
  });

  it('wide records (small blocks) and magnitudes mixed so that the order of the additions shows', () => {
    const rand = prng(13);
    // 1,000 columns: blocks of 65 records.
    check(records(300, 1000, rand, new Set([0, 15, 16, 80, 81]), new Set([5, 90]), 0.01), spec({ statColumns: 1000 }), 'wide');
    const big = Array.from({ length: 3000 }, (_, k) => (k % 3 === 0 ? `${(k % 7) * 137}000000000.${k % 10}` : `0.${String(k * 7919).padStart(6, '0')}1`));
    const got = check(`${big.join('\n')}\n`, spec({ statColumns: 1 }), 'mixed magnitudes');
    // An independent reading of the same values: count, min, max and whether all are integers.
    const numbers = big.map(Number);
    const [column] = finalizeStats(got.stats ?? new Float64Array(0), ['v']);
    expect(column.count).toBe(numbers.length);
    expect(column.min).toBe(Math.min(...numbers));
    expect(column.max).toBe(Math.max(...numbers));
    expect(column.integer).toBe(false);
  });

  it('one-byte values the number reading stops at (e E I N n + . blank) over many blocks: text, missing or numbers as the general reading says', () => {
    const rand = prng(14);
    const bytes = ['e', 'E', 'I', 'N', 'n', '+', '.', ' ', '\t', '-', 'a', '5', ''];
    for (const crlf of [false, true]) {
      const lines = Array.from({ length: 3000 }, (_, k) => `${pick(NUMBERS, rand)},${pick(bytes, rand)},${k % 9 === 0 ? pick(bytes, rand) : '0.5'}`);
      const got = check(`${lines.join(crlf ? '\r\n' : '\n')}\n`, spec({ statColumns: 3 }), `one-byte values${crlf ? ', CRLF' : ''}`);
      // An independent count of the second column: text is every one of those but the blanks, "", "5", "-"... per the general reading.
      const second = lines.map((line) => line.split(',')[1]);
      const [, column] = finalizeStats(got.stats ?? new Float64Array(0), ['a', 'b', 'c']);
      expect(column.missing).toBe(second.filter((v) => v.trim() === '').length);
      expect(column.count).toBe(second.filter((v) => v === '5').length);
      expect(column.nonNumeric).toBe(second.filter((v) => v.trim() !== '' && v !== '5').length);
    }
  });

  it('integer columns stay integer, and -0 keeps its sign in min and shift', () => {
    const got = check('-0,5\n0,5.0\n-0.0,-3\n', spec({ statColumns: 2 }), 'integers');
    const [zero, ints] = finalizeStats(got.stats ?? new Float64Array(0), ['z', 'i']);
    expect(zero.integer && ints.integer).toBe(true);
    expect(Object.is(zero.min, -0)).toBe(true);
    expect([ints.count, ints.min, ints.max]).toEqual([3, -3, 5]);
  });
});
