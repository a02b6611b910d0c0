/**
 * gzip and zstd files of every kind seekdata reads, made at test time with the real tools (gzip -1/-9,
 * pigz, bgzip, cat of members, zstd -19, several frames, pzstd, zstd from a pipe, --no-check), with
 * seekdata's seekable writer, and by hand from the specs (a member with every optional header field, a
 * seek table). Each comes with the plain bytes it was made from (the truth `gzip -dc` / `zstd -dc` give).
 * Not a test file: test files import it.
 */
import { writeZstdSeekable } from '../../src/readers/zstd/index.js';
import type { ReaderOptions } from '../../src/index.js';
import { makeText } from './fixtures.js';
import { bgzip, gzip, handBuiltMember, mixedData, pigz } from './gzip-fixtures.js';
import { handSeekTable, pzstd, zstdFile, zstdPipe } from './zstd.js';

export interface FormatFixture {
  name: string;
  format: 'gzip' | 'zstd';
  plain: Buffer;
  bytes: Buffer;
  /** At least this many units (with `options`). */
  minUnits: number;
  /** Reader options to read it with (small gzip spacing, so that small files have many units). */
  options: Partial<ReaderOptions>;
}

/** Small spacing: a few hundred kB give several spans. */
export const SPACING = 64 << 10;

/** The gzip and zstd fixtures over `text` (a few hundred kB of CSV-like lines is plenty). */
export async function formatFixtures(text: Buffer): Promise<FormatFixture[]> {
  const gz = { gzipSpacingBytes: SPACING };
  const third = Math.floor(text.length / 3);
  const [a, b, c] = [text.subarray(0, third), text.subarray(third, 2 * third), text.subarray(2 * third)];
  const mixed = mixedData(text.length, 3);
  const empty = gzip(Buffer.alloc(0));
  const seekable: Buffer[] = [];
  await writeZstdSeekable([text], (bytes) => void seekable.push(Buffer.from(bytes)), { frameBytes: 48 << 10 });
  // A seek table without checksums over frames with neither checksum: only CRC-32s from the index check them.
  const bare = [a, b, c].map((p) => zstdFile(p, '--no-check', '-3'));
  const table = handSeekTable(
    bare.map((f, i) => ({ compressedSize: f.length, decompressedSize: [a, b, c][i].length })),
    false,
  );
  return [
    { name: 'gzip-1.gz', format: 'gzip', plain: mixed, bytes: gzip(mixed, '-1'), minUnits: 3, options: gz },
    { name: 'gzip-9.gz', format: 'gzip', plain: text, bytes: gzip(text, '-9'), minUnits: 2, options: gz },
    { name: 'pigz.gz', format: 'gzip', plain: text, bytes: pigz(text, '-p', '2', '-b', '64'), minUnits: 4, options: gz },
    { name: 'bgzip.gz', format: 'gzip', plain: text, bytes: bgzip(text), minUnits: 3, options: gz },
    {
      name: 'members.gz',
      format: 'gzip',
      plain: Buffer.concat([a, b, c, text.subarray(0, 1000)]),
      bytes: Buffer.concat([empty, gzip(a, '-6'), empty, handBuiltMember(b), gzip(c, '-1'), empty, gzip(text.subarray(0, 1000)), empty]),
      minUnits: 4,
      options: gz,
    },
    { name: 'zstd-19.zst', format: 'zstd', plain: text, bytes: zstdFile(text, '-19'), minUnits: 1, options: {} },
    {
      name: 'frames.zst',
      format: 'zstd',
      plain: text,
      bytes: Buffer.concat([zstdFile(a, '-3'), zstdPipe(b, '-1'), zstdFile(c, '--no-check')]),
      minUnits: 3,
      options: {},
    },
    { name: 'pzstd.zst', format: 'zstd', plain: text, bytes: pzstd(text, '-p', '2', '-1'), minUnits: 1, options: {} },
    { name: 'pipe.zst', format: 'zstd', plain: text, bytes: zstdPipe(text, '-3'), minUnits: 1, options: {} },
    { name: 'seekable.zst', format: 'zstd', plain: text, bytes: Buffer.concat(seekable), minUnits: 4, options: {} },
    { name: 'hand-seekable.zst', format: 'zstd', plain: text, bytes: Buffer.concat([...bare, table]), minUnits: 3, options: {} },
  ];
}

/** Text for the fixtures. */
export const fixtureText = (bytes = 400_000, seed = 21): Buffer => makeText(bytes, seed);
