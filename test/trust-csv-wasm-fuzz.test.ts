/**
 * Differential fuzzing of the WebAssembly CSV scanner (wasm/csv-scan.ts, src/index/records/csv-wasm/) against
 * the JS scanner (csv-fast.ts) and of the JS scanner against the general path (analyzeChunkGeneral: an
 * independent reading): seeded adversarial chunks from test/support/csv-fuzz.ts — numbers of every shape,
 * one- to eight-byte text of any byte value, blanks, CRLF and lone CR, ISO timestamps, other delimiters,
 * statistics masks, a time column anywhere, chunks cut anywhere, vocabularies overflowing within a chunk and
 * across the chunks of one pass — and, enumerated, values ending at every byte of the module's 8-byte words
 * at the chunk's end. The long runs: `SEEDS=1,2,3 CASES=20000 npx tsx bench/csv-fuzz.ts`.
 */
import { describe, expect, it } from 'vitest';
import type { AnalyzeSpec } from '../src/index/records/analyze.js';
import { prng } from './support/fixtures.js';
import { fuzzCase, runCase, type FuzzCase, type Seen } from './support/csv-fuzz.js';

function spec(over: Partial<AnalyzeSpec> = {}): AnalyzeSpec {
  return { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, statColumns: 3, time: undefined, maxBad: 5, quoting: 'none', maxRecordBytes: 1 << 20, ...over };
}

const latin1 = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'latin1'));

let pass = 1;
/** The differences of a case (none expected), each pass number used once. */
function differences(c: FuzzCase, seen?: Seen): string[] {
  const found = runCase(c, 2_000_000 + pass, 3_000_000 + pass, seen);
  pass++;
  return found;
}

describe('the WebAssembly CSV scanner under differential fuzzing', () => {
  it('seeded adversarial chunks: wasm equals js, js equals the general path', () => {
    const seen: Seen = { chunks: 0, records: 0, overflowed: 0, badTimes: 0, tooLong: 0, passed: 0 };
    const failures: string[] = [];
    for (const seed of [101, 202, 303]) {
      const rand = prng(seed);
      for (let k = 0; k < 1000; k++) {
        const found = differences(fuzzCase(rand, 0, true), seen);
        if (found.length > 0) failures.push(`seed ${seed} case ${k}: ${found.join('; ')}`);
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    // The generator still makes what it is for.
    expect(seen.chunks).toBeGreaterThan(3000);
    expect(seen.records).toBeGreaterThan(100_000);
    expect(seen.overflowed).toBeGreaterThan(20);
    expect(seen.passed).toBeGreaterThan(20);
    expect(seen.badTimes).toBeGreaterThan(300);
    expect(seen.tooLong).toBeGreaterThan(300);
  });

  it('values ending at every byte of the last 8-byte words of a chunk, with and without a final newline', () => {
    const values = [
      '1.2345', '-1.2345', '12.34567', '1.2345678', '.1234', '1234.', '0.00001', '5', '-', '.', 'e', 'E', 'I', 'N', 'n', '+', 'a', '\xe9', ' ',
      '1e5', 'ab', '2024-01-02T03:04:05.1234Z', '2024-01-02T03:04:06Z', '2024-01-02T03:05', '',
    ];
    const failures: string[] = [];
    for (const value of values) {
      for (let pad = 0; pad < 16; pad++) {
        for (const eol of ['', '\n', '\r\n', '\r']) {
          const filler = 'x'.repeat(pad);
          // Blocks of known one-byte values and remembered timestamps before the value: the module's fast cases.
          const text = `h\n${filler},a,2024-01-02T03:04:00Z\ne,1.5,2024-01-02T03:04:01Z\n7,${value},${value}\n${value},${value},${value}${eol}`;
          for (const s of [spec({ begin: 2 }), spec({ begin: 2, time: { field: 2, format: 'iso', zone: undefined } }), spec({ begin: 2, statColumns: 2, statMask: Uint8Array.of(0, 1) })]) {
            const found = differences({ chunks: [{ bytes: latin1(text), spec: s }], records: 3 });
            if (found.length > 0) failures.push(`${JSON.stringify(text)}: ${found.join('; ')}`);
          }
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
  });
});
