/**
 * The .xz container, parsed from the end as python-xz does: stream footer → index → block records,
 * skipping stream padding, repeated for every concatenated stream. Only headers, footers and indexes are
 * read here; block contents are verified when a block is decoded (see block.ts).
 */
import lzma from 'lzma-native';
import { SeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';

export const XZ_HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
export const XZ_FOOTER_MAGIC = [0x59, 0x5a];
/** Check IDs the format defines today: None, CRC32, CRC64, SHA-256. */
const CHECK_SIZES: ReadonlyMap<number, number> = new Map([
  [0x00, 0],
  [0x01, 4],
  [0x04, 8],
  [0x0a, 32],
]);

export interface XzBlockRecord {
  /** Byte offset of the block header in the file. */
  offset: number;
  /** Unpadded size (header + compressed data + check), as the index records it. */
  unpaddedSize: number;
  uncompressedSize: number;
  /** Check ID of the stream the block belongs to. */
  checkType: number;
}

export function crc32(bytes: Uint8Array): number {
  return lzma.crc32(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) >>> 0;
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

export function checkSize(checkType: number): number {
  return CHECK_SIZES.get(checkType) ?? 0;
}

/**
 * Parses stream flags (2 bytes). Returns the check ID. Reserved bits or an unknown check ID make the
 * stream unsupported (a later version of the format), as the specification says.
 */
function parseStreamFlags(file: string, bytes: Uint8Array, at: number, place: number): number {
  if (bytes[at] !== 0 || (bytes[at + 1] & 0xf0) !== 0) {
    throw new SeekdataError('UNSUPPORTED_FORMAT', `${file}: xz stream flags at byte ${place} use reserved bits (newer xz format?)`, {
      file,
      compressedOffset: place,
    });
  }
  const check = bytes[at + 1] & 0x0f;
  if (!CHECK_SIZES.has(check)) {
    throw new SeekdataError('UNSUPPORTED_FORMAT', `${file}: xz stream at byte ${place} uses unsupported check type 0x${check.toString(16).padStart(2, '0')}`, {
      file,
      compressedOffset: place,
    });
  }
  return check;
}

/** A reader of xz variable-length integers over a byte array, with bounds and encoding checks. */
export class VliReader {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly fail: (what: string) => SeekdataError,
  ) {
    this.pos = start;
  }
  read(what: string): number {
    let value = 0;
    for (let i = 0; i < 9; i++) {
      if (this.pos >= this.bytes.length) throw this.fail(`${what} runs past its field`);
      const byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw this.fail(`${what} is not minimally encoded`);
        if (!Number.isSafeInteger(value)) throw this.fail(`${what} is too large (${value})`);
        return value;
      }
    }
    throw this.fail(`${what} is longer than 9 bytes`);
  }
}

/** Parses the whole file's streams. Returns block records in file order. */
export async function parseXzContainer(source: ByteSource): Promise<XzBlockRecord[]> {
  const file = source.name;
  const corrupt = (message: string, at: number): SeekdataError =>
    new SeekdataError('CORRUPT_DATA', `${file}: ${message} at byte ${at}`, { file, compressedOffset: at });
  const streams: XzBlockRecord[][] = [];
  let end = source.size;
  let sawStream = false;
  while (end > 0) {
    // Stream padding: zero bytes, a multiple of four, between and after streams.
    let padEnd = end;
    while (end >= 4) {
      const tail = await source.read(end - 4, 4);
      if (readU32(tail, 0) !== 0) break;
      end -= 4;
    }
    if (end === 0) {
      if (!sawStream) throw corrupt('xz file holds only padding', 0);
      break;
    }
    if (end < 24) {
      throw new SeekdataError('TRUNCATED', `${file}: xz stream too short (${end} bytes before byte ${padEnd})`, {
        file,
        compressedOffset: 0,
      });
    }
    padEnd = end;
    const footerAt = end - 12;
    const footer = await source.read(footerAt, 12);
    if (footer[10] !== XZ_FOOTER_MAGIC[0] || footer[11] !== XZ_FOOTER_MAGIC[1]) {
      // A file cut short and zeros that are not a multiple of four both end up here: padding is zeros
      // right after a footer's magic.
      let zeros = 0;
      while (zeros < 3 && footer[11 - zeros] === 0) zeros++;
      const badPadding = zeros > 0 && footer[10 - zeros] === XZ_FOOTER_MAGIC[0] && footer[11 - zeros] === XZ_FOOTER_MAGIC[1];
      throw new SeekdataError(
        badPadding ? 'CORRUPT_DATA' : 'TRUNCATED',
        `${file}: no xz stream footer at byte ${footerAt} (${badPadding ? 'stream padding is not a multiple of 4 bytes' : 'file truncated?'})`,
        { file, compressedOffset: footerAt },
      );
    }
    if (crc32(footer.subarray(4, 10)) !== readU32(footer, 0)) throw corrupt('xz stream footer CRC32 mismatch', footerAt);
    const backwardSize = (readU32(footer, 4) + 1) * 4;
    const indexAt = footerAt - backwardSize;
    if (indexAt < 12) throw corrupt(`xz backward size ${backwardSize} points before the stream header`, footerAt + 4);
    const index = await source.read(indexAt, backwardSize);
    const records = parseIndex(file, index, indexAt);
    let blocksSize = 0;
    for (const r of records) blocksSize += padded4(r.unpaddedSize);
    const headerAt = indexAt - blocksSize - 12;
    if (headerAt < 0) throw corrupt('xz index describes more block data than the file holds', indexAt);
    const header = await source.read(headerAt, 12);
    for (let i = 0; i < 6; i++) {
      if (header[i] !== XZ_HEADER_MAGIC[i]) throw corrupt('no xz stream header where the index says the stream starts', headerAt);
    }
    if (crc32(header.subarray(6, 8)) !== readU32(header, 8)) throw corrupt('xz stream header CRC32 mismatch', headerAt + 8);
    if (header[6] !== footer[8] || header[7] !== footer[9]) throw corrupt('xz stream header and footer flags differ', headerAt + 6);
    const checkType = parseStreamFlags(file, header, 6, headerAt + 6);
    let at = headerAt + 12;
    const blocks: XzBlockRecord[] = [];
    for (const r of records) {
      blocks.push({ offset: at, unpaddedSize: r.unpaddedSize, uncompressedSize: r.uncompressedSize, checkType });
      at += padded4(r.unpaddedSize);
    }
    streams.push(blocks);
    sawStream = true;
    end = headerAt;
    if (end > 0 && end % 4 !== 0) throw corrupt('xz stream padding is not a multiple of 4 bytes', end);
  }
  const all = streams.reverse().flat();
  let total = 0;
  for (const b of all) {
    total += b.uncompressedSize;
    if (!Number.isSafeInteger(total)) throw corrupt('xz uncompressed sizes overflow', b.offset);
  }
  return all;
}

export function padded4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function parseIndex(file: string, index: Uint8Array, indexAt: number): Array<{ unpaddedSize: number; uncompressedSize: number }> {
  const fail = (what: string): SeekdataError =>
    new SeekdataError('CORRUPT_DATA', `${file}: corrupt xz index at byte ${indexAt}: ${what}`, { file, compressedOffset: indexAt });
  if (index[0] !== 0x00) throw fail('missing index indicator');
  const crcAt = index.length - 4;
  if (crc32(index.subarray(0, crcAt)) !== readU32(index, crcAt)) throw fail('CRC32 mismatch');
  const vli = new VliReader(index.subarray(0, crcAt), 1, fail);
  const count = vli.read('number of records');
  // Each record takes at least two bytes: a count that cannot fit is corrupt, not a reason to allocate.
  if (count * 2 > crcAt) throw fail(`number of records ${count} does not fit in the index`);
  const records: Array<{ unpaddedSize: number; uncompressedSize: number }> = [];
  for (let i = 0; i < count; i++) {
    const unpaddedSize = vli.read(`unpadded size of record ${i}`);
    const uncompressedSize = vli.read(`uncompressed size of record ${i}`);
    if (unpaddedSize < 5) throw fail(`unpadded size ${unpaddedSize} of record ${i} is invalid`);
    records.push({ unpaddedSize, uncompressedSize });
  }
  if (padded4(vli.pos) !== crcAt) throw fail('index size does not match the backward size');
  for (let pos = vli.pos; pos < crcAt; pos++) if (index[pos] !== 0) throw fail('non-zero byte in index padding');
  return records;
}

/** Reads and checks the block header, returning its size and the sizes it declares. */
export function parseBlockHeader(
  file: string,
  bytes: Uint8Array,
  at: number,
): { headerSize: number; compressedSize: number | undefined; uncompressedSize: number | undefined } {
  const fail = (what: string): SeekdataError =>
    new SeekdataError('CORRUPT_DATA', `${file}: corrupt xz block header at byte ${at}: ${what}`, { file, compressedOffset: at });
  if (bytes.length < 1 || bytes[0] === 0) throw fail('missing block header');
  const headerSize = (bytes[0] + 1) * 4;
  if (bytes.length < headerSize) throw fail('header runs past the block');
  if (crc32(bytes.subarray(0, headerSize - 4)) !== readU32(bytes, headerSize - 4)) throw fail('CRC32 mismatch');
  const flags = bytes[1];
  if ((flags & 0x3c) !== 0) {
    throw new SeekdataError('UNSUPPORTED_FORMAT', `${file}: xz block header at byte ${at} uses reserved flags`, { file, compressedOffset: at });
  }
  const vli = new VliReader(bytes.subarray(0, headerSize - 4), 2, fail);
  const compressedSize = (flags & 0x40) !== 0 ? vli.read('compressed size') : undefined;
  const uncompressedSize = (flags & 0x80) !== 0 ? vli.read('uncompressed size') : undefined;
  if (compressedSize === 0) throw fail('compressed size is zero');
  return { headerSize, compressedSize, uncompressedSize };
}
