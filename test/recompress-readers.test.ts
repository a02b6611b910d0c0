/**
 * What `recompress` writes, opened through `openReader` with the real gzip and zstd readers: the gzip
 * output is BGZF and the zstd output is in the seekable format (as `info` reports them), and a random
 * read fetches and decodes one unit of it, where the single-frame input it came from is decoded from its
 * start. And gzip inputs whose opening scan hands out a verified start (whole members before a member it
 * cuts into checkpoint spans) are written once, not that start twice.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, MemorySource, openReader, recompress, type ByteSource } from '../src/index.js';
import { makeText, run, tempDir, writeFixture } from './support/fixtures.js';
import { toolDecode } from './support/recompress-tools.js';

const tmp = tempDir('seekdata-recompress-readers-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

/** A ByteSource over `bytes` that counts the bytes read from it. */
function counted(name: string, bytes: Uint8Array): ByteSource & { bytesRead: number } {
  const memory = new MemorySource(bytes);
  return {
    name,
    size: memory.size,
    version: undefined,
    bytesRead: 0,
    async read(offset: number, length: number): Promise<Uint8Array> {
      this.bytesRead += length;
      return memory.read(offset, length);
    },
    close: () => memory.close(),
  };
}

const text = makeText(6_000_000, 71);
const plain = writeFixture(tmp.dir, 'in.csv', text);
const offsets = [1_048_570, 2_500_001, 3_999_950, 5_999_900];

describe.each([
  ['gzip', '.gz', 'bgzf'],
  ['zstd', '.zst', 'seekable'],
] as const)('%s output through the %s reader', (format, extension, kind) => {
  it(`is ${kind}; a random read fetches and decodes one unit`, async () => {
    const output = `${plain}${extension}`;
    await recompress(plain, output, { parallelism: 2 });
    const bytes = readFileSync(output);
    const source = counted(`out${extension}`, bytes);
    const reader = await openReader(source, { index: false, parallelism: 1, cacheBytes: 1 });
    try {
      const info = reader.info();
      expect(info).toMatchObject({ format, size: text.length, sequentialUnits: false });
      expect(info.details?.kind).toBe(kind);
      expect(info.largestUnit).toBeLessThanOrEqual(1 << 20);
      // Every unit decodes to at most 1 MiB: with 6 MB, at least 6 of them.
      expect(info.units).toBeGreaterThanOrEqual(6);
      for (const offset of offsets) {
        source.bytesRead = 0;
        const decodes = reader.stats.decodes;
        const got = await reader.read(offset, 100);
        expect(Buffer.from(got).equals(text.subarray(offset, offset + 100))).toBe(true);
        // One unit: at most two (a read may straddle a boundary), each well under half the file.
        expect(reader.stats.decodes - decodes).toBeGreaterThanOrEqual(1);
        expect(reader.stats.decodes - decodes).toBeLessThanOrEqual(2);
        expect(source.bytesRead).toBeLessThan(bytes.length / 2.5);
      }
    } finally {
      await reader.close();
    }
  });
});

it('zstd: a single-frame input is one unit decoded from its start; its recompressed form is many', async () => {
  const single = run('zstd', ['-q', '-c', '-3'], text);
  const source = counted('single.zst', single);
  const reader = await openReader(source, { index: false, parallelism: 1, cacheBytes: 1 });
  try {
    expect(reader.info()).toMatchObject({ format: 'zstd', units: 1, largestUnit: text.length });
    expect(reader.info().details?.kind).toBe('one frame');
    source.bytesRead = 0;
    await reader.read(5_999_900, 100);
    // The whole frame is fetched for a read near its end: what the seekable output above avoids.
    expect(source.bytesRead).toBeGreaterThanOrEqual(single.length);
  } finally {
    await reader.close();
  }
  const input = writeFixture(tmp.dir, 'single.csv.zst', single);
  const result = await recompress(input, `${tmp.dir}/single.seekable.csv.zst`, { parallelism: 2 });
  expect(result.units).toBe(Math.ceil(text.length / (1 << 20)));
  const after = await openReader(`${tmp.dir}/single.seekable.csv.zst`, { index: false, parallelism: 1 });
  try {
    expect(after.info()).toMatchObject({ format: 'zstd', units: result.units, largestUnit: 1 << 20 });
  } finally {
    await after.close();
  }
});

describe('gzip inputs of several members', () => {
  // Members of 900 kB, 700 kB and 3 MB: the first two are handed out by the scan that opens the file,
  // the third is cut into checkpoint spans (1 MiB) and read through the reader.
  const parts = [makeText(900_000, 72), makeText(700_000, 73), makeText(3_000_000, 74)];
  const whole = Buffer.concat(parts);
  const members = Buffer.concat(parts.map((p) => run('gzip', ['-c', '-6'], p)));
  it.each([1, 2])('parallelism %i: written once, exactly the input', async (parallelism) => {
    const input = writeFixture(tmp.dir, `members-${parallelism}.csv.gz`, members);
    const output = `${input}.zst`;
    const result = await recompress(input, output, { parallelism, unitBytes: 500_000 });
    expect(result.decompressedBytes).toBe(whole.length);
    expect(toolDecode('zstd', output).equals(whole)).toBe(true);
  });
});
