/**
 * Writing xz for `recompress --format xz`: ONE stream of many blocks (xz file format 1.0.4, §2-4), as
 * `xz -T2` or `xz --block-size` write it, so `xz -l` lists every block and seekdata's reader (and any
 * indexed xz reader: python-xz, pixz, xz's own --single-stream seeking) finds them from the index:
 *
 *   stream header (12) | block* | index | stream footer (12)
 *   block = header (sizes in it) | raw LZMA2 data | zero padding to 4 | CRC64 of the block's input (8)
 *
 * `xzBlock` is pure and synchronous (it runs in worker threads, one block per job); the stream header
 * and the index + footer are written by the caller once, around the blocks, in order.
 */
import { crc32 } from '../xz/container.js';
import { crc64 } from './crc64.js';
import { blockDictionary, encodeLzma2, LZMA2_FILTER_ID, presetOptions } from './lzma2.js';

const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];
/** Check ID CRC64 and its size. */
const CHECK_CRC64 = 0x04;
const CHECK_BYTES = 8;

export interface XzBlockOut {
  /** The stored block: header, data, padding and check. */
  block: Uint8Array;
  /** Header + compressed data + check, as the index records it. */
  unpaddedSize: number;
}

export interface XzIndexRecord {
  unpaddedSize: number;
  uncompressedSize: number;
}

function vli(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function u32le(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function withCrc32(body: number[]): Uint8Array {
  return Uint8Array.from([...body, ...u32le(crc32(Uint8Array.from(body)))]);
}

/** Stream header: magic, stream flags (check CRC64), CRC32 of the flags. */
export function xzStreamHeader(): Uint8Array {
  const flags = [0x00, CHECK_CRC64];
  return Uint8Array.from([...MAGIC, ...flags, ...u32le(crc32(Uint8Array.from(flags)))]);
}

/**
 * Block header with both optional sizes (flags 0xC0: one filter, compressed and uncompressed size
 * present) and the LZMA2 filter with its dictionary property byte; padded to a multiple of 4, then CRC32.
 */
function blockHeader(compressedSize: number, uncompressedSize: number, dictProperty: number): Uint8Array {
  const body: number[] = [0, 0xc0];
  vli(body, compressedSize);
  vli(body, uncompressedSize);
  body.push(LZMA2_FILTER_ID, 1, dictProperty);
  while ((body.length + 4) % 4 !== 0) body.push(0);
  body[0] = (body.length + 4) / 4 - 1;
  return withCrc32(body);
}

/** One xz block holding `chunk` (at least 1 byte), LZMA2 at preset `level` (0-9), CRC64 check. */
export function xzBlock(chunk: Uint8Array, level: number): XzBlockOut {
  const dict = blockDictionary(chunk.length, level);
  const data = encodeLzma2(chunk, presetOptions(level, dict.dictSize));
  const header = blockHeader(data.length, chunk.length, dict.property);
  const unpaddedSize = header.length + data.length + CHECK_BYTES;
  const padding = (4 - (data.length % 4)) % 4;
  const block = new Uint8Array(header.length + data.length + padding + CHECK_BYTES);
  block.set(header, 0);
  block.set(data, header.length);
  block.set(crc64(chunk), header.length + data.length + padding);
  return { block, unpaddedSize };
}

/** The index (one record per block) and the stream footer that end the stream. */
export function xzIndexAndFooter(records: readonly XzIndexRecord[]): Uint8Array {
  const index: number[] = [0x00];
  vli(index, records.length);
  for (const r of records) {
    vli(index, r.unpaddedSize);
    vli(index, r.uncompressedSize);
  }
  while (index.length % 4 !== 0) index.push(0);
  const indexBytes = withCrc32(index);
  // Footer: CRC32 of (backward size, stream flags), then those 6 bytes, then the magic "YZ".
  const body = [...u32le(indexBytes.length / 4 - 1), 0x00, CHECK_CRC64];
  const footer = [...u32le(crc32(Uint8Array.from(body))), ...body, ...FOOTER_MAGIC];
  const out = new Uint8Array(indexBytes.length + footer.length);
  out.set(indexBytes, 0);
  out.set(footer, indexBytes.length);
  return out;
}
