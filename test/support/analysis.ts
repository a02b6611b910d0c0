/**
 * Comparing two chunk analyses (the fast CSV path against the general one or a reference) exactly: record
 * starts and times as plain arrays (a -0 time kept apart from 0), statistics byte for byte (NaN payloads and
 * -0 included), vocabularies in a fixed order.
 */
import { expect } from 'vitest';
import { analyzeChunk, type AnalyzeSpec, type ChunkAnalysis } from '../../src/index/records/analyze.js';
import { csvScannerWasm, resetCsvScanner, type CsvScanner } from '../../src/index/records/csv-wasm/load.js';

export function comparable(a: ChunkAnalysis): unknown {
  return {
    ...a,
    starts: [...a.starts],
    times: a.times === undefined ? undefined : [...a.times].map((t) => (Object.is(t, -0) ? '-0' : t)),
    stats: a.stats === undefined ? undefined : [...new Uint8Array(a.stats.buffer, a.stats.byteOffset, a.stats.byteLength)],
    vocab: a.vocab?.map((v) => (v === null ? null : [...v].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)))).map((v) => (v !== null && v.length === 0 ? [] : v)),
  };
}

/** Vocabulary columns nobody touched are [] in one and absent in the other: pad to the same length. */
export function padVocab(a: ChunkAnalysis, b: ChunkAnalysis): void {
  if (a.vocab === undefined || b.vocab === undefined) return;
  while (a.vocab.length < b.vocab.length) a.vocab.push([]);
  while (b.vocab.length < a.vocab.length) b.vocab.push([]);
}

/** `comparable` keeping the vocabularies' own order (a scanner must insert values in the same order). */
export function exact(a: ChunkAnalysis): unknown {
  return { ...(comparable(a) as object), vocab: a.vocab };
}

/** Runs `run` with SEEKDATA_CSV_SCANNER set to `scanner` (checking that 'wasm' really is the module). */
export function withCsvScanner<T>(scanner: CsvScanner, run: () => T): T {
  const before = process.env.SEEKDATA_CSV_SCANNER;
  process.env.SEEKDATA_CSV_SCANNER = scanner;
  resetCsvScanner();
  try {
    if (scanner === 'wasm' && csvScannerWasm() === undefined) throw new Error('the WebAssembly CSV scanner did not load: run `npm run build:wasm`');
    return run();
  } finally {
    if (before === undefined) delete process.env.SEEKDATA_CSV_SCANNER;
    else process.env.SEEKDATA_CSV_SCANNER = before;
    resetCsvScanner();
  }
}

/** analyzeChunk with the JS scanner and with the WebAssembly one: the two must agree exactly; returns the JS one's. */
export function analyzeBoth(bytes: Uint8Array, spec: AnalyzeSpec): ChunkAnalysis {
  const js = withCsvScanner('js', () => analyzeChunk(bytes, spec));
  const wasm = withCsvScanner('wasm', () => analyzeChunk(bytes, spec));
  expect(exact(wasm), 'the WebAssembly scanner against the JS one').toEqual(exact(js));
  return js;
}
