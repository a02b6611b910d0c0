/**
 * The WebAssembly CSV scanner (wasm/csv-scan.ts, src/index/records/csv-wasm/) on hostile input: its
 * analysis must be the JS scanner's exactly (vocabulary order, NaN-free times, statistics byte for byte,
 * reports), and both must agree with the general path (RecordParser, parseNumber, parseIso: an independent
 * reading) — every byte value in a field, numbers of 1..20 digits with the dot at every place, CRLF, chunk
 * ends at every offset near the end of the buffer, very long records, timestamps the module reads and
 * timestamps it hands back, chunks of up to 64 MiB (the module's memory grows) and a small chunk after a
 * big one (nothing of the big one may leak into it).
 */
import { describe, expect, it } from 'vitest';
import { analyzeChunkGeneral, type AnalyzeSpec, type ChunkAnalysis } from '../src/index/records/analyze.js';
import { analyzeCsvFast, fastCsvApplies } from '../src/index/records/csv-fast.js';
import { csvScannerWasm, instantiateScanner } from '../src/index/records/csv-wasm/load.js';
import { comparable, exact, padVocab, withCsvScanner } from './support/analysis.js';

const encoder = new TextEncoder();

function spec(over: Partial<AnalyzeSpec> = {}): AnalyzeSpec {
  return { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 3, time: undefined, maxBad: 5, quoting: 'none', maxRecordBytes: 1 << 20, ...over };
}

/** Both scanners on a copy of `bytes` each (the same chunk), checked against each other and the general path. */
function check(bytes: Uint8Array, s: AnalyzeSpec, where: string): ChunkAnalysis {
  expect(fastCsvApplies(bytes, s), where).toBe(true);
  const js = analyzeCsvFast(bytes.slice(), s, 'js');
  const wasm = analyzeCsvFast(bytes.slice(), s, 'wasm');
  expect(exact(wasm), `${where}: wasm against js`).toEqual(exact(js));
  const general = analyzeChunkGeneral(bytes, s);
  padVocab(general, js);
  padVocab(js, general);
  expect(comparable(js), `${where}: against the general path`).toEqual(comparable(general));
  return js;
}

const ISO = { field: 0, format: 'iso' as const, zone: undefined };

describe('the WebAssembly CSV scanner against the JS one and the general path', () => {
  it('loads here (the tests need the built module: npm run build:wasm)', () => {
    expect(csvScannerWasm(true)).toBeDefined();
    expect(() => instantiateScanner(Uint8Array.from([0, 0x61, 0x73, 0x6d, 9, 9]))).toThrow();
  });

  it('every byte value in a field, in a counted column, an uncounted one and the time column', () => {
    const lines = ['t,a,b,c'];
    for (let v = 0; v < 256; v++) {
      const c = v === 0x0a ? 'x' : String.fromCharCode(v);
      lines.push(`2024-01-02T03:04:0${v % 10}Z,${c},1${c}2,${c}.5`);
      lines.push(`2024-01-02T03:${c}4:05Z,-${c},${c},7${c}`);
      lines.push(`${c}2024-01-02T03:04:05Z${c},1.2${c},${c}3,-0.${c}1`);
    }
    // latin1: one byte per character.
    const bytes = Uint8Array.from(Buffer.from(lines.join('\n') + '\n', 'latin1'));
    for (const s of [spec({ statColumns: 3, time: ISO }), spec({ statColumns: 4, statMask: Uint8Array.of(0, 1, 0, 1), time: ISO }), spec({ statColumns: 2 })]) {
      check(bytes, { ...s, begin: bytes.indexOf(0x0a) + 1 }, 'byte values');
    }
  });

  it('numbers of 1..20 digits with the dot at every place, signs, CRLF, at every distance from the buffer end', () => {
    const values: string[] = [];
    const digits = '98765432101234567890';
    for (let n = 1; n <= 20; n++) {
      const body = digits.slice(0, n);
      values.push(body, `-${body}`, `0${body}`);
      for (let dot = 0; dot <= n; dot++) values.push(`${body.slice(0, dot)}.${body.slice(dot)}`, `-${body.slice(0, dot)}.${body.slice(dot)}`);
    }
    values.push('.', '-', '-.', '1.5.5', '1e5', ' 1', '1 ', '+1', 'NaN', 'NA', '', '00', '-0', '-0.0', '4294967296', '2147483648.5', '999999999999999.9');
    let checked = 0;
    for (const [k, value] of values.entries()) {
      const eol = k % 3 === 0 ? '\r\n' : '\n';
      for (const line of [`${value}`, `${value},${value}`, `1,${value}`]) {
        const bytes = encoder.encode(`h${eol}${line}${eol}`);
        check(bytes, spec({ statColumns: 2, begin: bytes.indexOf(0x0a) + 1 }), JSON.stringify(line));
        checked++;
      }
    }
    // All of them in one chunk too (blocks of records, the values in their column order).
    const bytes = encoder.encode('h\n' + values.map((v, k) => `${v},${values[(k * 7) % values.length]}${k % 2 === 0 ? '\r' : ''}`).join('\n') + '\n');
    check(bytes, spec({ statColumns: 2, begin: 2 }), 'all in one chunk');
    expect(checked).toBeGreaterThan(1000);
  });

  it('chunk ends at every offset near the end of the buffer (partial records, a CR alone, no newline)', () => {
    const body = 'h,x\n12.5,2024-05-06T07:08:09.123Z\r\n-3.25,2024-05-06T07:08:10Z\n0.0001,x\n7,\n,\n1.,2024-05-06T07:59:59.9999Z\n';
    const full = encoder.encode(body.repeat(3));
    for (let cut = full.length - 60; cut <= full.length; cut++) {
      const bytes = full.slice(0, cut);
      for (const s of [spec({ statColumns: 2, time: { field: 1, format: 'iso', zone: undefined } }), spec({ statColumns: 0 }), spec({ statColumns: 1, begin: 4 })]) {
        check(bytes, s, `cut at ${cut}`);
      }
    }
  });

  it('very long records, and records longer than maxRecordBytes reported', () => {
    const long = '1.5,'.repeat(300_000) + 'x';
    const bytes = encoder.encode(`h\n${long}\n2,3\n${long}\r\n`);
    const a = check(bytes, spec({ statColumns: 5, begin: 2, maxRecordBytes: 1000 }), 'long records');
    // The first long line straddles the chunk start: "2,3" is record 0, the second long line record 1.
    expect(a.tooLong).toBe(1);
    check(bytes, spec({ statColumns: 0, begin: 2 }), 'long records, no statistics');
  });

  it('timestamps: the ones the module reads (same date and hour) and the ones it hands back, in every block position', () => {
    const stamps: string[] = [];
    for (let k = 0; k < 700; k++) {
      const hour = String(Math.floor(k / 90) % 25).padStart(2, '0');
      const min = String((k * 7) % 61).padStart(2, '0');
      const sec = String((k * 13) % 62).padStart(2, '0');
      const frac = k % 5 === 0 ? '' : `.${'1234567890'.repeat(5).slice(0, (k * 3) % 46)}`;
      const zone = ['Z', 'z', '', '+01:00', '-0530', 'Zx', ' Z'][k % 7];
      const sep = k % 50 === 0 ? ' ' : k % 51 === 0 ? 't' : 'T';
      const day = k % 97 === 0 ? '2024-02-30' : k % 89 === 0 ? '2023-13-01' : '2024-03-05';
      const pad = k % 11 === 0 ? ' \t' : '';
      stamps.push(`${pad}${day}${sep}${hour}:${min}:${sec}${frac}${zone}${pad}`);
    }
    stamps.push('2024-03-05T01:', '2024-03-05T01:2', '2024-03-05T01:22:', '2024-03-05T01:22:3', '2024-03-05T01:22:33.', '2024-03-05', '2024-03-05T01:22:33,5Z');
    const bytes = encoder.encode('t,v\n' + stamps.map((t, k) => `${t},${k}`).join('\n') + '\n');
    for (const zone of [undefined, 'UTC', 'Europe/Berlin']) {
      for (const statColumns of [0, 1, 2]) {
        const a = check(bytes, spec({ statColumns, begin: 4, time: { field: 0, format: 'iso', zone } }), `zone ${zone}, ${statColumns} columns`);
        expect(a.badCount).toBeGreaterThan(10);
        expect(a.times?.filter((t) => !Number.isNaN(t)).length).toBeGreaterThan(300);
      }
    }
    // Other time formats are read by the JS side alone.
    const epochs = encoder.encode('t\n' + Array.from({ length: 300 }, (_, k) => String(1_700_000_000 + k * 37)).join('\n') + '\n');
    check(epochs, spec({ statColumns: 1, begin: 2, time: { field: 0, format: 's', zone: undefined } }), 'epoch seconds');
  });

  it('short records, blank lines and a time field beyond the record', () => {
    const bytes = encoder.encode('a,b,c\n\n1,2,3\r\n\r\n4\n5,6\n,,\n7,8,9,10\n\n');
    for (const time of [undefined, { field: 2, format: 'iso' as const, zone: undefined }]) check(bytes, spec({ statColumns: 3, begin: 6, time }), 'short records');
  });

  it('a 64 MiB chunk (the module memory grows), then a small chunk: nothing of the big one leaks into it', () => {
    const line = '2024-01-01T00:00:00.000Z,a,0.3525,-0.1697,12,note\n';
    const big = new Uint8Array(64 << 20);
    const one = encoder.encode(line);
    let at = 0;
    let k = 0;
    while (at + one.length + 40 <= big.length) {
      const text = k % 1000 === 0 ? `2024-01-01T${String((k / 1000) % 24).padStart(2, '0')}:00:00.000Z,b,1e3,x,${k},n\n` : line;
      at += encoder.encodeInto(text, big.subarray(at)).written;
      k++;
    }
    const chunk = big.subarray(0, at);
    const s = spec({ statColumns: 5, time: ISO });
    const js = withCsvScanner('js', () => analyzeCsvFast(chunk, s));
    const wasm = withCsvScanner('wasm', () => analyzeCsvFast(chunk, s));
    expect(wasm.starts.length).toBe(k - 1);
    expect(exact(wasm)).toEqual(exact(js));
    const small = encoder.encode('h\n1,2\n');
    check(small, spec({ statColumns: 5, time: ISO, begin: 2 }), 'small after big');
  });

  it('SEEKDATA_CSV_SCANNER=js keeps the module unloaded; =wasm uses it', () => {
    withCsvScanner('js', () => expect(csvScannerWasm()).toBeUndefined());
    withCsvScanner('wasm', () => expect(csvScannerWasm()).toBeDefined());
  });
});
