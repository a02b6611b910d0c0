/**
 * The formats `recompress` writes, each as the same three pieces: bytes before the first unit, one unit
 * compressed on its own (pure, runs in a worker), and bytes after the last unit built from what each
 * unit's compression reported. Every unit is independently decodable, and each format's readers find
 * the units without decoding:
 *
 * | format | a unit is | found by | trailer |
 * |---|---|---|---|
 * | gzip | BGZF blocks (gzip members of <= 0xff00 bytes, size in the `BC` extra field) | member headers | BGZF EOF block |
 * | zstd | one frame with content size and checksum | the seek table | seek table (skippable frame) |
 * | xz | one block with both sizes in its header, CRC64 | the stream index | index + stream footer |
 * | bzip2 | one complete stream | block magic (bzip2 stores no sizes) | none |
 */
import { SeekdataError } from '../../errors.js';
import { BGZF_EOF } from '../gzip/bgzf.js';
import { compressBgzf } from '../gzip/write.js';
import { SEEKABLE_MAX_FRAME_BYTES, seekTableFrame } from '../zstd/seekable.js';
import { compressSeekableFrame } from '../zstd/write.js';
import { bzip2Stream, emptyBzip2Stream } from './bzip2.js';
import { xzBlock, xzIndexAndFooter, xzStreamHeader } from './xz.js';

export const WRITE_FORMATS = ['gzip', 'zstd', 'xz', 'bzip2'] as const;
/** A format `recompress` writes. */
export type WriteFormat = (typeof WRITE_FORMATS)[number];

/** One unit compressed. */
export interface CompressedUnit {
  bytes: Uint8Array;
  /** What the trailer needs besides the sizes: zstd the frame checksum, xz the block's unpadded size; else 0. */
  note: number;
}

/** What the trailer is built from: per unit, in order. */
export interface UnitRecord {
  compressedSize: number;
  decompressedSize: number;
  note: number;
}

export interface Writer {
  name: WriteFormat;
  /** File name endings that select the format (lower case, with the dot). */
  extensions: readonly string[];
  levels: { min: number; max: number; default: number; meaning: string };
  /** Largest unit the format holds, in decompressed bytes. */
  maxUnitBytes: number;
  head(level: number): Uint8Array;
  unit(chunk: Uint8Array, level: number): CompressedUnit | Promise<CompressedUnit>;
  tail(units: readonly UnitRecord[], level: number): Uint8Array;
}

const NOTHING = new Uint8Array(0);
const GIB = 2 ** 30;

const gzipWriter: Writer = {
  name: 'gzip',
  extensions: ['.gz', '.bgz', '.bgzf'],
  levels: { min: 0, max: 9, default: 6, meaning: "zlib's deflate level" },
  maxUnitBytes: GIB,
  head: () => NOTHING,
  unit: (chunk, level) => ({ bytes: compressBgzf(chunk, level), note: 0 }),
  // The empty block bgzip ends with: tells htslib the file is complete (and gives an empty input a valid member).
  tail: () => BGZF_EOF,
};

const zstdWriter: Writer = {
  name: 'zstd',
  extensions: ['.zst', '.zstd'],
  levels: { min: 1, max: 22, default: 3, meaning: 'the zstd level' },
  maxUnitBytes: SEEKABLE_MAX_FRAME_BYTES,
  head: () => NOTHING,
  unit: async (chunk, level) => {
    const { frame, checksum } = await compressSeekableFrame(chunk, level);
    return { bytes: frame, note: checksum };
  },
  tail: (units) => seekTableFrame(units.map((u) => ({ compressedSize: u.compressedSize, decompressedSize: u.decompressedSize, checksum: u.note }))),
};

const xzWriter: Writer = {
  name: 'xz',
  extensions: ['.xz', '.txz'],
  levels: { min: 0, max: 9, default: 6, meaning: 'the xz preset' },
  maxUnitBytes: GIB,
  head: () => xzStreamHeader(),
  unit: (chunk, level) => {
    const { block, unpaddedSize } = xzBlock(chunk, level);
    return { bytes: block, note: unpaddedSize };
  },
  tail: (units) => xzIndexAndFooter(units.map((u) => ({ unpaddedSize: u.note, uncompressedSize: u.decompressedSize }))),
};

const bzip2Writer: Writer = {
  name: 'bzip2',
  extensions: ['.bz2', '.bz', '.tbz2', '.tbz'],
  levels: { min: 1, max: 9, default: 9, meaning: 'the bzip2 block size in 100 kB' },
  maxUnitBytes: GIB,
  head: () => NOTHING,
  unit: async (chunk, level) => ({ bytes: await bzip2Stream(chunk, level), note: 0 }),
  // No units (an empty input): one empty stream, as `bzip2` writes for an empty file.
  tail: (units, level) => (units.length === 0 ? emptyBzip2Stream(level) : NOTHING),
};

const WRITERS: Readonly<Record<WriteFormat, Writer>> = { gzip: gzipWriter, zstd: zstdWriter, xz: xzWriter, bzip2: bzip2Writer };

export function isWriteFormat(name: string): name is WriteFormat {
  return (WRITE_FORMATS as readonly string[]).includes(name);
}

export function writerOf(format: WriteFormat): Writer {
  const writer = WRITERS[format] as Writer | undefined;
  if (writer === undefined) throw new SeekdataError('UNSUPPORTED_FORMAT', `recompress writes ${WRITE_FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
  return writer;
}

/** The format a file name's ending selects (`.gz`, `.zst`, `.xz`, `.bz2`, …), or undefined. */
export function writeFormatOfName(path: string): WriteFormat | undefined {
  const name = path.toLowerCase();
  return WRITE_FORMATS.find((f) => WRITERS[f].extensions.some((e) => name.endsWith(e)));
}
