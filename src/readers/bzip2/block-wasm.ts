/**
 * seekdata's WebAssembly bzip2 block decoder (wasm/bzip2-block.ts, built into block.wasm next to this file
 * by scripts/build-wasm.mjs): 1.3-1.4x the speed of libbzip2 compiled to WebAssembly on the same blocks
 * (bench/readers.ts measures both). It decodes a block at its bit offset directly, finding where the block
 * ends, as the JS decoder (decoder.ts) does: no synthetic stream, no trying of candidate ends. It verifies
 * the block CRC; the format's `check` compares the block with the chunk map, as for the JS decoder.
 *
 * Any failure (damage, a range cut short, a false magic candidate during discovery) hands the block to the
 * JS decoder, which gives the exact answer and the typed errors (block.ts): failures are rare, so their
 * cost does not matter, and a fault of this module can only cost time, never give other bytes.
 */
import { readFileSync } from 'node:fs';
import { borrowScratch, releaseOnce } from '../lend.js';
import { decodeBzip2Block, type Bzip2BlockTask } from './block.js';
import type { Bzip2WasmResult } from './wasm.js';

/** The module's exports (wasm/bzip2-block.ts). */
export interface Bzip2BlockModule {
  memory: { buffer: ArrayBuffer };
  INPUT_AT: { value: number };
  init(): void;
  reserve(bytes: number): number;
  decode(bitOffset: number, inputLength: number, level: number): number;
  getEndBit(): number;
  getCrc(): number;
  getOutAt(): number;
  getOutLength(): number;
}

/** The built module (next to this file, in src/ and in dist/). */
export const BLOCK_WASM = new URL('./block.wasm', import.meta.url);

/** The part of the WebAssembly API used here (the project's lib settings leave it out). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

/** Zero bytes after the input: the decoder reads ahead of what it consumes (at most ~130 bytes past a group). */
const PADDING = 256;

/** Compiles and instantiates the module (a few ms; once per thread). Throws when it is not built or cannot load. */
export function loadBzip2Block(bytes: Uint8Array = readFileSync(BLOCK_WASM)): Bzip2BlockModule {
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) throw new Error('this runtime has no WebAssembly');
  const module = new api.Instance(new api.Module(bytes), {}).exports as Bzip2BlockModule;
  module.init();
  return module;
}

/** The module's status, or -1 when it trapped (it must not: the JS decoder then gives the answer). */
function decodeOrTrap(module: Bzip2BlockModule, bitOffset: number, length: number, level: number): number {
  try {
    return module.decode(bitOffset, length, level);
  } catch {
    return -1;
  }
}

/**
 * Decodes one block with the module: its bytes (lent from the thread's scratch buffer when `lend` and the
 * scratch is free, else a new array), end bit and stored CRC. Any failure: the JS decoder's answer.
 */
export function decodeBzip2BlockFast(module: Bzip2BlockModule, task: Bzip2BlockTask, lend = false): Bzip2WasmResult {
  const first = task.bitOffset >>> 3;
  const length = task.data.length - first;
  const input = module.INPUT_AT.value;
  if (length > 0 && module.reserve(input + length + PADDING) !== 0) {
    let heap = new Uint8Array(module.memory.buffer);
    heap.set(task.data.subarray(first), input);
    heap.fill(0, input + length, input + length + PADDING);
    if (decodeOrTrap(module, task.bitOffset & 7, length, task.level) === 0) {
      // The decode may have grown the memory: a new buffer.
      heap = new Uint8Array(module.memory.buffer);
      const at = module.getOutAt();
      const size = module.getOutLength();
      const endBit = first * 8 + module.getEndBit();
      const crc = module.getCrc() >>> 0;
      const scratch = lend ? borrowScratch(size) : undefined;
      if (scratch === undefined) return { bytes: heap.slice(at, at + size), endBit, crc, decoder: 'wasm' };
      scratch.set(heap.subarray(at, at + size));
      return { bytes: scratch.subarray(0, size), endBit, crc, decoder: 'wasm', release: releaseOnce() };
    }
  }
  return { ...decodeBzip2Block(task), decoder: 'js' };
}
