/**
 * An xz block streamed by node-liblzma's engine (src/readers/xz/liblzma-stream.ts) against the same block
 * streamed by lzma-native (block.ts), the decoder it replaces for big blocks, prefixes and 'lazy' reads where
 * node-liblzma loads: for any feed and output sizes the same bytes as the input; for damaged, cut, grown or
 * shrunk blocks a typed error with the same code as lzma-native's, never bytes past the damage that the
 * block's check would refuse; and a reader of a block over `bigUnitBytes` streams through it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeekdataError } from '../src/errors.js';
import { closeSharedPool, openReader } from '../src/index.js';
import { MemorySource } from '../src/sources/source.js';
import { XzBlockDecoder, type XzBlockMeta, type XzBlockStream } from '../src/readers/xz/block.js';
import { padded4, parseXzContainer, type XzBlockRecord } from '../src/readers/xz/container.js';
import { loadLiblzmaEngine, type LiblzmaEngine } from '../src/readers/xz/liblzma-into.js';
import { LiblzmaBlockDecoder } from '../src/readers/xz/liblzma-stream.js';
import { xzStreamingEngine } from '../src/readers/xz/napi.js';
import { corpusDir, makeText, run, xz } from './support/fixtures.js';

const plain = makeText(400_000, 7);
let engine: LiblzmaEngine;
beforeAll(async () => {
  engine = await loadLiblzmaEngine();
});
afterAll(() => closeSharedPool());

async function firstBlock(file: Uint8Array): Promise<XzBlockRecord> {
  return (await parseXzContainer(new MemorySource(file, 'one.xz')))[0];
}

/** The whole block through `decoder`, fed `feed` bytes at a time: its bytes, or the error it threw. */
function streamThrough(decoder: XzBlockStream, data: Uint8Array, feed: number): { bytes?: Uint8Array; error?: unknown } {
  const parts: Uint8Array[] = [];
  try {
    for (let at = 0; at < data.length; at += feed) parts.push(...decoder.feed(data.subarray(at, Math.min(data.length, at + feed))));
    parts.push(...decoder.finish());
    return { bytes: Buffer.concat(parts) };
  } catch (error) {
    decoder.dispose();
    return { error };
  }
}

const both = (meta: XzBlockMeta, data: Uint8Array, feed: number, out = 1 << 20): { fast: ReturnType<typeof streamThrough>; native: ReturnType<typeof streamThrough> } => ({
  fast: streamThrough(new LiblzmaBlockDecoder(engine, meta, out), data, feed),
  native: streamThrough(new XzBlockDecoder(meta, out), data, feed),
});

describe.each(['crc32', 'crc64', 'sha256', 'none'])('one block, check %s', (check) => {
  const file = new Uint8Array(xz(plain, `--check=${check}`));

  it.each([
    [1 << 20, 1 << 20],
    [4096, 4096],
    [1000, 1 << 16],
    [1, 5000],
    [70_000, 4096],
  ])('fed %i bytes at a time into %i-byte outputs: the input, as lzma-native gives it', async (feed, out) => {
    const b = await firstBlock(file);
    const data = file.subarray(b.offset, b.offset + padded4(b.unpaddedSize));
    const meta = { ...b, file: 'one.xz' };
    const { fast, native } = both(meta, feed === 1 ? data.slice() : data, feed, out);
    expect(fast.error).toBeUndefined();
    expect(Buffer.from(fast.bytes ?? []).equals(plain)).toBe(true);
    expect(Buffer.from(native.bytes ?? []).equals(plain)).toBe(true);
  });

  it('hands out no buffer it writes into again (each part keeps its bytes after later feeds)', async () => {
    const b = await firstBlock(file);
    const data = file.subarray(b.offset, b.offset + padded4(b.unpaddedSize));
    const decoder = new LiblzmaBlockDecoder(engine, { ...b, file: 'one.xz' }, 8192);
    const parts: Uint8Array[] = [];
    const copies: Uint8Array[] = [];
    for (let at = 0; at < data.length; at += 3000) {
      for (const p of decoder.feed(data.subarray(at, at + 3000))) {
        parts.push(p);
        copies.push(p.slice());
      }
    }
    for (const p of decoder.finish()) {
      parts.push(p);
      copies.push(p.slice());
    }
    parts.forEach((p, k) => expect(Buffer.from(p).equals(copies[k])).toBe(true));
    expect(Buffer.concat(parts).equals(plain)).toBe(true);
  });
});

describe('damaged blocks: the same typed error as lzma-native', () => {
  const file = new Uint8Array(xz(plain, '--check=crc64'));

  const variants: Array<[string, (data: Uint8Array, meta: XzBlockMeta) => [Uint8Array, XzBlockMeta]]> = [
    ['a flipped byte in the compressed data', (d, m) => [flip(d, 200), m]],
    ['a flipped byte near the end of the compressed data', (d, m) => [flip(d, d.length - 40), m]],
    ['a flipped byte in the check', (d, m) => [flip(d, d.length - 2), m]],
    ['a flipped byte in the block header', (d, m) => [flip(d, 3), m]],
    ['the block cut short (a third of it)', (d, m) => [d.subarray(0, Math.floor(d.length / 3)), m]],
    ['an index that records one byte more', (d, m) => [d, { ...m, uncompressedSize: m.uncompressedSize + 1 }]],
    ['an index that records one byte less', (d, m) => [d, { ...m, uncompressedSize: m.uncompressedSize - 1 }]],
    ['an index that records a smaller stored size', (d, m) => [d, { ...m, unpaddedSize: m.unpaddedSize - 4 }]],
  ];

  it.each(variants)('%s', async (_name, damage) => {
    const b = await firstBlock(file);
    const [data, meta] = damage(file.slice(b.offset, b.offset + padded4(b.unpaddedSize)), { ...b, file: 'one.xz' });
    for (const feed of [1 << 20, 4096]) {
      const { fast, native } = both(meta, data, feed, 1 << 16);
      expect(native.bytes).toBeUndefined();
      expect(fast.bytes).toBeUndefined();
      expect(isSeekdataError(native.error)).toBe(true);
      expect(isSeekdataError(fast.error)).toBe(true);
      const [f, n] = [fast.error, native.error] as Array<{ code: string; message: string; compressedOffset?: number }>;
      expect(f.code).toBe(n.code);
      expect(f.message).toContain('one.xz: xz block at byte ');
      expect(f.compressedOffset).toBe(b.offset);
    }
  });

  function flip(d: Uint8Array, at: number): Uint8Array {
    const copy = d.slice();
    copy[at] ^= 0x55;
    return copy;
  }
});

describe('a reader of a block over bigUnitBytes streams it with node-liblzma', () => {
  it('every piece, forwards and backwards, equals the input; the stream is the whole file', async () => {
    const file = new Uint8Array(xz(plain));
    const reader = await openReader(file, { index: false, bigUnitBytes: 64 << 10, pieceBytes: 48 << 10, cacheBytes: 1 });
    try {
      expect(xzStreamingEngine()).toBeDefined();
      for (const at of [plain.length - 1000, 0, 200_000, 49_151, 123_456]) {
        expect(Buffer.from(await reader.read(at, 1000)).equals(plain.subarray(at, at + 1000))).toBe(true);
      }
      const parts: Uint8Array[] = [];
      for await (const p of reader.stream()) parts.push(p);
      expect(Buffer.concat(parts).equals(plain)).toBe(true);
    } finally {
      await reader.close();
    }
  });
});

describe.skipIf(corpusDir() === undefined)("XZ Utils' test files, every block streamed in pieces", () => {
  const dir = join(corpusDir() ?? '', 'xz');
  const names = corpusDir() === undefined ? [] : readdirSync(dir).filter((f) => f.endsWith('.xz'));

  async function streamed(name: string): Promise<Buffer> {
    // Every block over 1 byte is read in pieces: streamed front to back, never decoded whole.
    const reader = await openReader(join(dir, name), { index: false, bigUnitBytes: 1, pieceBytes: 1024, parallelism: 1 });
    try {
      const parts: Uint8Array[] = [];
      for await (const part of reader.stream()) parts.push(part);
      return Buffer.concat(parts);
    } finally {
      await reader.close();
    }
  }

  it.each(names.filter((f) => f.startsWith('good-')))('%s streams like xz -dc (ARM64 and other filters too)', async (name) => {
    expect((await streamed(name)).equals(run('xz', ['-dc', join(dir, name)]))).toBe(true);
  });

  it.each(names.filter((f) => f.startsWith('bad-')))('%s fails with a typed error', async (name) => {
    const error = await streamed(name).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSeekdataError(error), String(error)).toBe(true);
  });
});
