/**
 * The bzip2 decoder of this thread, once `prepareBzip2` has loaded it and decoded a warm-up block with it:
 * seekdata's WebAssembly block decoder (block-wasm.ts, the fastest); else libbzip2 compiled to WebAssembly
 * (wasm.ts), when ours is not built or fails the warm-up block (said once); else our JS decoder
 * (decoder.ts): before `prepareBzip2`, or when neither module loads (said once).
 * SEEKDATA_BZIP2_DECODER=wasm|libbzip2|js asks for one. All verify every block's CRC and give the same
 * typed errors (the WebAssembly decoders hand every failure to the JS decoder for the diagnosis).
 */
import { isMainThread } from 'node:worker_threads';
import type { DecodeOutput } from '../../workers/registry.js';
import { reason, requestedBackend, warnDecoderOnce } from '../decoder-choice.js';
import { ownedBytes } from '../post.js';
import { decodeBzip2Block, type Bzip2BlockTask } from './block.js';
import { decodeBzip2BlockFast, loadBzip2Block, type Bzip2BlockModule } from './block-wasm.js';
import { decodeBzip2BlockWasm, loadBzip2Wasm, type Bzip2Wasm, type Bzip2WasmResult } from './wasm.js';

export type Bzip2Backend = 'wasm' | 'libbzip2' | 'js';
export const BZIP2_BACKENDS: readonly Bzip2Backend[] = ['wasm', 'libbzip2', 'js'];

/** `printf 'seekdata warm-up\n' | bzip2 -9`: one block, decoded once per thread before real ones. */
const WARM_UP = Uint8Array.from([
  66, 90, 104, 57, 49, 65, 89, 38, 83, 89, 152, 42, 222, 74, 0, 0, 6, 209, 128, 0, 16, 64, 2, 38, 10, 94, 128, 32, 0, 49, 0, 0, 10, 104, 201, 181, 54, 154,
  7, 5, 10, 179, 171, 95, 44, 150, 11, 185, 34, 156, 40, 72, 76, 21, 111, 37, 0,
]);
const WARM_UP_TEXT = 'seekdata warm-up\n';
const WARM_UP_TASK: Bzip2BlockTask = { data: WARM_UP, bitOffset: 32, level: 9, base: 0, atEnd: true, file: 'the warm-up block' };

const NAMES: Record<Bzip2Backend, string> = {
  wasm: "seekdata's WebAssembly decoder",
  libbzip2: 'libbzip2 (WebAssembly, @foxglove/wasm-bz2)',
  js: "seekdata's JS decoder",
};

let block: Bzip2BlockModule | undefined;
let libbzip2: Bzip2Wasm | undefined;

function warmedUp(result: Bzip2WasmResult, backend: Bzip2Backend): void {
  if (result.decoder !== backend || Buffer.from(result.bytes).toString('latin1') !== WARM_UP_TEXT) throw new Error('it did not decode the warm-up block');
}

/**
 * Loads this thread's decoder and checks it on the warm-up block (never rejects: see above). `load` loads
 * seekdata's module (a test passes one that fails).
 */
export async function prepareBzip2(load: () => Bzip2BlockModule = loadBzip2Block): Promise<void> {
  const asked = requestedBackend('SEEKDATA_BZIP2_DECODER', BZIP2_BACKENDS);
  if (asked === 'js' || block !== undefined || libbzip2 !== undefined) return;
  if (asked !== 'libbzip2') {
    try {
      const module = load();
      warmedUp(decodeBzip2BlockFast(module, WARM_UP_TASK), 'wasm');
      block = module;
      return;
    } catch (error) {
      warnDecoderOnce(`${NAMES.wasm} (src/readers/bzip2/block.wasm, built from wasm/bzip2-block.ts) is not available (${reason(error)}): bzip2 blocks are decoded by libbzip2 (WebAssembly), about 1.35x the CPU`);
    }
  }
  try {
    const bz2 = await loadBzip2Wasm();
    warmedUp(decodeBzip2BlockWasm(bz2, WARM_UP_TASK), 'libbzip2');
    libbzip2 = bz2;
  } catch (error) {
    warnDecoderOnce(`libbzip2 (WebAssembly, @foxglove/wasm-bz2) is not available (${reason(error)}): bzip2 blocks are decoded by seekdata's JS decoder, about 1.7x the CPU`);
  }
}

/** The backend this thread decodes with (after `prepareBzip2`). */
export function bzip2Backend(): Bzip2Backend {
  return block !== undefined ? 'wasm' : libbzip2 !== undefined ? 'libbzip2' : 'js';
}

/** What decodes bzip2 blocks in this thread, for `info()`. */
export function bzip2DecoderName(): string {
  return NAMES[bzip2Backend()];
}

/**
 * Decodes one block with this thread's backend: its bytes (owned, to be moved), end bit and CRC. With `lend`
 * (a job that keeps no bytes), in a pool worker, the bytes are lent (the thread's scratch buffer).
 */
export function decodeBzip2(task: Bzip2BlockTask, lend = false): DecodeOutput {
  const lending = lend && !isMainThread;
  const result: Bzip2WasmResult =
    block !== undefined
      ? decodeBzip2BlockFast(block, task, lending)
      : libbzip2 !== undefined
        ? decodeBzip2BlockWasm(libbzip2, task, lending)
        : { ...decodeBzip2Block(task), decoder: 'js' };
  const info = { endBit: result.endBit, crc: result.crc };
  if (result.release !== undefined) return { bytes: result.bytes, info, decoder: result.decoder, release: result.release };
  // Owned, so that a worker moves the bytes back instead of copying their (larger) buffer.
  return { bytes: ownedBytes(result.bytes), info, decoder: result.decoder };
}
