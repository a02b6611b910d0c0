/**
 * The gzip member header and trailer (RFC 1952), and the BGZF `BC` extra subfield (SAM/BAM spec 4.1):
 * parsed from bytes, no decoding. Shared by the BGZF walk, the sequential pass and the member writer.
 *
 *   +---+---+---+---+---+---+---+---+---+---+
 *   |ID1|ID2|CM |FLG|     MTIME     |XFL|OS |   ID1 ID2 = 1f 8b, CM = 8 (deflate)
 *   +---+---+---+---+---+---+---+---+---+---+
 *   FEXTRA: XLEN (2 bytes LE) + XLEN bytes of subfields (SI1 SI2 LEN(2) data)
 *   FNAME, FCOMMENT: zero-terminated strings;  FHCRC: low 16 bits of the CRC-32 of the header before it
 *   ... deflate data ...  then the trailer: CRC32 (4 bytes LE) ISIZE (4 bytes LE, length mod 2^32)
 */
import { SeekdataError, type SeekdataErrorCode } from '../../errors.js';
import { crc32 } from './crc.js';

export const FHCRC = 0x02;
export const FEXTRA = 0x04;
export const FNAME = 0x08;
export const FCOMMENT = 0x10;
const RESERVED_FLAGS = 0xe0;

/** Bytes in the trailer after the deflate data. */
export const TRAILER_BYTES = 8;

/** The longest header accepted (a file name or comment beyond this is treated as damage, not waited for). */
export const MAX_HEADER_BYTES = 1 << 20;

export interface GzipHeader {
  /** Header length in bytes: the deflate data starts at the member's offset + length. */
  length: number;
  flags: number;
  /**
   * The whole member's size in bytes (BGZF `BSIZE` + 1) when the extra field holds a `BC` subfield,
   * else undefined.
   */
  bgzfSize: number | undefined;
}

export function gzipError(code: SeekdataErrorCode, file: string, compressedOffset: number, what: string, cause?: unknown): SeekdataError {
  return new SeekdataError(code, `${file}: ${what} (gzip, at compressed byte ${compressedOffset})`, {
    file,
    compressedOffset,
    ...(cause === undefined ? {} : { cause }),
  });
}

export const readU16 = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8);
export const readU32 = (b: Uint8Array, i: number): number => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

/** True when `bytes` starts with the gzip magic and the deflate method byte. */
export function isGzipMagic(bytes: Uint8Array, at = 0): boolean {
  return bytes.length >= at + 3 && bytes[at] === 0x1f && bytes[at + 1] === 0x8b && bytes[at + 2] === 8;
}

/** BSIZE + 1 from a `BC` subfield of an extra field, or undefined when there is none. */
function bgzfSizeOf(extra: Uint8Array): number | undefined {
  let i = 0;
  while (i + 4 <= extra.length) {
    const len = readU16(extra, i + 2);
    if (i + 4 + len > extra.length) return undefined; // malformed subfields: not BGZF
    if (extra[i] === 0x42 && extra[i + 1] === 0x43 && len === 2) return readU16(extra, i + 4) + 1;
    i += 4 + len;
  }
  return undefined;
}

function zeroTerminated(bytes: Uint8Array, from: number): number {
  const end = bytes.indexOf(0, from);
  return end < 0 ? -1 : end + 1;
}

/**
 * Parses the member header at the start of `bytes` (`offset` is where that is in the file, for
 * messages). Returns undefined when `bytes` ends inside the header (the caller supplies more, or reports
 * truncation at the end of the file). Throws CORRUPT_DATA for a bad magic, reserved flags or a wrong
 * header CRC, and UNSUPPORTED_FORMAT for a compression method other than deflate.
 */
export function parseGzipHeader(bytes: Uint8Array, file: string, offset: number): GzipHeader | undefined {
  if (bytes.length >= 1 && bytes[0] !== 0x1f) throw gzipError('CORRUPT_DATA', file, offset, 'not a gzip member header (bad magic)');
  if (bytes.length >= 2 && bytes[1] !== 0x8b) throw gzipError('CORRUPT_DATA', file, offset, 'not a gzip member header (bad magic)');
  if (bytes.length >= 3 && bytes[2] !== 8) {
    throw gzipError('UNSUPPORTED_FORMAT', file, offset + 2, `gzip compression method ${bytes[2]} (only 8, deflate, exists)`);
  }
  if (bytes.length < 10) return undefined;
  const flags = bytes[3];
  if ((flags & RESERVED_FLAGS) !== 0) throw gzipError('CORRUPT_DATA', file, offset + 3, `gzip header has reserved flags 0x${flags.toString(16)}`);
  let p = 10;
  let bgzfSize: number | undefined;
  if (flags & FEXTRA) {
    if (bytes.length < p + 2) return undefined;
    const xlen = readU16(bytes, p);
    if (bytes.length < p + 2 + xlen) return undefined;
    bgzfSize = bgzfSizeOf(bytes.subarray(p + 2, p + 2 + xlen));
    p += 2 + xlen;
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const end = zeroTerminated(bytes, p);
    if (end < 0) {
      if (bytes.length > MAX_HEADER_BYTES) throw gzipError('CORRUPT_DATA', file, offset, `gzip header longer than ${MAX_HEADER_BYTES} bytes`);
      return undefined;
    }
    p = end;
  }
  if (flags & FHCRC) {
    if (bytes.length < p + 2) return undefined;
    if ((crc32(bytes.subarray(0, p)) & 0xffff) !== readU16(bytes, p)) throw gzipError('CORRUPT_DATA', file, offset + p, 'gzip header CRC mismatch');
    p += 2;
  }
  return { length: p, flags, bgzfSize };
}
