/**
 * seekdata's WebAssembly bzip2 block decoder (wasm/bzip2-block.ts, built into block.wasm next to this file
 * by scripts/build-wasm.mjs): about 3x the speed of libbzip2 compiled to WebAssembly on the same blocks
 * (bench/readers.ts measures both). It decodes a block at its bit offset directly, finding where the block
 * ends, as the JS decoder (decoder.ts) does: no synthetic stream, no trying of candidate ends. It verifies
 * the block CRC; the format's `check` compares the block with the chunk map, as for the JS decoder.
 *
 * Any failure (damage, a range cut short, a false magic candidate during discovery) hands the block to the
 * JS decoder, which gives the exact answer and the typed errors (block.ts): failures are rare, so their
 * cost does not matter, and a fault of this module can only cost time, never give other bytes.
 */
import { readFileSync } from 'node:fs';
import { instantiateWasm } from '../../util.js';
import { lendCopy } from '../lend.js';
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

/** Zero bytes after the input: the decoder reads ahead of what it consumes (at most ~130 bytes past a group). */
const PADDING = 256;

/** Compiles and instantiates the module (a few ms; once per thread). Throws when it is not built or cannot load. */
export function loadBzip2Block(bytes: Uint8Array = readFileSync(BLOCK_WASM)): Bzip2BlockModule {
  const module = instantiateWasm(bytes) as Bzip2BlockModule;
  module.init();
  return module;
}

/**
 * The module's raw status for the block whose magic starts `bitShift` bits into `input` (0 decoded: its
 * getters tell the rest; negative: not decoded, as for no input). The input is copied into the module's
 * memory, followed by zero padding. Throws when the memory cannot grow, and when the module traps (it must
 * not: the tests and bench/bzip2-fuzz.ts call this to see it).
 */
export function decodeInModule(module: Bzip2BlockModule, input: Uint8Array, bitShift: number, level: number): number {
  if (input.length === 0) return -1;
  const at = module.INPUT_AT.value;
  if (module.reserve(at + input.length + PADDING) === 0) throw new Error(`the bzip2 decoder module cannot grow its memory to ${at + input.length + PADDING} bytes`);
  const heap = new Uint8Array(module.memory.buffer);
  heap.set(input, at);
  heap.fill(0, at + input.length, at + input.length + PADDING);
  return module.decode(bitShift, input.length, level);
}

/** decodeInModule, with a trap or a memory that cannot grow read as a failure (the JS decoder then answers). */
function statusOf(module: Bzip2BlockModule, input: Uint8Array, bitShift: number, level: number): number {
  try {
    return decodeInModule(module, input, bitShift, level);
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
  if (statusOf(module, task.data.subarray(first), task.bitOffset & 7, task.level) !== 0) return { ...decodeBzip2Block(task), decoder: 'js' };
  // A new view: the decode may have grown the memory.
  const at = module.getOutAt();
  const decoded = new Uint8Array(module.memory.buffer, at, module.getOutLength());
  const { bytes, release } = lend ? lendCopy(decoded) : { bytes: decoded.slice(), release: undefined };
  return { bytes, endBit: first * 8 + module.getEndBit(), crc: module.getCrc() >>> 0, decoder: 'wasm', release };
}
