/**
 * One-byte text values counted in the WebAssembly scanner once the vocabulary holds them (wasm/csv-scan.ts
 * setKnown): the analysis must stay the JS scanner's exactly (vocabulary order and counts, statistics byte
 * for byte) and agree with the general path — categories repeated across many blocks, bytes 0x21-0xff (non-ASCII
 * ones too), values with trailing blanks, CRLF, and a column whose vocabulary overflows in the middle of the
 * chunk while one-byte values are being counted.
 */
import { describe, expect, it } from 'vitest';
import { analyzeChunkGeneral, type AnalyzeSpec } from '../src/index/records/analyze.js';
import { analyzeCsvFast } from '../src/index/records/csv-fast.js';
import { comparable, exact, padVocab } from './support/analysis.js';
import { prng } from './support/fixtures.js';

function spec(over: Partial<AnalyzeSpec> = {}): AnalyzeSpec {
  return { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 4, time: undefined, maxBad: 5, quoting: 'none', maxRecordBytes: 1 << 20, ...over };
}

function check(bytes: Uint8Array, s: AnalyzeSpec): void {
  const js = analyzeCsvFast(bytes.slice(), s, 'js');
  const wasm = analyzeCsvFast(bytes.slice(), s, 'wasm');
  expect(exact(wasm), 'wasm against js').toEqual(exact(js));
  const general = analyzeChunkGeneral(bytes, s);
  padVocab(general, js);
  padVocab(js, general);
  expect(comparable(js), 'against the general path').toEqual(comparable(general));
}

/** Records "x,cat,y,other" with `cat` drawn by `pick`, `other` by `other`; CRLF when asked. */
function chunk(rows: number, pick: (i: number) => number[], other: (i: number) => string, crlf = false): Uint8Array {
  const parts: number[] = [0x0a];
  const eol = crlf ? [0x0d, 0x0a] : [0x0a];
  for (let i = 0; i < rows; i++) parts.push(...Buffer.from(`${i % 10}.5,`), ...pick(i), ...Buffer.from(`,${i},${other(i)}`), ...eol);
  return Uint8Array.from(parts);
}

describe('one-byte categories counted in the WebAssembly scanner', () => {
  it('letters repeated over many blocks, with and without CRLF', () => {
    const rand = prng(3);
    for (const crlf of [false, true]) check(chunk(5000, () => [0x61 + Math.floor(rand() * 26)], () => 'z', crlf), spec());
  });

  it('every byte from 0x21 to 0xff that is no digit, sign, dot or delimiter, ASCII and not', () => {
    const rand = prng(4);
    const bytes: number[] = [];
    for (let b = 0x21; b <= 0xff; b++) if (!'0123456789+-.,eEINn'.includes(String.fromCharCode(b))) bytes.push(b);
    check(chunk(8000, () => [bytes[Math.floor(rand() * bytes.length)]], () => 'q'), spec());
  });

  it('trailing blanks and two-byte values beside one-byte ones', () => {
    const rand = prng(5);
    const values = [[0x61], [0x61, 0x20], [0x62], [0x62, 0x09], [0x61, 0x62], [0x63]];
    check(chunk(4000, () => values[Math.floor(rand() * values.length)], () => 'w'), spec());
  });

  it('a column whose vocabulary overflows midway (ASCII: dropped; non-ASCII: counted by text) while one-byte values repeat', () => {
    const rand = prng(6);
    for (const high of [false, true]) {
      // One-byte values all along, distinct ids from record 1,500 on: the vocabulary overflows near record 2,500.
      const pick = (i: number): number[] => (i < 1500 || rand() < 0.3 ? [high ? 0xc0 + (i % 20) : 0x41 + (i % 20)] : [...Buffer.from(`id${i}`)]);
      check(chunk(6000, pick, () => 'v'), spec());
    }
  });

  it('a one-byte value first met after a longer value that starts with its byte keeps its place', () => {
    // Blocks of 16, then 128 records: "ab" only in the first block; in the second, "a" first, then "c".
    const pick = (i: number): number[] => (i < 16 ? [0x61, 0x62] : i === 16 ? [0x61] : i === 17 ? [0x63] : [0x61 + (i % 3)]);
    check(chunk(600, pick, () => 'u'), spec());
  });

  it('one-byte values in two columns and a column without statistics', () => {
    const rand = prng(7);
    const letters = (): string => String.fromCharCode(0x61 + Math.floor(rand() * 5));
    check(chunk(3000, () => [0x61 + Math.floor(rand() * 3)], letters), spec());
    check(chunk(3000, () => [0x61 + Math.floor(rand() * 3)], letters), spec({ statMask: Uint8Array.from([1, 0, 1, 1]) }));
  });
});
