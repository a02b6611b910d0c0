/**
 * Writing bzip2 for `recompress --format bzip2`: each unit becomes one complete bzip2 stream, and the
 * file is their concatenation (as pbzip2 and lbzip2 write it; bzip2, lbzip2 and seekdata read every
 * stream). bzip2 has no sizes in its blocks, so nothing more is needed: seekdata finds the blocks by
 * their magic either way.
 *
 * The encoder is libbzip2 itself, compiled to WebAssembly (libbzip2-wasm, ISC, no install script):
 * its output is byte for byte what `bzip2 -N` writes for the same input, at about 0.7x the native
 * speed. The pure-JS encoders on npm (compressjs and its forks) are ~30x slower than `bzip2` and GPL.
 *
 * The emscripten glue of libbzip2-wasm is from 2019 and adds two process-wide listeners when it starts
 * (`uncaughtException` rethrowing, `unhandledRejection` aborting); they are removed again here, so
 * loading it changes nothing outside this module. It is loaded on first use, once per thread.
 */
import { createRequire } from 'node:module';
import type { LibBzip2, LibBzip2Module } from 'libbzip2-wasm';
import { SeekdataError } from '../../errors.js';
import { withoutProcessListeners } from '../../util.js';

const WORK_FACTOR = 30;
/** Messages of libbzip2's return codes that compressing can give. */
const BZ_ERRORS: ReadonlyMap<number, string> = new Map([
  [-2, 'BZ_PARAM_ERROR'],
  [-3, 'BZ_MEM_ERROR'],
  [-8, 'BZ_OUTBUFF_FULL'],
]);

let loading: Promise<LibBzip2> | undefined;

/** libbzip2 (WASM), compiled and started once per thread. */
export function loadBzip2Encoder(): Promise<LibBzip2> {
  loading ??= start().catch((error: unknown) => {
    loading = undefined;
    throw new SeekdataError('UNSUPPORTED_FORMAT', `bzip2 compression needs libbzip2-wasm, which does not load here: ${String(error)}`, { cause: error });
  });
  return loading;
}

async function start(): Promise<LibBzip2> {
  const factory = createRequire(import.meta.url)('libbzip2-wasm') as (overrides?: Record<string, unknown>) => LibBzip2Module;
  const module = withoutProcessListeners(() => factory());
  // The module object is a thenable that hands itself to its callback: resolving a promise with it would
  // call `then` again forever, so a plain object with the one function is handed on instead.
  const ready = (m: LibBzip2Module): LibBzip2 => ({ compressBZ2: (input, level, work) => m.compressBZ2(input, level, work) });
  const then = module.then;
  if (then === undefined) return ready(module);
  return new Promise((resolve) => {
    then.call(module, (m) => resolve(ready(m)));
  });
}

/** The bytes of an empty bzip2 stream at `level` (what `bzip2 -N < /dev/null` writes). */
export function emptyBzip2Stream(level: number): Uint8Array {
  return Uint8Array.from([0x42, 0x5a, 0x68, 0x30 + level, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0, 0, 0, 0]);
}

/** `chunk` as one complete bzip2 stream with blocks of `level` x 100 kB (level 1-9). */
export async function bzip2Stream(chunk: Uint8Array, level: number): Promise<Uint8Array> {
  const lib = await loadBzip2Encoder();
  let result;
  try {
    result = lib.compressBZ2(chunk, level, WORK_FACTOR);
  } catch (error) {
    // emscripten's abort() throws a string (e.g. when the heap cannot grow for a huge unit).
    throw new SeekdataError('IO_ERROR', `libbzip2 could not compress a unit of ${chunk.length} bytes: ${String(error)}`, { cause: error });
  }
  if (result.error !== 0) {
    throw new SeekdataError('IO_ERROR', `libbzip2 could not compress a unit of ${chunk.length} bytes: ${BZ_ERRORS.get(result.error) ?? `error ${result.error}`}`);
  }
  // The output is a view into the WASM heap, overwritten by the next call: copy it out.
  return new Uint8Array(result.output);
}
