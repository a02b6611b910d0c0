/**
 * The bzip2 decoder of this thread: libbzip2 compiled to WebAssembly (wasm.ts), once `prepareBzip2` has
 * compiled it and decoded a warm-up block with it; else our JS decoder (decoder.ts): before that, when
 * the module failed to load or to decode the warm-up block (said once), or when SEEKDATA_BZIP2_DECODER=js
 * asks for it. Both verify every block's CRC and give the same typed errors (wasm.ts hands every failure
 * to the JS decoder for the diagnosis).
 */
import { isMainThread } from 'node:worker_threads';
import type { DecodeOutput } from '../../workers/registry.js';
import { reason, requestedBackend, warnDecoderOnce } from '../decoder-choice.js';
import { ownedBytes } from '../post.js';
import { decodeBzip2Block, type Bzip2BlockTask } from './block.js';
import { decodeBzip2BlockWasm, loadBzip2Wasm, type Bzip2Wasm, type Bzip2WasmResult } from './wasm.js';

export type Bzip2Backend = 'wasm' | 'js';
export const BZIP2_BACKENDS: readonly Bzip2Backend[] = ['wasm', 'js'];

/** `printf 'seekdata warm-up\n' | bzip2 -9`: one block, decoded once per thread before real ones. */
const WARM_UP = Uint8Array.from([
  66, 90, 104, 57, 49, 65, 89, 38, 83, 89, 152, 42, 222, 74, 0, 0, 6, 209, 128, 0, 16, 64, 2, 38, 10, 94, 128, 32, 0, 49, 0, 0, 10, 104, 201, 181, 54, 154,
  7, 5, 10, 179, 171, 95, 44, 150, 11, 185, 34, 156, 40, 72, 76, 21, 111, 37, 0,
]);
const WARM_UP_TEXT = 'seekdata warm-up\n';

let wasm: Bzip2Wasm | undefined;

/** Compiles libbzip2 for this thread and checks it on the warm-up block (never rejects: see above). */
export async function prepareBzip2(): Promise<void> {
  if (requestedBackend('SEEKDATA_BZIP2_DECODER', BZIP2_BACKENDS) === 'js') return;
  try {
    const bz2 = await loadBzip2Wasm();
    const warm = decodeBzip2BlockWasm(bz2, { data: WARM_UP, bitOffset: 32, level: 9, base: 0, atEnd: true, file: 'the warm-up block' });
    if (warm.decoder !== 'wasm' || Buffer.from(warm.bytes).toString('latin1') !== WARM_UP_TEXT) throw new Error('it did not decode the warm-up block');
    wasm = bz2;
  } catch (error) {
    warnDecoderOnce(`libbzip2 (WebAssembly, @foxglove/wasm-bz2) is not available (${reason(error)}): bzip2 blocks are decoded by seekdata's JS decoder, about 1.2x the CPU`);
  }
}

/** The backend this thread decodes with (after `prepareBzip2`). */
export function bzip2Backend(): Bzip2Backend {
  return wasm === undefined ? 'js' : 'wasm';
}

/** What decodes bzip2 blocks in this thread, for `info()`. */
export function bzip2DecoderName(): string {
  return wasm === undefined ? "seekdata's JS decoder" : 'libbzip2 (WebAssembly, @foxglove/wasm-bz2)';
}

/**
 * Decodes one block with this thread's backend: its bytes (owned, to be moved), end bit and CRC. With `lend`
 * (a job that keeps no bytes), in a pool worker, libbzip2's bytes are lent (the thread's scratch buffer).
 */
export function decodeBzip2(task: Bzip2BlockTask, lend = false): DecodeOutput {
  const result: Bzip2WasmResult = wasm === undefined ? { ...decodeBzip2Block(task), decoder: 'js' } : decodeBzip2BlockWasm(wasm, task, lend && !isMainThread);
  const info = { endBit: result.endBit, crc: result.crc };
  if (result.release !== undefined) return { bytes: result.bytes, info, decoder: result.decoder, release: result.release };
  // Owned, so that a worker moves the bytes back instead of copying their (larger) buffer.
  return { bytes: ownedBytes(result.bytes), info, decoder: result.decoder };
}
