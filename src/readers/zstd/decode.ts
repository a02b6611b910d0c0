/**
 * Decoding one unit (one frame) as plain data in, verified bytes out: the same async function runs inline
 * and inside the worker threads. It checks, in this order: that the bytes are exactly one frame (walking
 * its block headers), that a content size in the header agrees with the index, the decode itself (libzstd
 * verifies the frame checksum when the frame has one, and the content size), that the decoded length is
 * the expected one, and the seek-table checksum when the index has one.
 *
 * libzstd comes native (@mongodb-js/zstd, Promise-based on the libuv pool) when its prebuilt binary loads,
 * else as WebAssembly (zstddec) decoding into a buffer of the expected length.
 */
import { SeekdataError } from '../../errors.js';
import { frameLayout, u32le } from './container.js';
import { asBuffer, nativeZstd } from './native.js';
import { checkWindow } from './stream.js';
import { WasmFrameDecoder, wasmZstdReady } from './wasm-stream.js';
import { xxh64Low32, xxh64Ready } from './xxh64.js';

export type ZstdEngine = 'native' | 'wasm';

export interface ZstdFrameTask {
  /** Exactly the frame's bytes, from its magic number to the end of its checksum. */
  data: Uint8Array;
  /** Decoded length recorded in the index (from the header, the seek table or the indexing pass). */
  expectedLength: number;
  /** The seek table's checksum of this frame (low 32 bits of XXH64), when the file has one. */
  tableChecksum?: number | undefined;
  /** What gave `expectedLength`, for messages: 'the seek table' for a seekable file; default 'the index'. */
  sizeFrom?: string | undefined;
  /** Compressed offset of the frame, for messages. */
  offset: number;
  file: string;
  /** Which libzstd build decodes: default native when it loads, else WebAssembly. */
  engine?: ZstdEngine | undefined;
}

/** "the index expects", or what else gave a frame's decoded length ("the seek table says"). */
export function sizeSays(sizeFrom: string | undefined): string {
  return sizeFrom === undefined ? 'the index expects' : `${sizeFrom} says`;
}

/** The engine `decodeZstdFrame` uses by default in this thread. */
export function defaultZstdEngine(): ZstdEngine {
  return nativeZstd() === null ? 'wasm' : 'native';
}

/** Decodes one frame and returns exactly `expectedLength` verified bytes; CORRUPT_DATA / TRUNCATED otherwise. */
export async function decodeZstdFrame(task: ZstdFrameTask): Promise<Uint8Array> {
  const { data, expectedLength, file, offset } = task;
  const corrupt = (why: string, cause?: unknown): SeekdataError =>
    new SeekdataError('CORRUPT_DATA', `${file}: zstd frame at byte ${offset}: ${why}`, { file, compressedOffset: offset, cause });
  const layout = frameLayout(data, 0, file, offset);
  if (layout.frameSize !== data.length) {
    throw corrupt(`the frame ends after ${layout.frameSize} bytes but its unit spans ${data.length} (file changed or index damaged?)`);
  }
  if (layout.contentSize >= 0 && layout.contentSize !== expectedLength) {
    throw corrupt(`its header declares ${layout.contentSize} decoded bytes, ${task.sizeFrom ?? 'the index'} ${expectedLength}`);
  }
  checkWindow(layout.windowSize, file, offset);
  const engine = task.engine ?? defaultZstdEngine();
  let out: Uint8Array;
  // The native decoder grows its output until the frame ends: only a frame whose header states its size
  // (libzstd then refuses more) goes there. One that does not (its size from a seek table or an index,
  // which may lie: a bomb) is decoded into a buffer of the expected length, stopping past it.
  if (engine === 'native' && layout.contentSize >= 0) {
    const native = nativeZstd();
    if (native === null) throw new SeekdataError('UNSUPPORTED_FORMAT', `${file}: the native zstd decoder (@mongodb-js/zstd) does not load here`);
    try {
      out = await native.decompress(asBuffer(data));
    } catch (error) {
      throw corrupt(`${error instanceof Error ? error.message : String(error)} (corrupt data)`, error);
    }
  } else {
    out = await decodeWasm(data, expectedLength, file, offset);
  }
  if (out.length !== expectedLength) throw corrupt(`it decodes to ${out.length} bytes, ${sizeSays(task.sizeFrom)} ${expectedLength}`);
  if (task.tableChecksum !== undefined) {
    // A frame with its own checksum was verified by libzstd against it: comparing the stored value is enough.
    let sum: number;
    if (layout.hasChecksum) {
      sum = u32le(data, data.length - 4);
    } else {
      await xxh64Ready();
      sum = xxh64Low32(out);
    }
    if (sum !== task.tableChecksum) throw corrupt('its decoded bytes do not match the seek-table checksum (corrupt data)');
  }
  return out;
}

async function decodeWasm(data: Uint8Array, expectedLength: number, file: string, offset: number): Promise<Uint8Array> {
  await wasmZstdReady();
  const out = new Uint8Array(expectedLength);
  const decoder = new WasmFrameDecoder(file, offset);
  let filled = 0;
  try {
    decoder.push(data);
    decoder.end();
    for (let piece = decoder.step(); piece !== null; piece = decoder.step()) {
      if (filled + piece.length > expectedLength) {
        throw new SeekdataError('CORRUPT_DATA', `${file}: zstd frame at byte ${offset}: it decodes to more than the ${expectedLength} bytes expected`, {
          file,
          compressedOffset: offset,
        });
      }
      out.set(piece, filled);
      filled += piece.length;
    }
  } finally {
    decoder.dispose();
  }
  return filled === expectedLength ? out : out.subarray(0, filled);
}
