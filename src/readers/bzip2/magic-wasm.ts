/**
 * seekdata's WebAssembly bzip2 magic search (wasm/bzip2-magic.ts, built with SIMD into magic.wasm next to this
 * file by scripts/build-wasm.mjs): the hits of the JS search (magic.ts), for about a third of its CPU counted
 * from the bytes in a JS array (bench/bzip2-magic.ts). It matters in the main thread during the indexing pass
 * of a .bz2 file, where the search runs beside pool workers that keep every core busy.
 *
 * The module sees only its own memory, so the bytes are copied in, 64 KiB at a time: each piece is searched
 * while the copy has left it in the cache. A piece carries the 6 bytes after it, so that a magic starting in
 * it is seen whole, and reports only the magics that start in it: each magic is found once, in bit order.
 *
 * When the module cannot load (not built, no WebAssembly) the JS search does the work, said once;
 * SEEKDATA_BZIP2_MAGIC=js|wasm asks for one (js: the module is never loaded).
 */
import { readFileSync } from 'node:fs';
import { instantiateWasm } from '../../util.js';
import { reason, requestedBackend, warnDecoderOnce } from '../decoder-choice.js';
import type { MagicHit } from './magic.js';

/** The module's exports (wasm/bzip2-magic.ts). */
export interface MagicSearchModule {
  memory: { buffer: ArrayBuffer };
  INPUT_AT: { value: number };
  HITS_AT: { value: number };
  MAX_INPUT: { value: number };
  init(): number;
  search(length: number, limitBit: number, eos: number): number;
}

/** The built module (next to this file, in src/ and in dist/). */
export const MAGIC_WASM = new URL('./magic.wasm', import.meta.url);

/** Bytes searched per call: a piece and the 6 bytes after it stay in the L2 cache between the copy and the search. */
const PIECE = 65536;
/** The most bytes after a magic's first byte that it reaches into (bit 7 of byte 0 to bit 6 of byte 6). */
const TAIL = 6;

/** Compiles and instantiates the module (about a millisecond; once per thread). Throws when it is not built or cannot load. */
export function loadMagicSearch(bytes: Uint8Array = readFileSync(MAGIC_WASM)): MagicSearchModule {
  const module = instantiateWasm(bytes) as MagicSearchModule;
  if (module.MAX_INPUT.value < PIECE + TAIL) throw new Error(`the magic search module takes ${module.MAX_INPUT.value} bytes at a time, fewer than ${PIECE + TAIL}`);
  if (module.init() === 0) throw new Error('the magic search module cannot grow its memory');
  return module;
}

/**
 * The magics whose first bit lies in [0, limitBit) of `data`, sorted, as the JS search finds them (`eos`: the
 * end-of-stream magic too), passed to `hit` in order.
 */
export function searchInModule(module: MagicSearchModule, data: Uint8Array, limitBit: number, eos: boolean, hit: (bit: number, eos: boolean) => void): void {
  // The memory does not grow after init, so one view serves every piece.
  const heap = new Uint8Array(module.memory.buffer);
  const hits = new Uint32Array(module.memory.buffer, module.HITS_AT.value);
  const inputAt = module.INPUT_AT.value;
  // No magic starts past the data's bits; a fractional limit admits the bits below it (NaN admits none).
  const limit = Math.min(Math.ceil(limitBit), data.length * 8);
  for (let start = 0; start * 8 < limit; start += PIECE) {
    const piece = data.subarray(start, Math.min(data.length, start + PIECE + TAIL));
    heap.set(piece, inputAt);
    const count = module.search(piece.length, Math.min(PIECE * 8, limit - start * 8), eos ? 1 : 0);
    for (let i = 0; i < count; i++) hit(start * 8 + (hits[i] >>> 1), (hits[i] & 1) === 1);
  }
}

export type MagicSearch = 'wasm' | 'js';
export const MAGIC_SEARCHES: readonly MagicSearch[] = ['wasm', 'js'];

let loaded: MagicSearchModule | null | undefined;

/**
 * This thread's module, loaded on first call, or undefined for the JS search (asked for, or it did not load).
 * `load` loads the module (a test passes one that fails).
 */
export function magicSearchModule(load: () => MagicSearchModule = loadMagicSearch): MagicSearchModule | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  if (requestedBackend('SEEKDATA_BZIP2_MAGIC', MAGIC_SEARCHES) === 'js') return undefined;
  try {
    loaded = load();
  } catch (error) {
    warnDecoderOnce(`seekdata's WebAssembly bzip2 magic search (src/readers/bzip2/magic.wasm, built from wasm/bzip2-magic.ts) is not available (${reason(error)}): bzip2 block magics are searched by the JS search (the same hits, about 3x the CPU)`);
  }
  return loaded ?? undefined;
}

/** Forgets this thread's choice (tests and benches: after changing SEEKDATA_BZIP2_MAGIC). */
export function resetMagicSearch(): void {
  loaded = undefined;
}

/** The hits of `searchInModule` as objects (for a caller that takes MagicHit). */
export function magicHitsInModule(module: MagicSearchModule, data: Uint8Array, limitBit: number, eos: boolean): MagicHit[] {
  const out: MagicHit[] = [];
  searchInModule(module, data, limitBit, eos, (bit, isEos) => out.push({ bit, eos: isEos }));
  return out;
}
