/**
 * What the standard tools and the format specifications say about a file `recompress` wrote: `-t` with
 * the real gzip / bgzip / zstd / xz / bzip2 commands, `-dc` as the truth of its content, and the unit
 * structure read independently of seekdata's readers (gzip member headers and trailers by RFC 1952, xz
 * blocks from `xz --robot -lvv`, zstd frames from `zstd -lv`, bzip2 streams split at their headers and
 * decoded one by one with `bzip2 -dc`). Not a test file: test files import it.
 */
import { spawnSync } from 'node:child_process';
import { run } from './fixtures.js';

export type OutFormat = 'gzip' | 'zstd' | 'xz' | 'bzip2';
export const OUT_FORMATS: readonly OutFormat[] = ['gzip', 'zstd', 'xz', 'bzip2'];
export const EXTENSION: Readonly<Record<OutFormat, string>> = { gzip: '.gz', zstd: '.zst', xz: '.xz', bzip2: '.bz2' };

/** The standard tool's integrity test (throws with its stderr when it fails); bgzip too for gzip. */
export function toolTest(format: OutFormat, path: string): void {
  if (format === 'gzip') {
    run('gzip', ['-t', path]);
    run('bgzip', ['-t', path]);
  } else if (format === 'zstd') run('zstd', ['-q', '-t', path]);
  else if (format === 'xz') run('xz', ['-t', path]);
  else run('bzip2', ['-t', path]);
}

/** What the standard tool decodes `path` to. */
export function toolDecode(format: OutFormat, path: string): Buffer {
  const command = { gzip: 'gzip', zstd: 'zstd', xz: 'xz', bzip2: 'bzip2' }[format];
  return run(command, format === 'zstd' ? ['-q', '-dc', path] : ['-dc', path]);
}

/** Whether the standard tool's integrity test fails on `bytes` (fed on stdin). */
export function toolRejects(format: OutFormat, bytes: Uint8Array): boolean {
  const command = { gzip: 'gzip', zstd: 'zstd', xz: 'xz', bzip2: 'bzip2' }[format];
  return spawnSync(command, ['-t'], { input: bytes }).status !== 0;
}

/** Every gzip member: its size (from BGZF's BC field) and its decompressed size (ISIZE), by RFC 1952 and the SAM spec. */
export function bgzfMembers(bytes: Uint8Array): Array<{ offset: number; size: number; isize: number }> {
  const members: Array<{ offset: number; size: number; isize: number }> = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] !== 0x1f || bytes[at + 1] !== 0x8b || bytes[at + 2] !== 8 || (bytes[at + 3] & 4) === 0) throw new Error(`no BGZF member at byte ${at}`);
    const xlen = view.getUint16(at + 10, true);
    let size = -1;
    for (let x = at + 12; x < at + 12 + xlen; ) {
      const len = view.getUint16(x + 2, true);
      if (bytes[x] === 0x42 && bytes[x + 1] === 0x43 && len === 2) size = view.getUint16(x + 4, true) + 1;
      x += 4 + len;
    }
    if (size < 0) throw new Error(`member at byte ${at} has no BC subfield`);
    members.push({ offset: at, size, isize: view.getUint32(at + size - 4, true) });
    at += size;
  }
  return members;
}

/** xz's own listing of the blocks: uncompressed offset and size of each, and whether sizes are in the headers. */
export interface XzListedBlock {
  uncompressedOffset: number;
  uncompressedSize: number;
  /** `c` and `u`: compressed / uncompressed size present in the block header. */
  headerFlags: string;
  check: string;
  /** The check value, hex, as stored. */
  checkValue: string;
  filters: string;
}

export function xzBlocks(path: string): XzListedBlock[] {
  const lines = run('xz', ['--robot', '-lvv', path]).toString().split('\n');
  // block, stream, block in stream, block in file, comp. offset, uncomp. offset, total size, uncomp. size,
  // ratio, check, check value, header size, flags, comp. size, memory usage, filters
  return lines
    .filter((l) => l.startsWith('block\t'))
    .map((l) => l.split('\t'))
    .map((f) => ({ uncompressedOffset: Number(f[5]), uncompressedSize: Number(f[7]), check: f[9], checkValue: f[10], headerFlags: f[12], filters: f[15] }));
}

/** `zstd -lv` of a file. */
export function zstdListing(path: string): string {
  return run('zstd', ['-lv', path]).toString();
}

/**
 * The bzip2 streams of a file, split where a stream header followed by a block header ("BZh" + level +
 * 0x314159265359) starts, and each decoded alone by `bzip2 -dc`. (Every stream starts on a byte; inside
 * compressed data those 10 bytes turn up with probability ~2^-80.)
 */
export function bzip2Streams(bytes: Buffer): Buffer[] {
  const starts: number[] = [];
  const magic = Buffer.from([0x31, 0x41, 0x59, 0x26, 0x53, 0x59]);
  for (let at = bytes.indexOf('BZh'); at >= 0; at = bytes.indexOf('BZh', at + 1)) {
    if (bytes[at + 3] >= 0x31 && bytes[at + 3] <= 0x39 && bytes.subarray(at + 4, at + 10).equals(magic)) starts.push(at);
  }
  return starts.map((s, i) => run('bzip2', ['-dc'], bytes.subarray(s, starts[i + 1] ?? bytes.length)));
}
