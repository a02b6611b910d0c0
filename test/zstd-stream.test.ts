/**
 * A single-frame zstd file streamed in fixed-size pieces with bounded memory: pieces in order (cut also at
 * a second size's multiples when asked), in random order through the cursor reader, concurrently, and the
 * pieces passed on the way handed out to cache.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { makeText } from './support/fixtures.js';
import { memory, zstdDecode, zstdFile, zstdPipe } from './support/zstd.js';
import { SeekdataError } from '../src/errors.js';
import { ZstdPieceReader, frameAt, frameOf, scanZstd, streamZstdFrame, zstdAccessInfo, type ZstdFrameTable } from '../src/readers/zstd/index.js';
import type { MemorySource } from '../src/sources/source.js';

const PIECE = 1 << 20;
const plain = makeText(7_500_000, 12);

describe.each([
  ['with content size and checksum', () => zstdFile(plain, '-3')],
  ['streamed by a pipe (no content size), --no-check', () => zstdPipe(plain, '--no-check')],
])('zstd one-frame file %s', (_name, make) => {
  let bytes: Buffer;
  let source: MemorySource;
  let table: ZstdFrameTable;

  beforeAll(async () => {
    bytes = make();
    expect(zstdDecode(bytes).equals(plain)).toBe(true);
    source = memory(bytes);
    table = await scanZstd(source);
  });

  it('is one unit, and info says random access inside it costs decoding from its start', () => {
    expect(table.count).toBe(1);
    expect(table.dStart[1]).toBe(plain.length);
    expect(zstdAccessInfo(table).randomAccess).toMatch(/^one frame of 7\.5 MB: random access inside it costs decoding from the start of the frame/);
    expect(frameAt(table, plain.length - 1)).toBe(0);
  });

  it('streams in pieces of exactly the piece size (the last shorter) that add up to the file', async () => {
    const pieces: Uint8Array[] = [];
    for await (const piece of streamZstdFrame(source, frameOf(table, 0), PIECE)) pieces.push(piece);
    expect(pieces.length).toBe(Math.ceil(plain.length / PIECE));
    for (const p of pieces.slice(0, -1)) expect(p.length).toBe(PIECE);
    expect(Buffer.concat(pieces).equals(plain)).toBe(true);
  });

  it('with cutBytes, cuts its pieces at every multiple of either size from the frame’s start', async () => {
    const cut = 700_000;
    const pieces: Uint8Array[] = [];
    for await (const piece of streamZstdFrame(source, frameOf(table, 0), PIECE, cut)) pieces.push(piece);
    const ends = pieces.map((_, k) => pieces.slice(0, k + 1).reduce((n, p) => n + p.length, 0));
    const want = new Set([plain.length]);
    for (const step of [PIECE, cut]) for (let at = step; at < plain.length; at += step) want.add(at);
    expect(ends).toEqual([...want].sort((a, b) => a - b));
    expect(Buffer.concat(pieces).equals(plain)).toBe(true);
  });

  it('reads pieces in any order through cursors that continue where the last read stopped', async () => {
    const seen = new Map<number, number>();
    const reader = new ZstdPieceReader(source, table, { pieceBytes: PIECE, onPiece: (_f, k) => seen.set(k, (seen.get(k) ?? 0) + 1) });
    const count = reader.pieceCount(0);
    const expectPiece = (k: number, got: Uint8Array): void => {
      expect(Buffer.from(got).equals(plain.subarray(k * PIECE, (k + 1) * PIECE))).toBe(true);
    };
    expectPiece(3, await reader.read(0, 3));
    // Pieces 0..3 were decoded once on the way; piece 4 continues the same cursor.
    expect([...seen.keys()]).toEqual([0, 1, 2, 3]);
    expectPiece(4, await reader.read(0, 4));
    expect(seen.get(4)).toBe(1);
    expect(seen.get(0)).toBe(1);
    // Going back starts a second cursor from the frame's start; the first one is kept.
    expectPiece(1, await reader.read(0, 1));
    expectPiece(5, await reader.read(0, 5));
    expect(seen.get(5)).toBe(1);
    // Concurrent reads, in scrambled order, all come back right.
    const order = [count - 1, 0, 2, count - 2, 1, 6];
    const got = await Promise.all(order.map((k) => reader.read(0, k)));
    order.forEach((k, i) => expectPiece(k, got[i]));
    await reader.close();
    await expect(reader.read(0, 0)).rejects.toThrow(SeekdataError);
  });

  it('rejects pieces and frames that do not exist', async () => {
    const reader = new ZstdPieceReader(source, table, { pieceBytes: PIECE });
    await expect(reader.read(0, reader.pieceCount(0))).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(reader.read(1, 0)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    expect(() => new ZstdPieceReader(source, table, { pieceBytes: 0 })).toThrow(/pieceBytes/);
    await reader.close();
  });

  it('drops cursors beyond the limit and frees their decoders: many abandoned streams still decode right', async () => {
    const reader = new ZstdPieceReader(source, table, { pieceBytes: PIECE, maxCursors: 1 });
    for (let round = 0; round < 20; round++) {
      const k = (round * 5) % reader.pieceCount(0);
      expect(Buffer.from(await reader.read(0, k)).equals(plain.subarray(k * PIECE, (k + 1) * PIECE))).toBe(true);
    }
    await reader.close();
    // An abandoned decoder that is not freed leaks the part of its window it wrote (2 MiB here) in the
    // WebAssembly heap, which never shrinks: 60 of them would add over 120 MB of resident memory.
    const before = process.memoryUsage().rss;
    for (let round = 0; round < 60; round++) {
      const stream = streamZstdFrame(source, frameOf(table, 0), 1 << 20);
      await stream.next();
      await stream.next();
      await stream.return(undefined);
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(48 << 20);
    const all: Uint8Array[] = [];
    for await (const piece of streamZstdFrame(source, frameOf(table, 0), PIECE)) all.push(piece);
    expect(Buffer.concat(all).equals(plain)).toBe(true);
  });
});
