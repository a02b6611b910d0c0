/**
 * Decompression bombs for tests and the bench: N bytes of zeros piped into a compressor, made at run time
 * by a shell pipeline started asynchronously (never held in this process); a gzip bomb is put together here
 * from one compressed piece (gzipZeros). Not a test file.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { runProcess } from './process.js';

/** The compressor command line per format (zeros on stdin, the file on stdout). */
export const COMPRESSORS = {
  bzip2: 'bzip2 -9',
  xz: 'xz -T1 -0',
  gzip: 'gzip -1',
  // From stdin: one frame that does not say its size (decoded to learn it).
  zstd: 'zstd -q -c',
  // With a content size in its frame header (the size is given with --stream-size, below).
  'zstd-sized': 'zstd -q -c',
  bgzf: 'bgzip -c',
} as const;

export type BombKind = keyof typeof COMPRESSORS;

const EXTENSION: Record<BombKind, string> = { bzip2: 'bz2', xz: 'xz', gzip: 'gz', zstd: 'zst', 'zstd-sized': 'zst', bgzf: 'gz' };

/** Writes `bytes` zeros compressed as `kind` into `dir` and returns the path (gzip: by gzipZeros, below). */
export async function makeBomb(dir: string, kind: BombKind, bytes: number): Promise<string> {
  const path = join(dir, `zeros-${kind}-${bytes}.${EXTENSION[kind]}`);
  if (kind === 'gzip') {
    await writeFile(path, gzipZeros(bytes));
    return path;
  }
  // zstd writes a content size only for input of known size: give it the size with --stream-size.
  const command = kind === 'zstd-sized' ? `zstd -q -c --stream-size=${bytes}` : COMPRESSORS[kind];
  const result = await runProcess('sh', ['-c', `head -c ${bytes} /dev/zero | ${command} > '${path}'`]);
  if (result.code !== 0) throw new Error(`making ${path} failed: ${result.stderr}`);
  return path;
}

const PIECE = 16 << 20;

/**
 * One gzip member of `bytes` zeros, as `gzip -1` would compress them but 20 times faster (2 GiB: ~0.5 s, most
 * of it the CRC-32, against ~10 s through the command): a deflate stream of 16 MiB of zeros cut with a full
 * flush (byte-aligned, no reference to what came before) is valid again after itself, so the member is that
 * piece repeated, a last piece for the rest, the empty final block, and the trailer (CRC-32, size mod 2^32).
 */
function gzipZeros(bytes: number): Buffer {
  const flush = { level: 1, finishFlush: constants.Z_FULL_FLUSH };
  const zeros = Buffer.alloc(Math.min(PIECE, bytes));
  const piece = deflateRawSync(zeros, flush);
  const whole = Math.floor(bytes / PIECE);
  const rest = bytes - whole * PIECE;
  let crc = 0;
  for (let i = 0; i < whole; i++) crc = crc32(zeros, crc);
  if (rest > 0) crc = crc32(zeros.subarray(0, rest), crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(bytes % 2 ** 32, 4);
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  const parts = [header, ...Array<Buffer>(whole).fill(piece)];
  if (rest > 0) parts.push(deflateRawSync(zeros.subarray(0, rest), flush));
  return Buffer.concat([...parts, Buffer.from([0x03, 0x00]), trailer]);
}
