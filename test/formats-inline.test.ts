/**
 * Small gzip and zstd units decoded in the calling thread instead of a worker (`inlineDecodeBytes`): the
 * same bytes as the worker path and as the plain original, and the same integrity checks: a damaged span,
 * BGZF block or frame read through the inline path is CORRUPT_DATA, never other bytes. A counting job
 * runner (the reader's `pool`) and `stats.inlineDecodes` tell which path each decode took.
 */
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isSeekdataError, openIndexed, openReader, WorkerPool, type ReaderOptions, type SeekableReader } from '../src/index.js';
import type { JobRunner } from '../src/workers/pool.js';
import { makeText, prng, tempDir, writeFixture } from './support/fixtures.js';
import { decodeGzipUnit, gzipUnitTask, unitByteRange } from '../src/readers/gzip/index.js';
import { MemorySource } from '../src/sources/source.js';
import { bgzip, gzip, mixedData, scanAll } from './support/gzip-fixtures.js';
import { zstdFile, zstdPipe } from './support/zstd.js';

const tmp = tempDir('seekdata-formats-inline-');
const pool = new WorkerPool({ size: 2 });
afterAll(async () => {
  await pool.close();
  tmp.cleanup();
});

/** The shared test pool, counting the jobs posted to it. */
function counting(): JobRunner & { jobs: number } {
  const runner = {
    jobs: 0,
    run: (...args: Parameters<JobRunner['run']>) => {
      runner.jobs++;
      return pool.run(...args);
    },
  };
  return runner;
}

const text = makeText(1_200_000, 77);
const SPACING = { gzipSpacingBytes: 64 << 10 };
/** A whole-second modification time, set before indexing and again after a change (the index stays fresh). */
const STAMP = new Date(Date.UTC(2024, 0, 1));

function stamped(path: string): string {
  utimesSync(path, STAMP, STAMP);
  return path;
}

/** zstd frames of `parts` concatenated (each with its content size and checksum unless `args` say otherwise). */
function frames(parts: Uint8Array[], make: (p: Uint8Array) => Buffer): { bytes: Buffer; ends: number[] } {
  const made = parts.map(make);
  const ends: number[] = [];
  let at = 0;
  for (const f of made) ends.push((at += f.length));
  return { bytes: Buffer.concat(made), ends };
}

const thirds = [text.subarray(0, 400_000), text.subarray(400_000, 800_000), text.subarray(800_000)];

const fixtures: Array<{ name: string; bytes: Buffer; options?: ReaderOptions }> = [
  { name: 'single.gz', bytes: gzip(text, '-6'), options: SPACING },
  { name: 'blocks.bgz.gz', bytes: bgzip(text), options: SPACING },
  { name: 'frames.zst', bytes: frames(thirds, (p) => zstdFile(p, '-3')).bytes },
  // From a pipe: no content size in the header, so decoded by WebAssembly in this thread ('blocking').
  { name: 'piped.zst', bytes: frames(thirds, (p) => zstdPipe(p, '-3')).bytes },
];

/** `count` (offset, length) pairs, each inside one chunk of the reader, at seeded random places. */
function oneChunkRanges(reader: SeekableReader, count: number, seed: number): Array<[number, number]> {
  const rand = prng(seed);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const offset = Math.floor(rand() * reader.size);
    const end = reader.layout.start[reader.chunkIndexAt(offset) + 1];
    out.push([offset, Math.min(end - offset, 1 + Math.floor(rand() * 300))]);
  }
  return out;
}

async function readAll(reader: SeekableReader): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of reader.stream()) parts.push(p);
  return Buffer.concat(parts);
}

describe('inline decoding gives the same bytes as the worker path', () => {
  it.each(fixtures)('$name: random reads, a stream and concurrent reads', async ({ name, bytes, options }) => {
    const path = writeFixture(tmp.dir, name, bytes);
    const inlineRunner = counting();
    const workerRunner = counting();
    const inline = await openReader(path, { ...options, index: false, parallelism: 2, cacheBytes: 1, pool: inlineRunner });
    const workers = await openReader(path, { ...options, index: false, parallelism: 2, cacheBytes: 1, pool: workerRunner, inlineDecodeBytes: 0 });
    try {
      expect(inline.units.count).toBeGreaterThan(2);
      expect(inline.size).toBe(text.length);
      const ranges = oneChunkRanges(inline, 40, name.length);
      const [inlineJobs, workerJobs] = [inlineRunner.jobs, workerRunner.jobs];
      for (const [offset, length] of ranges) {
        const truth = text.subarray(offset, offset + length);
        expect(Buffer.from(await inline.read(offset, length)).equals(truth)).toBe(true);
        expect(Buffer.from(await workers.read(offset, length)).equals(truth)).toBe(true);
      }
      // Every lone read of a small unit was decoded here; with inlineDecodeBytes 0, every one in a worker.
      expect(inline.stats.inlineDecodes).toBe(ranges.length);
      expect(inlineRunner.jobs - inlineJobs).toBe(0);
      expect(workers.stats.inlineDecodes).toBe(0);
      expect(workerRunner.jobs - workerJobs).toBe(ranges.length);

      // A stream: zstd frames with a content size are decoded natively off-thread (inline), the rest in workers.
      const before = inlineRunner.jobs;
      const decodedBefore = inline.stats.inlineDecodes;
      expect((await readAll(inline)).equals(text)).toBe(true);
      expect((await readAll(workers)).equals(text)).toBe(true);
      const offThread = name === 'frames.zst';
      expect(inline.stats.inlineDecodes - decodedBefore).toBe(offThread ? inline.layout.count : 0);
      expect(inlineRunner.jobs - before).toBe(offThread ? 0 : inline.layout.count);

      // Concurrent reads: right bytes whichever path each took.
      const got = await Promise.all(ranges.map(([offset, length]) => inline.read(offset, length)));
      got.forEach((b, i) => expect(Buffer.from(b).equals(text.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))).toBe(true));
    } finally {
      await inline.close();
      await workers.close();
    }
  });
});

describe('inline decoding verifies every unit', () => {
  /** Indexes `bytes`, changes one byte at `at` keeping size and mtime, and reads the unit holding it inline. */
  /** The damaged read failed with CORRUPT_DATA naming the file, decoded in this thread (no pool job); closes the reader. */
  async function expectCorruptInline(error: unknown, reader: SeekableReader, jobs: number): Promise<void> {
    try {
      expect(isSeekdataError(error, 'CORRUPT_DATA'), String(error)).toBe(true);
      expect(String(error)).toContain(reader.name);
      expect(reader.stats.inlineDecodes).toBe(1);
      expect(jobs).toBe(0);
    } finally {
      await reader.close();
    }
  }

  async function damagedRead(name: string, bytes: Buffer, at: number, options: ReaderOptions = {}): Promise<{ error: unknown; reader: SeekableReader; jobs: number }> {
    const path = stamped(writeFixture(tmp.dir, name, bytes));
    const built = await openIndexed(path, { ...options, records: 'lines', recordChecks: true, parallelism: 2, rebuild: true });
    const intact = await built.reader.read(0, 100);
    expect(Buffer.from(intact).equals(text.subarray(0, 100))).toBe(true);
    await built.close();
    const changed = readFileSync(path);
    changed[at] ^= 0x5a;
    writeFileSync(path, changed);
    stamped(path);
    const runner = counting();
    const reader = await openReader(path, { ...options, ifStale: 'error', parallelism: 2, cacheBytes: 1, pool: runner });
    expect(reader.indexStatus).toBe('loaded');
    const jobs = runner.jobs;
    // The unit whose compressed bytes hold `at`.
    const bits = reader.format === 'gzip' ? 8 : 1;
    let u = 0;
    while (u + 1 < reader.units.count && reader.units.cEnd[u] / bits <= at) u++;
    expect(reader.units.cStart[u] / bits).toBeLessThanOrEqual(at);
    const offset = reader.units.dStart[u] + 10;
    const error = await reader.read(offset, 50).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, reader, jobs: runner.jobs - jobs };
  }

  it.each([
    // Whole spans (prefix reads would stop before the damage: test/gzip-prefix.test.ts covers those).
    ['a span of a single-member gzip', 'damaged.gz', gzip(text, '-6'), { ...SPACING, prefixReads: false }],
    // Whole runs of BGZF blocks (a lone read decodes only the blocks holding it: test/bgzf-blocks.test.ts).
    ['a BGZF run', 'damaged.bgz.gz', bgzip(text), { ...SPACING, prefixReads: false }],
  ] as const)('%s: CORRUPT_DATA naming the file, decoded in this thread', async (_what, name, bytes, options) => {
    const { error, reader, jobs } = await damagedRead(name, bytes, Math.floor(bytes.length / 2), options);
    await expectCorruptInline(error, reader, jobs);
  });

  it.each([
    ['with a checksum and a content size (native, off-thread)', 'damaged.zst', (p: Uint8Array) => zstdFile(p, '-3')],
    ['without a content size (WebAssembly, in this thread)', 'damaged-piped.zst', (p: Uint8Array) => zstdPipe(p, '-3')],
    ['without a checksum (the CRC-32 the index recorded)', 'damaged-nocheck.zst', (p: Uint8Array) => zstdFile(p, '-3', '--no-check')],
  ] as const)('a zstd frame %s: CORRUPT_DATA, decoded in this thread', async (_what, name, make) => {
    const { bytes, ends } = frames(thirds, make);
    // The middle of the middle frame's compressed data.
    const { error, reader, jobs } = await damagedRead(name, bytes, Math.floor((ends[0] + ends[1]) / 2));
    await expectCorruptInline(error, reader, jobs);
  });
});

describe('a gzip unit decoded for the calling thread (inThread)', () => {
  it('gives the same bytes as the posted form, exactly dLength of them, and fails its CRC-32 the same way', async () => {
    // Text with stretches of random bytes: spans with stored blocks too, starting at every bit shift.
    const plain = mixedData(1_500_000, 9);
    for (const file of [gzip(plain, '-6'), bgzip(plain)]) {
      const { table } = await scanAll(new MemorySource(file), { spacing: 64 << 10 });
      expect(table.count).toBeGreaterThan(5);
      for (let i = 0; i < table.count; i++) {
        const { offset, length } = unitByteRange(table, i);
        const task = gzipUnitTask(table, i, file.subarray(offset, offset + length), 'unit.gz');
        const posted = decodeGzipUnit(task);
        const here = decodeGzipUnit({ ...task, inThread: true });
        expect(here.length).toBe(table.dStart[i + 1] - table.dStart[i]);
        expect(Buffer.from(here).equals(plain.subarray(table.dStart[i], table.dStart[i + 1]))).toBe(true);
        // The posted form owns its buffer exactly (a worker moves it); the in-thread one need not.
        expect(posted.byteOffset === 0 && posted.byteLength === posted.buffer.byteLength).toBe(true);
        expect(Buffer.from(posted).equals(Buffer.from(here))).toBe(true);
        let error: unknown;
        try {
          decodeGzipUnit({ ...task, inThread: true, crc: (task.crc + 1) >>> 0 });
        } catch (e) {
          error = e;
        }
        expect(isSeekdataError(error, 'CORRUPT_DATA'), String(error)).toBe(true);
      }
    }
  });
});

describe('the inlineDecodeBytes option', () => {
  const path = writeFixture(tmp.dir, 'option.zst', frames(thirds, (p) => zstdFile(p, '-3')).bytes);

  it('units over the limit go to the workers', async () => {
    const runner = counting();
    // Every frame is about 400 kB: a 100 kB limit sends them all to the pool.
    const reader = await openReader(path, { index: false, parallelism: 2, cacheBytes: 1, pool: runner, inlineDecodeBytes: 100_000 });
    try {
      const jobs = runner.jobs;
      expect(Buffer.from(await reader.read(500_000, 1000)).equals(text.subarray(500_000, 501_000))).toBe(true);
      expect(reader.stats.inlineDecodes).toBe(0);
      expect(runner.jobs - jobs).toBe(1);
    } finally {
      await reader.close();
    }
  });

  it.each([-1, 1.5, '2'])('%s is INVALID_OPTION naming the field', async (value) => {
    await expect(openReader(path, { index: false, inlineDecodeBytes: value as number })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('inlineDecodeBytes') as unknown,
    });
  });
});
