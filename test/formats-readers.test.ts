/**
 * gzip and zstd through the public reader, as bzip2 and xz are in readers.test.ts: every kind of file
 * (made by the real tools at test time) decodes to the original over a file, a buffer and HTTP ranges,
 * random reads / the first and last byte / reads across every chunk boundary equal the original, inline
 * (async zstd decodes in this thread) and in worker threads; indexes saved and loaded; what info says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSharedPool, MemorySource, openReader, WorkerPool, type ReaderOptions, type SeekableReader } from '../src/index.js';
import { formatOf } from '../src/readers/formats.js';
import { prng, startRangeServer, tempDir, writeFixture, type RangeServer } from './support/fixtures.js';
import { fixtureText, formatFixtures, type FormatFixture } from './support/format-fixtures.js';

const text = fixtureText();
const fixtures = await formatFixtures(text);
const tmp = tempDir('seekdata-formats-');
let server: RangeServer;

beforeAll(async () => {
  for (const f of fixtures) writeFixture(tmp.dir, f.name, f.bytes);
  server = await startRangeServer(Object.fromEntries(fixtures.map((f) => [f.name, f.bytes])));
});

afterAll(async () => {
  await server.close();
  await closeSharedPool();
  tmp.cleanup();
});

type SourceKind = 'file' | 'buffer' | 'http';

async function open(kind: SourceKind, f: FormatFixture, extra: Partial<ReaderOptions> = {}): Promise<SeekableReader> {
  const options: ReaderOptions = { index: false, parallelism: 2, cacheBytes: 4 << 20, ...f.options, ...extra };
  if (kind === 'file') return openReader(`${tmp.dir}/${f.name}`, options);
  if (kind === 'buffer') return openReader(new MemorySource(f.bytes, f.name), options);
  return openReader(server.url(f.name), options);
}

async function collect(reader: SeekableReader, from = 0): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of reader.stream(from)) parts.push(part);
  return Buffer.concat(parts);
}

describe.each(['file', 'buffer', 'http'] as const)('%s source', (kind) => {
  it.each(fixtures.map((f) => [f.name, f] as const))('%s: full decode and random reads equal the original', async (_name, f) => {
    const reader = await open(kind, f);
    try {
      expect(reader.format).toBe(f.format);
      expect(reader.size).toBe(f.plain.length);
      expect(reader.units.count).toBeGreaterThanOrEqual(f.minUnits);
      expect((await collect(reader)).equals(f.plain)).toBe(true);
      const rand = prng(f.name.length * 7 + kind.length);
      for (let i = 0; i < (kind === 'file' ? 300 : 60); i++) {
        const offset = Math.floor(rand() * f.plain.length);
        const length = Math.min(f.plain.length - offset, Math.floor(rand() * 3000));
        expect(Buffer.from(await reader.read(offset, length)).equals(f.plain.subarray(offset, offset + length))).toBe(true);
      }
      for (let c = 1; c < reader.layout.count; c++) {
        const from = Math.max(0, reader.layout.start[c] - 7);
        const got = await reader.read(from, Math.min(f.plain.length - from, 20));
        expect(Buffer.from(got).equals(f.plain.subarray(from, from + got.length))).toBe(true);
      }
      expect(Buffer.from(await reader.read(0, 1))).toEqual(f.plain.subarray(0, 1));
      expect(Buffer.from(await reader.read(f.plain.length - 1, 1))).toEqual(f.plain.subarray(-1));
      await expect(reader.read(f.plain.length, 1)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    } finally {
      await reader.close();
    }
  });
});

describe('gzip and zstd readers', () => {
  it('decode the same inline (parallelism 1: async zstd decodes in this thread) and in worker threads, each unit once', async () => {
    for (const f of fixtures) {
      const inline = await open('file', f, { parallelism: 1 });
      const pooled = await open('file', f, { parallelism: 2 });
      expect((await collect(inline)).equals(f.plain), f.name).toBe(true);
      expect((await collect(pooled)).equals(f.plain), f.name).toBe(true);
      expect(Array.from(inline.units.dStart), f.name).toEqual(Array.from(pooled.units.dStart));
      // Random reads decode one unit each, then hit the cache (a gzip span with sub-span CRC-32s: its
      // first read decodes a verified prefix, the second the whole span, which is cached).
      const before = pooled.stats.decodes;
      const prefixBefore = pooled.stats.prefixReads;
      const u = Math.floor(pooled.units.count / 2);
      await pooled.read(pooled.units.dStart[u] + 1, 10);
      await pooled.read(pooled.units.dStart[u] + 2, 10);
      await pooled.read(pooled.units.dStart[u] + 3, 10);
      const prefix = pooled.stats.prefixReads - prefixBefore;
      expect(prefix, f.name).toBeLessThanOrEqual(1);
      expect(pooled.stats.decodes - before, f.name).toBe(1 + prefix);
      await inline.close();
      await pooled.close();
    }
  });

  it('a pool of its own decodes zstd frames (the async decoder) in its workers', async () => {
    const pool = new WorkerPool({ size: 2 });
    try {
      const f = fixtures.find((x) => x.name === 'seekable.zst');
      if (f === undefined) throw new Error('fixture missing');
      // inlineDecodeBytes 0: small frames would otherwise be decoded by the native binding from this thread.
      const reader = await openReader(new MemorySource(f.bytes, f.name), { index: false, parallelism: 2, pool, inlineDecodeBytes: 0 });
      expect((await collect(reader)).equals(f.plain)).toBe(true);
      expect(pool.stats.jobs).toBeGreaterThanOrEqual(reader.units.count);
      await reader.close();
    } finally {
      await pool.close();
    }
  });

  it('save their chunk map in the index and load it again (checked against the data) to the same bytes', async () => {
    for (const f of fixtures) {
      const path = writeFixture(tmp.dir, `idx-${f.name}`, f.bytes);
      const first = await openReader(path, { ...f.options, parallelism: 1 });
      expect(first.indexStatus, f.name).toBe('built');
      const units = Array.from(first.units.dStart);
      await first.close();
      const again = await openReader(path, { ...f.options, parallelism: 1, ifStale: 'error' });
      expect(again.indexStatus, f.name).toBe('loaded');
      expect(Array.from(again.units.dStart), f.name).toEqual(units);
      expect((await collect(again)).equals(f.plain), f.name).toBe(true);
      await again.close();
    }
  });

  it("info says which kind a file is, how many units, what a random read costs and what is verified", async () => {
    const kinds: Record<string, string> = {
      'gzip-9.gz': 'single-member',
      'pigz.gz': 'single-member',
      'bgzip.gz': 'bgzf',
      'members.gz': 'multi-member',
      'zstd-19.zst': 'one frame',
      'frames.zst': 'multi-frame',
      'seekable.zst': 'seekable',
      'hand-seekable.zst': 'seekable',
    };
    for (const [name, kind] of Object.entries(kinds)) {
      const f = fixtures.find((x) => x.name === name);
      if (f === undefined) throw new Error(`fixture ${name} missing`);
      const reader = await open('buffer', f);
      const details = reader.info().details;
      expect(details?.kind, name).toBe(kind);
      expect(details?.randomRead, name).toMatch(f.format === 'gzip' ? /decodes one unit/ : /frame/);
      if (kind === 'single-member') expect(details?.facts.checkpoints, name).toBeGreaterThanOrEqual(1);
      if (kind === 'one frame') expect(details?.randomRead).toMatch(/costs decoding from the start of the frame/);
      await reader.close();
    }
  });

  it('prefix (the cheap unverified start of a unit, for tail checks) equals the start of the unit', async () => {
    for (const f of fixtures) {
      const source = new MemorySource(f.bytes, f.name);
      const reader = await open('buffer', f);
      const prefix = formatOf(reader.format).prefix;
      if (prefix === undefined) throw new Error(`${f.name}: no prefix`);
      for (let u = 0; u < reader.units.count; u++) {
        const start = reader.units.dStart[u];
        for (const n of [1, 100, 70_000]) {
          const want = f.plain.subarray(start, Math.min(reader.units.dStart[u + 1], start + n));
          expect(Buffer.from(await prefix(source, reader.units, u, n)).equals(want), `${f.name} unit ${u} prefix ${n}`).toBe(true);
        }
      }
      await reader.close();
    }
  });

  it('gzipSpacingBytes sets the checkpoint spacing, and is validated', async () => {
    const f = fixtures.find((x) => x.name === 'gzip-9.gz');
    if (f === undefined) throw new Error('fixture missing');
    const coarse = await open('buffer', f, { gzipSpacingBytes: 1 << 20 });
    const fine = await open('buffer', f, { gzipSpacingBytes: 64 << 10 });
    expect(coarse.units.count).toBe(1);
    expect(fine.units.count).toBeGreaterThan(1);
    for (let u = 0; u + 1 < fine.units.count; u++) expect(fine.units.dStart[u + 1] - fine.units.dStart[u]).toBeGreaterThanOrEqual(64 << 10);
    await coarse.close();
    await fine.close();
    await expect(openReader(new MemorySource(f.bytes, f.name), { gzipSpacingBytes: 1000 })).rejects.toThrow(/options.gzipSpacingBytes must be an integer of at least 65536/);
    await expect(openReader(new MemorySource(f.bytes, f.name), { gzipSpacingBytes: 1.5 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('a zstd frame larger than bigUnitBytes is read in pieces, verified by one pass first, forwards, backwards and concurrently', async () => {
    const f = fixtures.find((x) => x.name === 'zstd-19.zst');
    if (f === undefined) throw new Error('fixture missing');
    const reader = await open('file', f, { bigUnitBytes: 100_000, pieceBytes: 32_000, cacheBytes: 100_000 });
    expect(reader.units.count).toBe(1);
    expect(reader.layout.count).toBe(Math.ceil(f.plain.length / 32_000));
    expect(reader.info().unverifiedUnits).toBe(1);
    const check = async (offset: number, length: number): Promise<void> => {
      expect(Buffer.from(await reader.read(offset, length)).equals(f.plain.subarray(offset, offset + length))).toBe(true);
    };
    for (let offset = f.plain.length - 5000; offset > 0; offset -= 47_000) await check(offset, 5000);
    expect(reader.info().unverifiedUnits).toBe(0);
    const rand = prng(5);
    await Promise.all(Array.from({ length: 30 }, () => Math.floor(rand() * (f.plain.length - 3000))).map((o) => check(o, 3000)));
    expect((await collect(reader)).equals(f.plain)).toBe(true);
    await reader.close();
  });
});
