/**
 * `recompress` into every output format from every input format seekdata reads (plain, bzip2, xz, gzip
 * of one member, BGZF, zstd of one frame): the standard tool accepts the output (`gzip -t` and
 * `bgzip -t`, `zstd -t`, `xz -t`, `bzip2 -t`) and decodes it to exactly the input; the units sit at
 * multiples of unitBytes (an odd size, so they cut lines anywhere), as the tools and the format specs see
 * them; and seekdata opens the output with the reader of its format, one unit per unit written (bzip2:
 * one block per 900 kB of a unit; gzip: BGZF blocks grouped by the reader) and reads across unit boundaries.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openReader, recompress, type RecompressResult } from '../src/index.js';
import { cli } from './support/cli.js';
import { bzip2, makeText, run, tempDir, writeFixture, xz } from './support/fixtures.js';
import { bgzfMembers, bzip2Streams, EXTENSION, OUT_FORMATS, toolDecode, toolTest, xzBlocks, zstdListing, type OutFormat } from './support/recompress-tools.js';

const tmp = tempDir('seekdata-recompress-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const text = makeText(700_000, 91);
const UNIT = 100_003;
const units = Math.ceil(text.length / UNIT);

// Inputs made by the real tools.
const inputs: Array<{ name: string; make: () => Buffer }> = [
  { name: 'plain.csv', make: () => text },
  { name: 'in.csv.bz2', make: () => bzip2(text, 9) },
  { name: 'in.csv.xz', make: () => xz(text, '-6') },
  { name: 'in.csv.gz', make: () => run('gzip', ['-c', '-6'], text) },
  { name: 'in.bgz.csv.gz', make: () => run('bgzip', ['-c'], text) },
  { name: 'in.csv.zst', make: () => run('zstd', ['-q', '-c', '-19'], text) },
];

/** Units of a format's output as the tools and format specs see them: decompressed start offsets. */
function unitStarts(format: OutFormat, path: string): number[] {
  const bytes = readFileSync(path);
  if (format === 'xz') {
    const blocks = xzBlocks(path);
    for (const b of blocks) {
      expect(b.headerFlags).toBe('cu'); // both sizes in every block header
      expect(b.check).toBe('CRC64');
    }
    return blocks.map((b) => b.uncompressedOffset);
  }
  if (format === 'bzip2') {
    const streams = bzip2Streams(bytes);
    const starts: number[] = [];
    let at = 0;
    for (const s of streams) {
      starts.push(at);
      at += s.length;
    }
    expect(Buffer.concat(streams).equals(text)).toBe(true);
    return starts;
  }
  if (format === 'gzip') {
    // BGZF blocks of at most 0xff00 bytes; a unit boundary is a block boundary.
    const members = bgzfMembers(bytes);
    expect(members.at(-1)?.isize).toBe(0); // the BGZF EOF block
    const offsets = new Set<number>();
    let at = 0;
    for (const m of members) {
      expect(m.isize).toBeLessThanOrEqual(0xff00);
      offsets.add(at);
      at += m.isize;
    }
    return [...offsets].filter((o) => o % UNIT === 0 && o < text.length);
  }
  const listing = zstdListing(path);
  expect(listing).toMatch(/# Skippable Frames: 1\b/);
  expect(listing).toMatch(/Check: XXH64/);
  const frames = Number(/# Zstandard Frames: (\d+)/.exec(listing)?.[1]);
  return Array.from({ length: frames }, (_, i) => i * UNIT);
}

describe.each(inputs)('recompress from $name', ({ name, make }) => {
  it.each(OUT_FORMATS)('to %s: the standard tool accepts it and decodes it to the input', async (format) => {
    const input = writeFixture(tmp.dir, name, make());
    const output = `${tmp.dir}/${name}.out${EXTENSION[format]}`;
    const result: RecompressResult = await recompress(input, output, { unitBytes: UNIT, parallelism: 2 });
    expect(result).toMatchObject({ format, units, decompressedBytes: text.length, unitBytes: UNIT });
    expect(result.compressedBytes).toBe(readFileSync(output).length);
    toolTest(format, output);
    expect(toolDecode(format, output).equals(text)).toBe(true);
    expect(unitStarts(format, output)).toEqual(Array.from({ length: units }, (_, i) => i * UNIT));
  });
});

describe('seekdata reads what recompress wrote', () => {
  const big = makeText(2_500_000, 92);
  const BIG_UNIT = 300_007;
  const bigUnits = Math.ceil(big.length / BIG_UNIT);
  const plain = writeFixture(tmp.dir, 'read.csv', big);
  // A bzip2 unit of BIG_UNIT bytes is one stream of one block. seekdata's BGZF reader groups blocks into
  // units of its own (about 1 MiB), so for gzip "many" is all that is asked.
  for (const format of OUT_FORMATS) {
    it(`${format}: the ${format} reader opens it; info reports many units; reads across unit boundaries`, async () => {
      const output = `${tmp.dir}/read${EXTENSION[format]}`;
      await recompress(plain, output, { unitBytes: BIG_UNIT, parallelism: 2 });
      const info = await cli('info', output, '--no-index', '--json');
      expect(info.code, info.stderr).toBe(0);
      const parsed = JSON.parse(info.stdout.toString()) as { format: string; units: number; size: number; largestUnit: number };
      expect(parsed.format).toBe(format);
      expect(parsed.size).toBe(big.length);
      if (format === 'gzip') expect(parsed.units).toBeGreaterThan(1);
      else expect(parsed).toMatchObject({ units: bigUnits, largestUnit: BIG_UNIT });
      const reader = await openReader(output, { index: false, parallelism: 1 });
      try {
        for (let k = 1; k < bigUnits; k++) {
          const at = k * BIG_UNIT - 7;
          expect(Buffer.from(await reader.read(at, 14)).equals(big.subarray(at, at + 14))).toBe(true);
        }
        expect(Buffer.from(await reader.read(big.length - 3, 3)).equals(big.subarray(big.length - 3))).toBe(true);
      } finally {
        await reader.close();
      }
    });
  }
});
