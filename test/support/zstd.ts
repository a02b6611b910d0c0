/**
 * zstd fixtures made at test time with the real `zstd` / `pzstd` commands, plus files assembled by hand
 * from the format specs (skippable frames, seek tables). Each fixture records what an independent tool
 * says it holds: the plain bytes it was made from, and where frames were concatenated, their places.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { MemorySource } from '../../src/sources/source.js';
import { run, tempDir, writeFixture } from './fixtures.js';

/** `zstd` with `args`; the input is a file so the frame gets a content size unless told otherwise. */
export function zstdFile(plain: Uint8Array, ...args: string[]): Buffer {
  const { dir, cleanup } = tempDir('seekdata-zstd-');
  try {
    const path = writeFixture(dir, 'in', plain);
    return run('zstd', ['-q', '-c', ...args, path]);
  } finally {
    cleanup();
  }
}

/** `zstd` reading a pipe: the frame has no content size. */
export const zstdPipe = (plain: Uint8Array, ...args: string[]): Buffer => run('zstd', ['-q', '-c', ...args], plain);

export function pzstd(plain: Uint8Array, ...args: string[]): Buffer {
  const { dir, cleanup } = tempDir('seekdata-pzstd-');
  try {
    const path = writeFixture(dir, 'in', plain);
    return run('pzstd', ['-q', '-c', ...args, path]);
  } finally {
    cleanup();
  }
}

/** What the reference decoder makes of `bytes`. */
export const zstdDecode = (bytes: Uint8Array): Buffer => run('zstd', ['-q', '-d', '-c'], bytes);

/** `zstd -t`: throws when the reference decoder rejects the bytes. */
export const zstdTest = (bytes: Uint8Array): void => {
  run('zstd', ['-q', '-t'], bytes);
};

/** `zstd -lv` of the bytes (frame counts, check type). */
export function zstdList(bytes: Uint8Array): string {
  const { dir, cleanup } = tempDir('seekdata-zstd-list-');
  try {
    return run('zstd', ['-lv', writeFixture(dir, 'f.zst', bytes)]).toString();
  } finally {
    cleanup();
  }
}

export function skippable(payload: Uint8Array, magicLow = 0): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a50 + magicLow, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

export interface HandEntry {
  compressedSize: number;
  decompressedSize: number;
  checksum?: number;
}

/** A seek-table skippable frame written field by field from the seekable format spec. */
export function handSeekTable(entries: HandEntry[], withChecksums: boolean, descriptor = withChecksums ? 0x80 : 0): Buffer {
  const fields: Buffer[] = [];
  for (const e of entries) {
    const b = Buffer.alloc(withChecksums ? 12 : 8);
    b.writeUInt32LE(e.compressedSize, 0);
    b.writeUInt32LE(e.decompressedSize, 4);
    if (withChecksums) b.writeUInt32LE(e.checksum ?? 0, 8);
    fields.push(b);
  }
  const footer = Buffer.alloc(9);
  footer.writeUInt32LE(entries.length, 0);
  footer[4] = descriptor;
  footer.writeUInt32LE(0x8f92eab1, 5);
  return skippable(Buffer.concat([...fields, footer]), 0xe);
}

/** The checksum zstd itself stores for `plain` (the last 4 bytes of a `zstd --check` frame). */
export function cliChecksum(plain: Uint8Array): number {
  const frame = zstdPipe(plain, '--check');
  return frame.readUInt32LE(frame.length - 4);
}

export const memory = (bytes: Uint8Array, name = 'test.zst'): MemorySource => new MemorySource(bytes, name);

/** A copy of `bytes` with bit `bit` of byte `at` flipped. */
export function flip(bytes: Uint8Array, at: number, bit = 0): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] ^= 1 << bit;
  return copy;
}

/** A Piscina pool running the zstd worker entry from the TypeScript sources. */
export function zstdPool(threads = 2): Piscina {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return new Piscina({
    filename: new URL('../../src/readers/zstd/worker.ts', import.meta.url).href,
    execArgv: ['--import', tsx],
    minThreads: threads,
    maxThreads: threads,
  });
}
