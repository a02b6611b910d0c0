/**
 * The zstd seekable format (zstd's contrib/seekable_format, also written by t2sz): the data frames are
 * followed by one skippable frame (magic 0x184D2A5E) holding a seek table, whose 9-byte footer ends the
 * file with the magic 0x8F92EAB1:
 *
 *   0x184D2A5E | Frame_Size (4) | entries: Compressed_Size (4), Decompressed_Size (4), [Checksum (4)]
 *   | Number_Of_Frames (4) | Seek_Table_Descriptor (1: bit 7 checksums, bits 6-2 reserved = 0) | 0x8F92EAB1
 *
 * All numbers little-endian. Entries cover every frame before the table, skippable ones included (with a
 * decompressed size of 0), so the compressed sizes add up to the table's offset. Checksums are the low
 * 32 bits of XXH64 of a frame's decoded bytes.
 */
import { SeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import { u32le } from './container.js';

export const SEEK_TABLE_MAGIC = 0x184d2a5e;
export const SEEKABLE_FOOTER_MAGIC = 0x8f92eab1;
const FOOTER_BYTES = 9;
/** The reference implementation's limits (ZSTD_SEEKABLE_MAXFRAMES, ZSTD_SEEKABLE_MAX_FRAME_DECOMPRESSED_SIZE). */
export const SEEKABLE_MAX_FRAMES = 0x8000000;
export const SEEKABLE_MAX_FRAME_BYTES = 0x40000000;

export interface SeekTable {
  /** Byte offset of the seek-table skippable frame (= the sum of the entries' compressed sizes). */
  offset: number;
  count: number;
  compressedSize: Uint32Array;
  decompressedSize: Uint32Array;
  /** Present when the descriptor's checksum flag is set. */
  checksum: Uint32Array | undefined;
}

/**
 * Reads the seek table at the end of `source`: null when the file does not end with the seekable footer
 * magic; CORRUPT_DATA / UNSUPPORTED_FORMAT when it does but the table is malformed.
 */
export async function readSeekTable(source: ByteSource): Promise<SeekTable | null> {
  const file = source.name;
  if (source.size < FOOTER_BYTES + 8) return null;
  const footerAt = source.size - FOOTER_BYTES;
  const footer = await source.read(footerAt, FOOTER_BYTES);
  if (u32le(footer, 5) !== SEEKABLE_FOOTER_MAGIC) return null;
  const bad = (why: string, at: number): SeekdataError =>
    new SeekdataError('CORRUPT_DATA', `${file}: zstd seek table at byte ${at}: ${why}`, { file, compressedOffset: at });
  const count = u32le(footer, 0);
  const descriptor = footer[4];
  if ((descriptor & 0x7c) !== 0) {
    throw new SeekdataError('UNSUPPORTED_FORMAT', `${file}: zstd seek table at byte ${footerAt} sets reserved descriptor bits (0x${descriptor.toString(16)})`, {
      file,
      compressedOffset: footerAt,
    });
  }
  const withChecksum = (descriptor & 0x80) !== 0;
  const entryBytes = withChecksum ? 12 : 8;
  const tableBytes = 8 + count * entryBytes + FOOTER_BYTES;
  if (count > SEEKABLE_MAX_FRAMES || tableBytes > source.size) throw bad(`${count} entries do not fit in the file`, footerAt);
  const offset = source.size - tableBytes;
  const table = await source.read(offset, tableBytes);
  if (u32le(table, 0) !== SEEK_TABLE_MAGIC) throw bad(`expected the skippable magic 0x184D2A5E for ${count} entries`, offset);
  if (u32le(table, 4) !== tableBytes - 8) throw bad(`frame size ${u32le(table, 4)} does not match ${count} entries`, offset);
  const compressedSize = new Uint32Array(count);
  const decompressedSize = new Uint32Array(count);
  const checksum = withChecksum ? new Uint32Array(count) : undefined;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const at = 8 + i * entryBytes;
    compressedSize[i] = u32le(table, at);
    decompressedSize[i] = u32le(table, at + 4);
    if (checksum !== undefined) checksum[i] = u32le(table, at + 8);
    sum += compressedSize[i];
  }
  if (sum !== offset) throw bad(`its entries add up to ${sum} compressed bytes, but the table starts at byte ${offset}`, offset);
  return { offset, count, compressedSize, decompressedSize, checksum };
}

export interface SeekTableEntry {
  compressedSize: number;
  decompressedSize: number;
  /** Low 32 bits of XXH64 of the frame's decoded bytes. */
  checksum: number;
}

/** The seek-table skippable frame for `entries` (with checksums unless `withChecksums` is false). */
export function seekTableFrame(entries: readonly SeekTableEntry[], withChecksums = true): Uint8Array {
  if (entries.length > SEEKABLE_MAX_FRAMES) throw new RangeError(`a seek table holds at most ${SEEKABLE_MAX_FRAMES} frames, got ${entries.length}`);
  const entryBytes = withChecksums ? 12 : 8;
  const out = new Uint8Array(8 + entries.length * entryBytes + FOOTER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, SEEK_TABLE_MAGIC, true);
  view.setUint32(4, out.length - 8, true);
  entries.forEach((e, i) => {
    if (!isU32(e.compressedSize) || !isU32(e.decompressedSize) || (withChecksums && !isU32(e.checksum))) {
      throw new RangeError(`seek table entry ${i} does not fit in 32-bit fields: ${JSON.stringify(e)}`);
    }
    const at = 8 + i * entryBytes;
    view.setUint32(at, e.compressedSize, true);
    view.setUint32(at + 4, e.decompressedSize, true);
    if (withChecksums) view.setUint32(at + 8, e.checksum, true);
  });
  const footer = out.length - FOOTER_BYTES;
  view.setUint32(footer, entries.length, true);
  out[footer + 4] = withChecksums ? 0x80 : 0;
  view.setUint32(footer + 5, SEEKABLE_FOOTER_MAGIC, true);
  return out;
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}
