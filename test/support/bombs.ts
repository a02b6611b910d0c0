/**
 * Decompression bombs for tests and the bench: N bytes of zeros piped into a compressor, made at run time
 * by a shell pipeline started asynchronously (never held in this process). Not a test file.
 */
import { join } from 'node:path';
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

/** Writes `bytes` zeros compressed as `kind` into `dir` and returns the path. */
export async function makeBomb(dir: string, kind: BombKind, bytes: number): Promise<string> {
  const path = join(dir, `zeros-${kind}-${bytes}.${EXTENSION[kind]}`);
  // zstd writes a content size only for input of known size: give it the size with --stream-size.
  const command = kind === 'zstd-sized' ? `zstd -q -c --stream-size=${bytes}` : COMPRESSORS[kind];
  const result = await runProcess('sh', ['-c', `head -c ${bytes} /dev/zero | ${command} > '${path}'`]);
  if (result.code !== 0) throw new Error(`making ${path} failed: ${result.stderr}`);
  return path;
}
