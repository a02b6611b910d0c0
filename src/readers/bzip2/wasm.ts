/**
 * Decoding one bzip2 block with libbzip2 compiled to WebAssembly (@foxglove/wasm-bz2): 0.8-0.9x the CPU
 * of our JS decoder (bench/decoders/RESULTS.md). libbzip2 decodes whole streams only, so the block goes
 * through a one-block synthetic stream:
 *
 *   "BZh" + level | the block's bits [bitOffset, endBit), re-aligned | end-of-stream magic | stream CRC | pad
 *
 * For a one-block stream the stream CRC is the block CRC, so libbzip2 checks the decoded bytes against the
 * CRC stored in the block header AND that CRC against the one we write: the chunk map's CRC when the
 * caller knows it. Success also proves the block ends exactly at `endBit`: libbzip2 reads our
 * end-of-stream magic and CRC right after the block's end-of-block symbol. Without a known end (during
 * discovery) the magic candidates found in the task's bytes are tried in order.
 *
 * libbzip2 does not report where a block ends, nor tell "this range is too short" from "this block is
 * corrupt". So any failure is handed to the JS decoder (decoder.ts), which gives the exact answer and the
 * same typed errors as decodeBzip2Block; failures are rare (damage, or a false magic candidate inside a
 * block during discovery, ~1e-7 per block), so their cost does not matter.
 */
import type Bzip2 from '@foxglove/wasm-bz2';
import { decodeBzip2Block, type Bzip2BlockResult, type Bzip2BlockTask } from './block.js';
import { findMagics } from './magic.js';
import { lendCopy } from '../lend.js';
import { withoutProcessListeners } from '../../util.js';

/** An initialised libbzip2 instance (one per thread: compiling the module costs a few ms, do it once). */
export type Bzip2Wasm = Bzip2;

let loading: Promise<Bzip2Wasm> | undefined;

/** The thread's libbzip2 instance, compiled on first call (the package is loaded then, not with this module). */
export function loadBzip2Wasm(): Promise<Bzip2Wasm> {
  // Its emscripten glue adds process-wide error listeners as init() starts the module (synchronously): removed again.
  loading ??= import('@foxglove/wasm-bz2').then(({ default: Module }) => withoutProcessListeners(() => Module.init()));
  return loading;
}

const EOS_MAGIC_HI = 0x177245; // the 48-bit end-of-stream magic 0x177245385090, in two halves
const EOS_MAGIC_LO = 0x385090;
/** libbzip2's BZ_OUTBUFF_FULL: the output bound was too small. */
const BZ_OUTBUFF_FULL = -8;
/** Block header bits before the stored CRC ends: 48 magic + 32 CRC. */
const HEADER_BITS = 80;

/**
 * The synthetic one-block stream: header, the block's bits re-aligned to byte 4, end-of-stream magic,
 * stream CRC and zero padding.
 */
export function syntheticStream(data: Uint8Array, bitOffset: number, endBit: number, level: number, streamCrc: number): Uint8Array {
  const nbits = endBit - bitOffset;
  const out = new Uint8Array(4 + Math.ceil((nbits + 80) / 8));
  out[0] = 0x42; // B
  out[1] = 0x5a; // Z
  out[2] = 0x68; // h
  out[3] = 0x30 + level;
  const first = bitOffset >>> 3;
  const shift = bitOffset & 7;
  const whole = nbits >>> 3;
  if (shift === 0) {
    out.set(data.subarray(first, first + whole), 4);
  } else {
    const back = 8 - shift;
    const last = data.length - 1;
    for (let i = 0; i < whole; i++) {
      const at = first + i;
      out[4 + i] = (data[at] << shift) | (at < last ? data[at + 1] >>> back : 0);
    }
  }
  let bit = 32 + whole * 8;
  // The block's last partial byte, bit by bit, then the 80 trailer bits.
  for (let b = bitOffset + whole * 8; b < endBit; b++) put(out, bit++, (data[b >>> 3] >>> (7 - (b & 7))) & 1);
  for (let k = 23; k >= 0; k--) put(out, bit++, (EOS_MAGIC_HI >>> k) & 1);
  for (let k = 23; k >= 0; k--) put(out, bit++, (EOS_MAGIC_LO >>> k) & 1);
  for (let k = 31; k >= 0; k--) put(out, bit++, (streamCrc >>> k) & 1);
  return out;
}

function put(out: Uint8Array, bit: number, value: number): void {
  if (value !== 0) out[bit >>> 3] |= 0x80 >>> (bit & 7);
}

function readBits(data: Uint8Array, bit: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const b = bit + i;
    value = value * 2 + ((data[b >>> 3] >>> (7 - (b & 7))) & 1);
  }
  return value;
}

/** The largest output of a block at a level: runs of 4..259 equal bytes are stored in 5 BWT symbols. */
function maxOutput(level: number): number {
  return Math.ceil((level * 100_000) / 5) * 259 + 4;
}

function libbzip2Code(error: unknown): number | undefined {
  const match = error instanceof Error ? /failed: (-?\d+)/.exec(error.message) : null;
  return match === null ? undefined : Number(match[1]);
}

/** The emscripten module inside @foxglove/wasm-bz2's Bzip2 (0.3.0: its private `module`), for a decode into our own buffer. */
interface Bzip2Module {
  _malloc(size: number): number;
  _free(at: number): void;
  HEAPU8: Uint8Array;
  decompress(dst: number, dstSize: number, src: number, srcSize: number, small: number): { code: number; error?: string; buffer?: Uint8Array };
}

/** Decoded bytes, lent (a view of the thread's scratch buffer until `release`) or not. */
interface Decoded {
  bytes: Uint8Array;
  release?: (() => void) | undefined;
}

/**
 * libbzip2's decompress as Bzip2.decompress does it, but with the output copied out of the module's heap
 * into the thread's scratch buffer (lent) instead of a new array: no first writes to fresh pages. A new array
 * when the scratch is lent already or the package's module is not where 0.3.0 keeps it.
 */
function decompress(bz2: Bzip2Wasm, stream: Uint8Array, bound: number, lend: boolean): Decoded {
  const module = (bz2 as unknown as { module?: Bzip2Module }).module;
  if (!lend || module === undefined || typeof module.decompress !== 'function') return { bytes: bz2.decompress(stream, bound, { small: false }) };
  const src = module._malloc(stream.byteLength);
  const dst = module._malloc(bound);
  try {
    module.HEAPU8.set(stream, src);
    const { code, error, buffer } = module.decompress(dst, bound, src, stream.byteLength, 0);
    // The message Bzip2.decompress throws (libbzip2Code reads the code back).
    if (code !== 0 || buffer === undefined) throw new Error(`BZ2 decompression failed: ${code} (${error ?? 'unknown'})`);
    return lendCopy(buffer);
  } finally {
    module._free(src);
    module._free(dst);
  }
}

/** Decodes through libbzip2, or returns undefined when libbzip2 rejects the synthetic stream. */
function tryWasm(bz2: Bzip2Wasm, task: Bzip2BlockTask, endBit: number, lend: boolean): Decoded | undefined {
  if (endBit > task.data.length * 8 || endBit < task.bitOffset + HEADER_BITS) return undefined;
  const storedCrc = readBits(task.data, task.bitOffset + 48, 32) >>> 0;
  const stream = syntheticStream(task.data, task.bitOffset, endBit, task.level, task.expectedCrc ?? storedCrc);
  // A known length bounds the output (checked exactly below); an unknown one starts at the usual size of
  // text blocks and grows to the format's maximum once.
  const bounds = task.expectedLength !== undefined ? [task.expectedLength + 1] : [Math.ceil(task.level * 100_000 * 1.25), maxOutput(task.level)];
  for (const bound of bounds) {
    try {
      const decoded = decompress(bz2, stream, bound, lend);
      // The bound leaves one spare byte, so a block one byte longer than the map says also fails here.
      if (task.expectedLength === undefined || decoded.bytes.length === task.expectedLength) return decoded;
      decoded.release?.();
      return undefined;
    } catch (error) {
      if (libbzip2Code(error) !== BZ_OUTBUFF_FULL) return undefined;
    }
  }
  return undefined;
}

export interface Bzip2WasmResult extends Bzip2BlockResult {
  /** Which decoder produced the bytes: libbzip2, or the JS decoder after libbzip2 rejected the stream. */
  decoder: 'wasm' | 'libbzip2' | 'js';
  /** Set when `bytes` are lent (a view of the thread's scratch buffer, see DecodeOutput.release). */
  release?: (() => void) | undefined;
}

/**
 * The first of `candidates` (end bits, ascending) at which libbzip2 decodes the block, or undefined.
 * Exported for tests: a false magic inside the block comes before the real end.
 */
export function decodeAtCandidates(bz2: Bzip2Wasm, task: Bzip2BlockTask, candidates: readonly number[], lend = false): Bzip2WasmResult | undefined {
  for (const endBit of candidates) {
    const decoded = tryWasm(bz2, task, endBit, lend);
    if (decoded !== undefined) return { bytes: decoded.bytes, release: decoded.release, endBit, crc: readBits(task.data, task.bitOffset + 48, 32) >>> 0, decoder: 'libbzip2' };
  }
  return undefined;
}

/**
 * Decodes one bzip2 block, verified by libbzip2 (block CRC, and the stream CRC = `expectedCrc` or the
 * stored block CRC). Returns what decodeBzip2Block returns and throws its typed errors (CORRUPT_DATA /
 * TRUNCATED naming the file and offset): any libbzip2 failure goes to it for the diagnosis. An intact
 * block that is not the one the chunk map describes comes back as the JS decoder decoded it (its own CRC
 * verified): comparing it with the chunk map is the format's `check`, as for the JS decoder.
 */
export function decodeBzip2BlockWasm(bz2: Bzip2Wasm, task: Bzip2BlockTask, lend = false): Bzip2WasmResult {
  const candidates: number[] = [];
  if (task.endBit !== undefined) candidates.push(task.endBit);
  else {
    for (const hit of findMagics(task.data)) if (hit.bit >= task.bitOffset + HEADER_BITS) candidates.push(hit.bit);
  }
  const decoded = decodeAtCandidates(bz2, task, candidates, lend);
  if (decoded !== undefined) return decoded;
  // Damage, a range cut short, or a block that is not what the chunk map says: the JS decoder tells which.
  return { ...decodeBzip2Block(task), decoder: 'js' };
}
