/**
 * The WebAssembly CSV scanner of this thread (wasm/csv-scan.ts, built into scan.wasm next to this file by
 * scripts/build-wasm.mjs): compiled and instantiated once per thread, on first use (4.5 KB: about a
 * millisecond). When it cannot load (not built, no WebAssembly) the JS scanner does the work, said once per
 * thread; SEEKDATA_CSV_SCANNER=js|wasm asks for one (js: the module is never loaded). Both give the same
 * results, bit for bit.
 */
import { readFileSync, writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { reason, requestedBackend } from '../../../readers/decoder-choice.js';
import { SCALES } from '../time.js';
import { instantiateWasm } from '../../../util.js';

/** The module's exports (wasm/csv-scan.ts). */
export interface CsvScannerWasm {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  setup(
    base: number, length: number, last: number, delimiter: number, want: number, counted: number, timeColumn: number, block: number,
    values: number, starts: number, ta: number, tb: number, texts: number, exceptions: number, shorts: number, limit: number, newlines: number,
  ): void;
  setStats(dropped: number, stats: number): void;
  addBlock(records: number): void;
  getTimeMisses(): number;
  setKnown(known: number, byteCounts: number): void;
  setTime(times: number, iso: number, zoneGiven: number): void;
  setPrefix(at: number, dateHour: number): void;
  scanBlock(from: number, upTo: number, count: number): number;
  getRecordCount(): number;
  getNewlines(): number;
  getTooLong(): number;
  getTextCount(): number;
  getExceptionCount(): number;
  getShortCount(): number;
}

export type CsvScanner = 'wasm' | 'js';
export const CSV_SCANNERS: readonly CsvScanner[] = ['wasm', 'js'];

/** The built module (next to this file, in src/ and in dist/). */
export const SCAN_WASM = new URL('./scan.wasm', import.meta.url);

/** Where the per-chunk regions start (analyze-wasm.ts): above the tables, which end at 768 + 40 * 8. */
export const REGIONS_START = 2048;

/** Bytes that stop the number reading and may still make a number or a missing token (csv-fast-scan.ts GENERAL). */
const GENERAL_BYTES = 'eEINn+ \t.\r';

let loaded: CsvScannerWasm | null | undefined;

/** Instantiates the module from its bytes and writes its tables (wasm/csv-scan.ts's low memory). */
export function instantiateScanner(bytes: Uint8Array): CsvScannerWasm {
  const scanner = instantiateWasm(bytes) as CsvScannerWasm;
  const heap = scanner.memory.buffer;
  const general = new Uint8Array(heap, 256, 256);
  for (const c of GENERAL_BYTES) general[c.charCodeAt(0)] = 1;
  const pow10 = new Float64Array(heap, 512, 23);
  for (let i = 0; i < 23; i++) pow10[i] = 10 ** i;
  new Int32Array(heap, 704, 5).set([1, 10, 100, 1000, 10000]);
  new Float64Array(heap, 768, 40).set(SCALES.slice(0, 40));
  return scanner;
}

/**
 * This thread's WebAssembly scanner, or undefined for the JS scanner (asked for by SEEKDATA_CSV_SCANNER=js
 * unless `force`, or it did not load).
 */
export function csvScannerWasm(force = false): CsvScannerWasm | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  if (!force && requestedBackend('SEEKDATA_CSV_SCANNER', CSV_SCANNERS) === 'js') return undefined;
  loaded = null;
  try {
    loaded = instantiateScanner(readFileSync(SCAN_WASM));
  } catch (error) {
    warnFallback(`the WebAssembly CSV scanner is not available (${reason(error)}): CSV chunks are scanned by seekdata's JS scanner (the same results; 1.3-3x the CPU of the indexing pass's per-chunk analysis)`);
  }
  return loaded ?? undefined;
}

/**
 * Says a fallback once per thread, by the thread that meets it (the workers analyse the chunks; every worker
 * meets the same failure, so a few lines at most): a process warning in the main thread; in a worker, written
 * straight to stderr in the same form (a worker's warnings reach the main thread's stderr through a stream
 * that did not always deliver them before the pool ended).
 */
function warnFallback(message: string): void {
  const code = 'SEEKDATA_CSV_SCANNER_FALLBACK';
  if (isMainThread) process.emitWarning(message, { type: 'SeekdataWarning', code });
  else writeSync(2, `(node:${process.pid}) [${code}] SeekdataWarning: ${message}\n`);
}

/** Forgets this thread's choice (tests: after changing SEEKDATA_CSV_SCANNER). */
export function resetCsvScanner(): void {
  loaded = undefined;
}
