/**
 * Readers over files generated at test time with the real bzip2 and xz commands: full decode equals the
 * original, random reads equal the same bytes of the original, over a file, a buffer and HTTP ranges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, MemorySource, openReader, type SeekableReader } from '../src/index.js';
import { bzip2, makeText, prng, startRangeServer, tempDir, writeFixture, xz, type RangeServer } from './support/fixtures.js';

interface Fixture {
  name: string;
  original: Buffer;
  compressed: Buffer;
  minUnits: number;
}

const text = makeText(1_300_000, 7);
/** Runs of every byte value and length (the run-length stages of bzip2), then 6 MB of one byte (expands ~50x per block). */
const runs = Buffer.concat([
  Buffer.from(Array.from({ length: 6000 }, (_, k) => Array<number>((k * 7) % 300 + 1).fill(k % 256)).flat()),
  Buffer.alloc(6_000_000, 0x61),
]);
const noNewline = makeText(300_000, 8, false);
const pad = Buffer.alloc(8);

const fixtures: Fixture[] = [
  { name: 'bzip2-1.bz2', original: text, compressed: bzip2(text, 1), minUnits: 10 },
  { name: 'bzip2-9.bz2', original: text, compressed: bzip2(text, 9), minUnits: 2 },
  {
    name: 'concat-levels.bz2',
    original: Buffer.concat([text.subarray(0, 500_000), text.subarray(500_000)]),
    compressed: Buffer.concat([bzip2(text.subarray(0, 500_000), 2), bzip2(text.subarray(500_000), 9)]),
    minUnits: 4,
  },
  { name: 'no-newline.bz2', original: noNewline, compressed: bzip2(noNewline, 1), minUnits: 3 },
  { name: 'empty.bz2', original: Buffer.alloc(0), compressed: bzip2(Buffer.alloc(0)), minUnits: 0 },
  { name: 'runs.bz2', original: runs, compressed: bzip2(runs, 1), minUnits: 2 },
  { name: 'blocks.xz', original: text, compressed: xz(text, '--block-size=100KiB'), minUnits: 13 },
  { name: 'threads.xz', original: text, compressed: xz(text, '-T2', '-1'), minUnits: 1 },
  { name: 'one-block.xz', original: text, compressed: xz(text, '-T1'), minUnits: 1 },
  {
    name: 'two-streams-padded.xz',
    original: Buffer.concat([text.subarray(0, 400_000), noNewline]),
    compressed: Buffer.concat([xz(text.subarray(0, 400_000), '--block-size=64KiB'), pad, xz(noNewline), Buffer.alloc(4)]),
    minUnits: 8,
  },
  { name: 'empty.xz', original: Buffer.alloc(0), compressed: xz(Buffer.alloc(0)), minUnits: 0 },
  { name: 'plain.csv', original: text, compressed: text, minUnits: 2 },
  { name: 'empty.csv', original: Buffer.alloc(0), compressed: Buffer.alloc(0), minUnits: 0 },
];

const tmp = tempDir();
let server: RangeServer;

beforeAll(async () => {
  for (const f of fixtures) writeFixture(tmp.dir, f.name, f.compressed);
  server = await startRangeServer(Object.fromEntries(fixtures.map((f) => [f.name, f.compressed])));
});

afterAll(async () => {
  await server.close();
  await closeSharedPool();
  tmp.cleanup();
});

type SourceKind = 'file' | 'buffer' | 'http';

async function open(kind: SourceKind, f: Fixture, parallelism = 2): Promise<SeekableReader> {
  const options = { index: false as const, parallelism, cacheBytes: 4 << 20 };
  if (kind === 'file') return openReader(`${tmp.dir}/${f.name}`, options);
  if (kind === 'buffer') return openReader(new MemorySource(f.compressed, f.name), options);
  return openReader(server.url(f.name), options);
}

async function collect(reader: SeekableReader): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of reader.stream()) parts.push(part);
  return Buffer.concat(parts);
}

describe.each(['file', 'buffer', 'http'] as const)('%s source', (kind) => {
  it.each(fixtures.map((f) => [f.name, f] as const))('%s: full decode and random reads equal the original', async (_name, f) => {
    const reader = await open(kind, f);
    try {
      expect(reader.size).toBe(f.original.length);
      expect(reader.units.count).toBeGreaterThanOrEqual(f.minUnits);
      expect((await collect(reader)).equals(f.original)).toBe(true);
      const rand = prng(f.name.length);
      // runs.bz2 has a chunk larger than the 4 MiB cache, so each of its reads decodes 4 MB again: 150
      // reads test that as well as 1000 would, at a seventh of the CPU (most of this file's time).
      const reads = kind === 'file' && f.name !== 'runs.bz2' ? 1000 : 150;
      for (let i = 0; i < reads && f.original.length > 0; i++) {
        const offset = Math.floor(rand() * f.original.length);
        const length = Math.min(f.original.length - offset, Math.floor(rand() * 3000));
        const got = await reader.read(offset, length);
        expect(Buffer.from(got).equals(f.original.subarray(offset, offset + length))).toBe(true);
      }
      // Reads across every chunk boundary, the last byte, zero-length reads, and past the end.
      for (let c = 1; c < reader.layout.count; c++) {
        const boundary = reader.layout.start[c];
        const from = Math.max(0, boundary - 7);
        const got = await reader.read(from, Math.min(f.original.length - from, 20));
        expect(Buffer.from(got).equals(f.original.subarray(from, from + got.length))).toBe(true);
      }
      if (f.original.length > 0) {
        expect(Buffer.from(await reader.read(f.original.length - 1, 1))).toEqual(f.original.subarray(-1));
        expect((await reader.read(f.original.length - 1, 0)).length).toBe(0);
      }
      expect((await reader.read(f.original.length, 0)).length).toBe(0);
      await expect(reader.read(f.original.length, 1)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      await expect(reader.read(Math.max(0, f.original.length - 2), 3)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      await expect(reader.read(-1, 1)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    } finally {
      await reader.close();
    }
  });
});

describe('reader behaviour', () => {
  const f = fixtures[0];

  it('decodes the same with and without worker threads', async () => {
    const inline = await open('file', f, 1);
    const pooled = await open('file', f, 2);
    expect((await collect(inline)).equals(await collect(pooled))).toBe(true);
    expect(Array.from(inline.units.dStart)).toEqual(Array.from(pooled.units.dStart));
    await inline.close();
    await pooled.close();
  });

  it('shares one decode between concurrent reads of the same chunk, and caches it', async () => {
    const reader = await open('file', f);
    await Promise.all([reader.read(10, 5), reader.read(20, 5), reader.read(30, 5)]);
    expect(reader.stats.decodes).toBe(1);
    await reader.read(40, 5);
    expect(reader.stats.decodes).toBe(1);
    expect(reader.stats.cacheHits).toBeGreaterThanOrEqual(1);
    await reader.close();
  });

  it('keeps the cache within its byte budget', async () => {
    const reader = await openReader(`${tmp.dir}/${f.name}`, { index: false, cacheBytes: 250_000 });
    // bzip2 -1 blocks decode to ~100 kB: a 250 kB cache holds two.
    for (let c = 0; c < reader.layout.count; c++) await reader.chunk(c);
    const decodes = reader.stats.decodes;
    await reader.chunk(reader.layout.count - 1);
    await reader.chunk(reader.layout.count - 2);
    expect(reader.stats.decodes).toBe(decodes);
    await reader.chunk(0);
    expect(reader.stats.decodes).toBe(decodes + 1);
    await reader.close();
  });

  it('rejects reads after close with CLOSED', async () => {
    const reader = await open('buffer', f);
    await reader.close();
    await expect(reader.read(0, 1)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects bad options with INVALID_OPTION naming the field', async () => {
    await expect(openReader(`${tmp.dir}/${f.name}`, { parallelism: 0 })).rejects.toThrow(/options.parallelism must be a positive integer, got 0/);
    await expect(openReader(`${tmp.dir}/${f.name}`, { cacheBytes: -5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('reports a missing file as NOT_FOUND naming it', async () => {
    const error = await openReader(`${tmp.dir}/nope.bz2`).catch((e: unknown) => e);
    expect(isSeekdataError(error, 'NOT_FOUND')).toBe(true);
    expect(String(error)).toContain('nope.bz2');
  });

  it('reports progress and can be cancelled', async () => {
    const seen: number[] = [];
    const reader = await openReader(`${tmp.dir}/${f.name}`, { index: false, onProgress: (p) => seen.push(p.bytesDone) });
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[seen.length - 1]).toBe(f.compressed.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    await reader.close();
    const controller = new AbortController();
    const opening = openReader(`${tmp.dir}/${f.name}`, {
      index: false,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(opening).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('HTTP: indexing a bzip2 file downloads it about once', async () => {
    const before = server.bytes;
    const reader = await openReader(server.url(f.name), { index: false });
    expect(server.bytes - before).toBeLessThan(f.compressed.length * 1.1);
    await reader.close();
  });

  it('HTTP: a server that ignores Range, and one that returns the wrong length, are errors', async () => {
    await expect(openReader(server.url(`norange/${f.name}`), { index: false })).rejects.toMatchObject({ code: 'HTTP_ERROR' });
    await expect(openReader(server.url(`short/${f.name}`), { index: false })).rejects.toMatchObject({ code: 'HTTP_ERROR' });
    await expect(openReader(server.url('missing.bz2'), { index: false })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('HTTP: a server that never answers is a SOURCE_ERROR after the time limit and the retries, not a hang', async () => {
    const { createServer } = await import('node:http');
    const silent = createServer(() => undefined);
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const started = Date.now();
    await expect(openReader(`http://127.0.0.1:${port}/x.bz2`, { index: false, httpTimeoutMs: 300 })).rejects.toMatchObject({ code: 'SOURCE_ERROR' });
    // 5 tries of 300 ms and at most 1.5 s of backoff (retry defaults).
    expect(Date.now() - started).toBeLessThan(15_000);
    silent.closeAllConnections();
    await new Promise<void>((ok) => silent.close(() => ok()));
  });

  it('bzip2: trailing garbage is ignored with a warning', async () => {
    const warnings: string[] = [];
    const path = writeFixture(tmp.dir, 'garbage.bz2', Buffer.concat([f.compressed, Buffer.from('this is not bzip2 at all')]));
    const reader = await openReader(path, { index: false, onWarning: (m) => warnings.push(m) });
    expect((await collect(reader)).equals(f.original)).toBe(true);
    expect(warnings.join()).toMatch(/trailing garbage/);
    await reader.close();
  });

  it('xz: a block larger than bigUnitBytes is read in pieces, forwards, backwards and concurrently', async () => {
    const one = fixtures.find((x) => x.name === 'one-block.xz');
    if (one === undefined) throw new Error('fixture missing');
    const reader = await openReader(`${tmp.dir}/${one.name}`, { index: false, bigUnitBytes: 200_000, pieceBytes: 64_000, cacheBytes: 200_000 });
    expect(reader.units.count).toBe(1);
    expect(reader.layout.count).toBe(Math.ceil(one.original.length / 64_000));
    expect(reader.info().sequentialUnits).toBe(true);
    expect((await collect(reader)).equals(one.original)).toBe(true);
    const check = async (offset: number, length: number): Promise<void> => {
      const got = await reader.read(offset, length);
      expect(Buffer.from(got).equals(one.original.subarray(offset, offset + length))).toBe(true);
    };
    for (let offset = one.original.length - 5000; offset > 0; offset -= 97_000) await check(offset, 5000);
    const rand = prng(3);
    await Promise.all(Array.from({ length: 40 }, () => Math.floor(rand() * (one.original.length - 3000))).map((o) => check(o, 3000)));
    await reader.close();
  });
});

describe("xz prefix reads (verify: 'lazy')", () => {
  it('a read inside a block decodes only up to it, continues on the next read, and caches the block once complete', async () => {
    const f = fixtures.find((x) => x.name === 'blocks.xz');
    if (f === undefined) throw new Error('fixture missing');
    const reader = await openReader(`${tmp.dir}/${f.name}`, { index: false, parallelism: 1, verify: 'lazy' });
    const start = reader.units.dStart[3];
    const end = reader.units.dStart[4];
    const check = async (offset: number, length: number): Promise<void> => {
      expect(Buffer.from(await reader.read(offset, length)).equals(f.original.subarray(offset, offset + length))).toBe(true);
    };
    await check(start + 10, 100);
    await check(start + 5000, 100);
    await check(start + 1, 5);
    await check(end - 100, 100);
    expect(reader.stats.decodes).toBe(4);
    // The block was decoded to its end (and verified): further reads are cache hits.
    await check(start + 20_000, 1000);
    expect(reader.stats.decodes).toBe(4);
    expect(reader.stats.cacheHits).toBe(1);
    await reader.close();
  });
});
