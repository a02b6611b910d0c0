/**
 * Attacks on verified xz prefix reads (the indexing pass records the CRC-32 of every 64 KiB sub-span of each
 * block it decodes whole; a read inside one uncached block decodes it only through the sub-span of its last
 * byte and checks each sub-span). Truth: `xz -dc` / `pixz -d` output of the same file, and the bytes the
 * fixture was made from. Every read must be those bytes or a typed SeekdataError naming the file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, isSeekdataError, openIndexed, openReader, type SeekableReader } from '../src/index.js';
import { SUB_SPAN_BYTES } from '../src/readers/sub-crcs.js';
import { prng, run, tempDir, useCacheDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-hostile33-');
useCacheDir(join(tmp.dir, 'cache'));
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const SUB = SUB_SPAN_BYTES;
const WHEN = new Date('2025-01-01T00:00:00Z');
type Options = Parameters<typeof openReader>[1];

/** Random bytes with a newline now and then: incompressible, so LZMA2 stores them as they are. */
function noise(bytes: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Math.floor(rand() * 256);
  for (let i = 999; i < bytes; i += 1000) out[i] = 10;
  out[bytes - 1] = 10;
  return out;
}

let fileCount = 0;
function fixture(bytes: Uint8Array, name = 'data.csv.xz'): string {
  const path = writeFixture(tmp.dir, `${fileCount++}-${name}`, bytes);
  utimesSync(path, WHEN, WHEN);
  return path;
}

/** Flips bits of one byte, keeping the size and mtime (the index stays fresh). */
function damageInPlace(path: string, at: number, mask = 0x55): void {
  const bytes = readFileSync(path);
  bytes[at] ^= mask;
  writeFileSync(path, bytes);
  utimesSync(path, WHEN, WHEN);
}

async function buildIndex(path: string, options: Parameters<typeof openIndexed>[1] = {}): Promise<void> {
  await (await openIndexed(path, { records: 'lines', parallelism: 1, onWarning: () => undefined, ...options })).close();
}

async function reopen(path: string, options: Options = {}): Promise<SeekableReader> {
  const reader = await openReader(path, { parallelism: 1, cacheBytes: 1, ifStale: 'error', onWarning: () => undefined, ...options });
  expect(reader.indexStatus).toBe('loaded');
  return reader;
}

/** The read's bytes equal the truth's. */
async function same(reader: SeekableReader, truth: Uint8Array, offset: number, length: number): Promise<void> {
  const got = await reader.read(offset, length);
  expect(Buffer.compare(Buffer.from(got), truth.subarray(offset, offset + length)), `read(${offset}, ${length})`).toBe(0);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
}

describe('xz --check=none: the sub-span CRC-32s are the only check', () => {
  const data = noise(800_000, 9);
  const BLOCK = 256 << 10;

  it('damage after indexing where liblzma sees nothing is CORRUPT_DATA, by a prefix read, a whole-block read and stream(); never the flipped byte', async () => {
    const path = fixture(xz(data, '-6', '--check=none', `--block-size=${BLOCK}`));
    await buildIndex(path);
    const probe = await reopen(path);
    const u = 1;
    const [cStart, cEnd, dStart] = [probe.units.cStart[u], probe.units.cEnd[u], probe.units.dStart[u]];
    await probe.close();
    // A stored LZMA2 chunk (incompressible bytes): the flip is a wrong byte, no decoder error, and no block check.
    damageInPlace(path, cStart + Math.floor((cEnd - cStart) * 0.45));
    const decoded = run('xz', ['-dc'], readFileSync(path));
    let d = 0;
    while (d < data.length && decoded[d] === data[d]) d++;
    expect(d).toBeGreaterThan(dStart + SUB);
    expect(d).toBeLessThan(dStart + BLOCK - SUB);

    const reader = await reopen(path);
    // Before the damaged sub-span: verified prefix reads.
    await same(reader, data, dStart + 5, 100);
    expect(reader.stats.prefixReads).toBe(1);
    // Through the damaged byte: a prefix read (its sub-span fails), then a whole-block read (the read's last byte
    // in the block's last sub-span), then a read across two blocks.
    for (const [at, n] of [
      [d - 10, 20],
      [dStart + BLOCK - 100, 50],
      [d - 10, BLOCK],
    ]) {
      const error = await rejection(reader.read(at, n));
      expect(isSeekdataError(error) && error.code, `read(${at}, ${n}): ${String(error)}`).toBe('CORRUPT_DATA');
      expect(String(error)).toContain(path);
    }
    // Other blocks are intact.
    await same(reader, data, 10, 100);
    await same(reader, data, reader.units.dStart[2] + 10, 100);
    await reader.close();

    const cached = await reopen(path, { cacheBytes: 64 << 20, parallelism: 2 });
    for (let k = 0; k < 2; k++) expect(await rejection(cached.read(d - 1, 2))).toMatchObject({ code: 'CORRUPT_DATA' });
    const streamed = await rejection(
      (async () => {
        for await (const chunk of cached.stream()) void chunk;
      })(),
    );
    expect(streamed).toMatchObject({ code: 'CORRUPT_DATA' });
    await cached.close();
  });
});
