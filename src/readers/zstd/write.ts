/**
 * Writing the zstd seekable format: input chunks compressed into independent frames, then the seek table
 * (see `seekable.ts`). Any zstd decoder reads the result as ordinary concatenated frames.
 *
 * The compressor (@mongodb-js/zstd) writes frames with neither a checksum nor a content size. Both are
 * added here, which the format allows without recompressing: the frame header is not checksummed, so its
 * descriptor gains the checksum flag and a 4- or 8-byte content-size field, and the low 32 bits of XXH64
 * of the chunk are appended after the last block. The same checksum goes into the seek table.
 */
import { invalidOption } from '../../errors.js';
import { frameLayout } from './container.js';
import { asBuffer, nativeLoadError, nativeZstd } from './native.js';
import { SEEKABLE_MAX_FRAME_BYTES, seekTableFrame, type SeekTableEntry } from './seekable.js';
import { xxh64Low32, xxh64Ready } from './xxh64.js';

export interface SeekableFrame {
  frame: Uint8Array;
  decompressedSize: number;
  /** Low 32 bits of XXH64 of the chunk, as stored in the frame and in the seek table. */
  checksum: number;
}

/** Compresses one chunk into one frame with a content size and a checksum. Runs inline or in a worker. */
export async function compressSeekableFrame(chunk: Uint8Array, level = 3): Promise<SeekableFrame> {
  checkLevel(level);
  if (chunk.length === 0 || chunk.length > SEEKABLE_MAX_FRAME_BYTES) {
    throw new RangeError(`a seekable frame holds 1 to ${SEEKABLE_MAX_FRAME_BYTES} bytes, got ${chunk.length}`);
  }
  const native = nativeZstd();
  if (native === null) throw new Error('zstd compression needs @mongodb-js/zstd, which does not load here', { cause: nativeLoadError() });
  await xxh64Ready();
  const compressed = await native.compress(asBuffer(chunk), level);
  const checksum = xxh64Low32(chunk);
  return { frame: withSizeAndChecksum(compressed, chunk.length, checksum), decompressedSize: chunk.length, checksum };
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 1 || level > 22) throw invalidOption('level', 'an integer from 1 to 22', level);
}

/** The frame with a content-size field and a checksum added when it lacks them. */
export function withSizeAndChecksum(frame: Uint8Array, contentSize: number, checksum: number): Uint8Array {
  const layout = frameLayout(frame, 0, '<compressor output>', 0);
  if (layout.frameSize !== frame.length) throw new Error(`zstd compressor wrote ${frame.length} bytes for a frame of ${layout.frameSize}`);
  if (layout.contentSize >= 0 && layout.contentSize !== contentSize) throw new Error(`zstd compressor declared ${layout.contentSize} bytes for ${contentSize}`);
  const fhd = frame[4];
  const addSize = layout.contentSize < 0;
  const sizeBytes = addSize ? (contentSize <= 0xffffffff ? 4 : 8) : 0;
  const sumBytes = layout.hasChecksum ? 0 : 4;
  const out = new Uint8Array(frame.length + sizeBytes + sumBytes);
  const view = new DataView(out.buffer);
  // Magic, descriptor, window descriptor and dictionary id stay where they are; the content size follows them.
  out.set(frame.subarray(0, layout.headerSize), 0);
  out[4] = (addSize ? (fhd & 0x3f) | ((sizeBytes === 4 ? 2 : 3) << 6) : fhd) | 0x04;
  if (sizeBytes === 4) view.setUint32(layout.headerSize, contentSize, true);
  if (sizeBytes === 8) view.setBigUint64(layout.headerSize, BigInt(contentSize), true);
  out.set(frame.subarray(layout.headerSize), layout.headerSize + sizeBytes);
  if (sumBytes > 0) view.setUint32(out.length - 4, checksum, true);
  return out;
}

export interface SeekableWriteOptions {
  /** Decoded bytes per frame. Default 1 MiB; at most 1 GiB (the format's limit). */
  frameBytes?: number;
  /** zstd compression level, 1 to 22. Default 3. */
  level?: number;
}

export interface SeekableWriteResult {
  frames: number;
  compressedBytes: number;
  decompressedBytes: number;
}

/**
 * Compresses `input` into the seekable format, handing each piece of output to `write` in order. One
 * frame at a time in the calling thread; `recompress` runs `compressSeekableFrame` in the pool instead.
 */
export async function writeZstdSeekable(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  write: (bytes: Uint8Array) => Promise<void> | void,
  options: SeekableWriteOptions = {},
): Promise<SeekableWriteResult> {
  const frameBytes = options.frameBytes ?? 1 << 20;
  const level = options.level ?? 3;
  if (!Number.isSafeInteger(frameBytes) || frameBytes < 1 || frameBytes > SEEKABLE_MAX_FRAME_BYTES) {
    throw invalidOption('frameBytes', `an integer from 1 to ${SEEKABLE_MAX_FRAME_BYTES}`, frameBytes);
  }
  checkLevel(level);
  const entries: SeekTableEntry[] = [];
  let compressedBytes = 0;
  let decompressedBytes = 0;
  const pending = new Uint8Array(frameBytes);
  let filled = 0;
  const flush = async (): Promise<void> => {
    if (filled === 0) return;
    const { frame, checksum } = await compressSeekableFrame(pending.subarray(0, filled), level);
    await write(frame);
    entries.push({ compressedSize: frame.length, decompressedSize: filled, checksum });
    compressedBytes += frame.length;
    decompressedBytes += filled;
    filled = 0;
  };
  for await (const chunk of input) {
    let used = 0;
    while (used < chunk.length) {
      const take = Math.min(chunk.length - used, frameBytes - filled);
      pending.set(chunk.subarray(used, used + take), filled);
      filled += take;
      used += take;
      if (filled === frameBytes) await flush();
    }
  }
  await flush();
  const table = seekTableFrame(entries);
  await write(table);
  return { frames: entries.length, compressedBytes: compressedBytes + table.length, decompressedBytes };
}
