/**
 * The index pass's per-chunk CSV analysis (analyzeCsvFast) with the JS scanner and with the WebAssembly one
 * (src/index/records/csv-wasm/), per MiB of the bench CSV, interleaved chunk by chunk (the order alternating),
 * each on a fresh copy of the chunk; the WebAssembly figure includes copying the chunk into the module's
 * memory (measured alone too). `npx tsx bench/csv-scanner.ts` (after `npm run build:wasm`).
 *
 * Measured as the pool's workers run: after an ArrayBuffer of the thread was detached. Until the first detach
 * (a transfer in postMessage, which every worker does with its results; a WebAssembly memory growing; even
 * importing piscina or apache-arrow does one) V8 compiles typed-array reads without detach checks, and the JS
 * scanner runs ~1.5x faster than it can in seekdata (a scratch script importing only analyze.ts sees that).
 */
import { readFileSync } from 'node:fs';
import type { AnalyzeSpec } from '../src/index/records/analyze.js';
import { analyzeCsvFast } from '../src/index/records/csv-fast.js';
import { benchData, machine, median, table } from './common.js';

const data = readFileSync(benchData().csv);
const header = data.indexOf(10) + 1;
const MiB = 1 << 20;
const CHUNKS = Math.min(Number(process.env.CHUNKS ?? 80), Math.floor((data.length - header) / MiB));

const base: AnalyzeSpec = { kind: 'csv', delimiter: 0x2c, begin: 0, inQuote: false, maxBad: 5, quoting: 'rfc4180', maxRecordBytes: 1 << 30, statColumns: 0 };
const time = { field: 0, format: 'iso' as const, zone: 'UTC' };
const variants: Array<[string, AnalyzeSpec]> = [
  ['records', base],
  ['records + timestamps', { ...base, time }],
  ['records + timestamps + statistics of all 11 columns', { ...base, statColumns: 11, time }],
  ['records + statistics of all 11 columns', { ...base, statColumns: 11 }],
];

function chunk(k: number): Uint8Array {
  return new Uint8Array(data.subarray(header + k * MiB, header + (k + 1) * MiB));
}

function timed(k: number, run: (bytes: Uint8Array) => unknown): number {
  const bytes = chunk(k);
  const t = performance.now();
  run(bytes);
  return performance.now() - t;
}

console.log(`per-chunk CSV analysis, ms per MiB (median of ${CHUNKS} chunks of 1 MiB), ${machine()}`);
const detached = new ArrayBuffer(8);
structuredClone(detached, { transfer: [detached] });
const rows: Array<Array<string | number>> = [];
for (const [name, spec] of variants) {
  const js: number[] = [];
  const wasm: number[] = [];
  for (let k = 0; k < CHUNKS; k++) {
    const pair = [() => js.push(timed(k, (b) => analyzeCsvFast(b, spec, 'js'))), () => wasm.push(timed(k, (b) => analyzeCsvFast(b, spec, 'wasm')))];
    if (k % 2 === 1) pair.reverse();
    for (const run of pair) run();
  }
  rows.push([name, median(js).toFixed(2), median(wasm).toFixed(2), `${(median(js) / median(wasm)).toFixed(2)}×`]);
}
const into = new Uint8Array(MiB);
const copy = median(Array.from({ length: CHUNKS }, (_, k) => timed(k, (b) => into.set(b))));
console.log(table(['analysis', 'JS', 'WebAssembly (copy included)', 'JS / WebAssembly'], rows));
console.log(`copying a chunk into the module's memory: ${copy.toFixed(3)} ms per MiB`);
