/**
 * A synthetic single-block xz stream around one stored block (the python-xz technique): stream header,
 * the block as stored, a one-record index and the stream footer. Any conforming xz decoder given this
 * stream checks the block header, the block's integrity check (CRC32 / CRC64 / SHA-256) and that the
 * block's sizes agree with the index; buffer-only decoders (@napi-rs/lzma, node-liblzma) need the whole
 * stream in one array, which `syntheticXzStream` builds with a single copy of the block.
 *
 * block.ts's streaming decoder feeds the same header and index + footer around a block it streams.
 */
import { crc32, XZ_FOOTER_MAGIC, XZ_HEADER_MAGIC } from './container.js';
import type { XzBlockMeta } from './block.js';

function writeVli(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

/** Stream header (12 bytes) for a stream whose blocks use `checkType`. */
export function xzStreamHeader(checkType: number): Uint8Array {
  const flags = [0x00, checkType];
  return Uint8Array.from([...XZ_HEADER_MAGIC, ...flags, ...u32(crc32(Uint8Array.from(flags)))]);
}

/** One-record index and stream footer for the block described by `meta`. */
export function xzIndexAndFooter(meta: Pick<XzBlockMeta, 'unpaddedSize' | 'uncompressedSize' | 'checkType'>): Uint8Array {
  const index: number[] = [0x00];
  writeVli(index, 1);
  writeVli(index, meta.unpaddedSize);
  writeVli(index, meta.uncompressedSize);
  while (index.length % 4 !== 0) index.push(0);
  index.push(...u32(crc32(Uint8Array.from(index))));
  const footerBody = [...u32(index.length / 4 - 1), 0x00, meta.checkType];
  const footer = [...u32(crc32(Uint8Array.from(footerBody))), ...footerBody, ...XZ_FOOTER_MAGIC];
  return Uint8Array.from([...index, ...footer]);
}

/** Streams up to this size are built in the thread's scratch buffer (`scratch`), larger ones in an array of their own. */
export const SYNTHETIC_MAX_BYTES = 8 << 20;
let scratchBuffer = new Uint8Array(0);

/**
 * The whole synthetic stream around `block` (the stored block: header, data, padding, check). With
 * `scratch`, the stream is built in this thread's scratch buffer and is valid only until the next call: for
 * a decoder that reads it synchronously (a new array per block was a third of a decode job's allocations,
 * each collected later).
 */
export function syntheticXzStream(block: Uint8Array, meta: Pick<XzBlockMeta, 'unpaddedSize' | 'uncompressedSize' | 'checkType'>, scratch = false): Uint8Array {
  const head = xzStreamHeader(meta.checkType);
  const tail = xzIndexAndFooter(meta);
  const size = head.length + block.length + tail.length;
  let out: Uint8Array;
  if (scratch && size <= SYNTHETIC_MAX_BYTES) {
    if (scratchBuffer.length < size) scratchBuffer = new Uint8Array(Math.min(SYNTHETIC_MAX_BYTES, Math.max(size, scratchBuffer.length * 2)));
    out = scratchBuffer.subarray(0, size);
  } else out = new Uint8Array(size);
  out.set(head, 0);
  out.set(block, head.length);
  out.set(tail, head.length + block.length);
  return out;
}
