/**
 * The bzip2 block-magic search of the indexing pass (findBlockMagics over the scan's 4 MiB windows, as
 * src/readers/bzip2/candidates.ts calls it) with the JS search and with the WebAssembly one (magic-wasm.ts), in
 * ms per 25 MB of the bench .bz2: end to end, from the bytes in a JS array to the hits, so the WebAssembly
 * figure includes copying the bytes into the module's memory (also measured alone). Rounds alternate the two
 * (the order alternating too); the ratio is the median of the per-round ratios. Both must find the same hits.
 * Then the indexing pass over the same file (openIndexed, index kept in memory), with SEEKDATA_BZIP2_MAGIC=js
 * and =wasm alternating: the main thread's busy time (event-loop utilisation, active ms), where the search
 * runs beside the pool's workers, and the wall time. `npx tsx bench/bzip2-magic.ts` (after
 * `npm run build:wasm`); ROUNDS=n, PASS_ROUNDS=n (0: no pass).
 *
 * Measured as seekdata runs: after an ArrayBuffer of the thread was detached (see bench/csv-scanner.ts: before
 * the first detach V8 compiles typed-array reads without detach checks, and the JS search runs faster than it
 * can in seekdata, whose pool transfers buffers from the start).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { findMagicsJs } from '../src/readers/bzip2/magic.js';
import { loadMagicSearch, resetMagicSearch, searchInModule } from '../src/readers/bzip2/magic-wasm.js';
import { benchData, machine, median, pairedRatio, table } from './common.js';

const file = readFileSync(benchData().bz2);
const WINDOW = 4 << 20;
const ROUNDS = Number(process.env.ROUNDS ?? 31);
const PER = 25e6 / file.length;
const module = loadMagicSearch();

function windows(search: (data: Uint8Array, limitBit: number) => number[]): number[] {
  const hits: number[] = [];
  for (let start = 0; start < file.length; start += WINDOW) {
    const limit = Math.min(WINDOW, file.length - start);
    for (const bit of search(file.subarray(start, Math.min(file.length, start + limit + 6)), limit * 8)) hits.push(start * 8 + bit);
  }
  return hits;
}

const js = (data: Uint8Array, limitBit: number): number[] => findMagicsJs(data, limitBit, false).map((hit) => hit.bit);
const wasm = (data: Uint8Array, limitBit: number): number[] => {
  const bits: number[] = [];
  searchInModule(module, data, limitBit, false, (bit) => bits.push(bit));
  return bits;
};

const detached = new ArrayBuffer(8);
structuredClone(detached, { transfer: [detached] });

const truth = windows(js);
if (JSON.stringify(windows(wasm)) !== JSON.stringify(truth)) throw new Error('the two searches found different hits');
const timed = (fn: () => unknown): number => {
  const t = performance.now();
  fn();
  return (performance.now() - t) * PER;
};
const old: number[] = [];
const now: number[] = [];
const copy: number[] = [];
const into = new Uint8Array(module.memory.buffer, module.INPUT_AT.value, 65536 + 6);
for (let r = 0; r < ROUNDS; r++) {
  const pair = [() => old.push(timed(() => windows(js))), () => now.push(timed(() => windows(wasm)))];
  if (r % 2 === 1) pair.reverse();
  for (const run of pair) run();
  copy.push(
    timed(() => {
      for (let at = 0; at < file.length; at += 65536) into.set(file.subarray(at, Math.min(file.length, at + 65536 + 6)));
    }),
  );
}
console.log(`bzip2 block-magic search over ${benchData().bz2} (${file.length} bytes, ${truth.length} hits), ms per 25 MB, median of ${ROUNDS} rounds, ${machine()}`);
console.log(
  table(
    ['search', 'ms per 25 MB', 'GB/s'],
    [
      ['JS (pair table)', median(old).toFixed(2), (25e6 / median(old) / 1e6).toFixed(2)],
      ['WebAssembly SIMD (copy included)', median(now).toFixed(2), (25e6 / median(now) / 1e6).toFixed(2)],
      ['  of which the copy into its memory', median(copy).toFixed(2), ''],
    ],
  ),
);
console.log(`WebAssembly / JS: ${pairedRatio(now, old).toFixed(3)} (median of per-round ratios)`);

const PASS_ROUNDS = Number(process.env.PASS_ROUNDS ?? 10);
if (PASS_ROUNDS > 0) {
  const busy: Record<string, number[]> = { js: [], wasm: [] };
  const wall: Record<string, number[]> = { js: [], wasm: [] };
  // One pass of each first, not counted: the pool starts and the code warms up.
  for (let r = -1; r < PASS_ROUNDS; r++) {
    for (const search of r % 2 === 0 ? ['js', 'wasm'] : ['wasm', 'js']) {
      process.env.SEEKDATA_BZIP2_MAGIC = search;
      resetMagicSearch();
      const before = performance.eventLoopUtilization();
      const t = performance.now();
      await (await openIndexed(benchData().bz2, { records: 'csv', timeColumn: 'time', index: false })).close();
      if (r < 0) continue;
      wall[search].push(performance.now() - t);
      busy[search].push(performance.eventLoopUtilization(before).active);
    }
  }
  await closeSharedPool();
  console.log(`\nthe indexing pass over the same file (index in memory), median of ${PASS_ROUNDS} rounds`);
  console.log(
    table(
      ['search', "main thread's busy time, ms", 'wall, ms'],
      (['js', 'wasm'] as const).map((search) => [search, median(busy[search]).toFixed(1), median(wall[search]).toFixed(0)]),
    ),
  );
  console.log(`WebAssembly / JS: busy time ${pairedRatio(busy.wasm, busy.js).toFixed(3)}, wall ${pairedRatio(wall.wasm, wall.js).toFixed(3)} (medians of per-round ratios)`);
}
