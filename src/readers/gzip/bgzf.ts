/**
 * Units of a BGZF file (bgzip / htslib: every block is a gzip member of at most 64 KiB whose size is in
 * the `BC` extra subfield) found without decoding: walk member headers, jump by BSIZE + 1, read each
 * trailer's CRC32 and ISIZE, and group consecutive blocks into runs of about `unitBytes` decoded bytes.
 * The run's CRC is combined from the blocks' CRCs, so decoding a run verifies it as a whole as well as
 * block by block. Reads the file sequentially in large pieces.
 */
import zlib from 'node:zlib';
import type { ByteSource } from '../../sources/source.js';
import { crc32Combine } from './crc.js';
import { checkPositiveInteger, DEFAULT_READ_SIZE, reportTrailing, SourceCursor, trailingIsZeros, type GzipWarning } from './cursor.js';
import { gzipError, parseGzipHeader, readU32, TRAILER_BYTES } from './header.js';
import { GzipTableBuilder, KIND_MEMBERS, type GzipUnitTable } from './units.js';

export interface BgzfOptions {
  /** Decoded bytes per unit: consecutive blocks are grouped until a unit holds at least this much. Default 1 MiB. */
  unitBytes?: number;
  /** Bytes per read from the source. Default 4 MiB. */
  readSize?: number;
  /** Called for trailing zeros / garbage after the last block, and when the BGZF end-of-file block is missing. */
  onWarning?: (warning: GzipWarning) => void;
}

/** The 28-byte empty block bgzip writes at the end of a file (SAM/BAM spec 4.1.2). */
export const BGZF_EOF = Uint8Array.from([
  0x1f, 0x8b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x06, 0x00, 0x42, 0x43, 0x02, 0x00, 0x1b, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00,
]);

function isEofBlock(bytes: Uint8Array): boolean {
  if (bytes.length !== BGZF_EOF.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== BGZF_EOF[i]) return false;
  return true;
}

/**
 * The unit table of a BGZF file, or undefined when the file is not BGZF throughout (its first member,
 * or a later one, has no `BC` subfield): use `scanGzip` then. Throws TRUNCATED when a block runs past the
 * end of the file, and CORRUPT_DATA for a damaged header, an impossible block size, or a data block
 * followed by bytes that are neither a block nor zeros (trailing garbage is accepted, with a warning, only
 * after the end-of-file block). Damage inside a block is found when its unit is decoded.
 */
export async function discoverBgzf(source: ByteSource, options: BgzfOptions = {}): Promise<GzipUnitTable | undefined> {
  const unitBytes = checkPositiveInteger('unitBytes', options.unitBytes ?? 1 << 20);
  const cursor = new SourceCursor(source, checkPositiveInteger('readSize', options.readSize ?? DEFAULT_READ_SIZE));
  const file = source.name;
  const builder = new GzipTableBuilder();
  let run = { cStart: 0, cEnd: 0, dLength: 0, crc: 0, members: 0 };
  const flush = (): void => {
    builder.add({ ...run, kind: KIND_MEMBERS, window: new Uint8Array(0) });
    run = { cStart: 0, cEnd: 0, dLength: 0, crc: 0, members: 0 };
  };
  let pos = 0;
  let members = 0;
  let lastWasEof = false;
  while (pos < source.size) {
    // A BGZF block is at most 64 KiB: one view holds its header, data and trailer.
    const head = await cursor.at(pos, 1 << 16);
    const magic = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
    if (!magic) {
      if (members === 0) return undefined;
      // One last byte that is not zero: gzip reads it as the start of a member's magic ("unexpected end of file").
      if (head.length === 1 && head[0] !== 0) throw gzipError('TRUNCATED', file, pos, 'file ends inside a gzip member header');
      // After the end-of-file block, or zeros, this is padding gzip ignores. Anything else after a data
      // block means a damaged BSIZE pointed into the middle of the data: htslib fails there too.
      const zeros = await trailingIsZeros(cursor, pos);
      if (!zeros && !lastWasEof) throw gzipError('CORRUPT_DATA', file, pos, `the BGZF block before compressed byte ${pos} is not followed by another block (damaged BSIZE?)`);
      reportTrailing(source.size, pos, zeros, file, options.onWarning);
      break;
    }
    const header = parseGzipHeader(head, file, pos);
    if (header === undefined) {
      if (pos + head.length >= source.size) throw gzipError('TRUNCATED', file, source.size, `file ends inside the gzip header at compressed byte ${pos}`);
      return undefined; // a header longer than a whole BGZF block: not BGZF
    }
    if (header.bgzfSize === undefined) return undefined;
    const size = header.bgzfSize;
    if (size < header.length + 2 + TRAILER_BYTES) throw gzipError('CORRUPT_DATA', file, pos, `BGZF block size ${size} is too small for its header and trailer`);
    if (pos + size > source.size) throw gzipError('TRUNCATED', file, source.size, `the BGZF block at compressed byte ${pos} (${size} bytes) runs past the end of the file`);
    const block = head.subarray(0, size);
    const crc = readU32(block, size - 8);
    const isize = readU32(block, size - 4);
    if (run.members > 0 && run.dLength >= unitBytes && isize > 0) flush();
    if (run.members === 0) run.cStart = pos * 8;
    run.crc = crc32Combine(run.crc, crc, isize);
    run.dLength += isize;
    run.members++;
    run.cEnd = (pos + size) * 8;
    lastWasEof = isEofBlock(block);
    members++;
    pos += size;
  }
  if (run.members > 0) flush();
  if (!lastWasEof) {
    options.onWarning?.({
      code: 'BGZF_NO_EOF',
      message: `${file}: no BGZF end-of-file block after the last block (at compressed byte ${pos}): the file may be truncated`,
      file,
      compressedOffset: pos,
    });
  }
  return builder.build(true);
}

/** One BGZF block of a run: where it lies in the run's compressed bytes and in its decoded bytes. */
interface RunBlock {
  at: number;
  size: number;
  dStart: number;
  isize: number;
}

/** What `bgzfBlocksPart` needs of the run besides its compressed bytes. */
export interface BgzfRun {
  file: string;
  /** Compressed offset of the run (its first block) in the file. */
  offset: number;
  dLength: number;
  /** Blocks in the run, from the chunk map. */
  members: number;
}

/** The blocks of a run, from their headers and trailers; undefined when they do not agree with the chunk map. */
function runBlocks(data: Uint8Array, run: BgzfRun): RunBlock[] | undefined {
  const blocks: RunBlock[] = [];
  let at = 0;
  let d = 0;
  while (at < data.length) {
    const header = parseGzipHeader(data.subarray(at, Math.min(data.length, at + (1 << 16))), run.file, run.offset + at);
    const size = header?.bgzfSize;
    if (header === undefined || size === undefined || size < header.length + 2 + TRAILER_BYTES || at + size > data.length) return undefined;
    const isize = readU32(data, at + size - 4);
    blocks.push({ at, size, dStart: d, isize });
    d += isize;
    at += size;
  }
  return blocks.length === run.members && d === run.dLength ? blocks : undefined;
}

/**
 * Decoded bytes [at, at + bytes.length) ⊇ [from, to) of a BGZF run (its compressed bytes `data`), decoding only
 * the blocks that hold them — a BGZF block is a whole gzip member, verified by its own CRC-32 and ISIZE (zlib's
 * gunzip checks both) — as htslib's `bgzf_read` does. Undefined when those blocks are the whole run, or when the
 * run's headers and trailers do not agree with the chunk map (a whole decode then says how). CORRUPT_DATA when a
 * block the read needs is damaged.
 */
export function bgzfBlocksPart(data: Uint8Array, run: BgzfRun, from: number, to: number): { at: number; bytes: Uint8Array } | undefined {
  const blocks = runBlocks(data, run);
  if (blocks === undefined || from < 0 || to > run.dLength || from >= to) return undefined;
  let first = 0;
  while (first < blocks.length - 1 && blocks[first].dStart + blocks[first].isize <= from) first++;
  let last = first;
  while (last < blocks.length - 1 && blocks[last].dStart + blocks[last].isize < to) last++;
  if (first === 0 && last === blocks.length - 1) return undefined;
  const start = blocks[first].dStart;
  const end = blocks[last].dStart + blocks[last].isize;
  const out = new Uint8Array(end - start);
  for (let k = first; k <= last; k++) {
    const { at, size, dStart, isize } = blocks[k];
    let bytes: Uint8Array;
    try {
      bytes = zlib.gunzipSync(data.subarray(at, at + size), { chunkSize: Math.max(64, isize + 1), maxOutputLength: Math.max(1, isize) });
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw gzipError('CORRUPT_DATA', run.file, run.offset + at, `the BGZF block at compressed byte ${run.offset + at} is damaged: ${message}`, cause);
    }
    if (bytes.length !== isize) throw gzipError('CORRUPT_DATA', run.file, run.offset + at, `the BGZF block at compressed byte ${run.offset + at} decoded to ${bytes.length} bytes, its ISIZE says ${isize}`);
    out.set(bytes, dStart - start);
  }
  return { at: start, bytes: out };
}
