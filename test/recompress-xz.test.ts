/**
 * The xz writer's pieces against independent truths: CRC-64 against the catalogue check value and the
 * check values xz itself stores; the spelled-out LZMA2 presets against liblzma's own `preset` (byte for
 * byte); the block dictionary against the LZMA2 property encoding; whole outputs against `xz -t`,
 * `xz -lvv` (dictionary per block, sizes in headers) and `xz -dc`, including incompressible data and
 * an empty input.
 */
import lzma from 'lzma-native';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openReader, recompress } from '../src/index.js';
import { crc64 } from '../src/readers/write/crc64.js';
import { blockDictionary, encodeLzma2, presetOptions } from '../src/readers/write/lzma2.js';
import { makeText, prng, run, tempDir, writeFixture, xz } from './support/fixtures.js';
import { toolDecode, toolTest, xzBlocks } from './support/recompress-tools.js';

const tmp = tempDir('seekdata-recompress-xz-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).reverse().toString('hex');

describe('CRC-64 (xz)', () => {
  it('gives the catalogue check value of "123456789"', () => {
    // CRC-64/XZ (ECMA-182, reflected): check = 0x995dc9bbdf1939fa.
    expect(hex(crc64(Buffer.from('123456789')))).toBe('995dc9bbdf1939fa');
    expect(hex(crc64(new Uint8Array(0)))).toBe('0000000000000000');
  });

  it('equals the check values xz stores for its own blocks (lengths not a multiple of 4 included)', () => {
    const data = makeText(300_001, 3);
    const path = writeFixture(tmp.dir, 'crc.xz', xz(data, '--check=crc64', '--block-size=65539'));
    const blocks = xzBlocks(path);
    expect(blocks.length).toBeGreaterThan(3);
    for (const b of blocks) {
      expect(hex(crc64(data.subarray(b.uncompressedOffset, b.uncompressedOffset + b.uncompressedSize)))).toBe(b.checkValue);
    }
  });
});

describe('LZMA2 presets', () => {
  const sample = makeText(120_000, 5);
  // Presets 7-9 differ only in the dictionary (16-64 MiB, several hundred MiB of encoder memory): not run.
  it.each([0, 1, 2, 3, 4, 5, 6])('preset %i spelled out encodes exactly as liblzma\'s own preset', (level) => {
    const own = encodeLzma2(sample, presetOptions(level));
    const stream = new lzma.Stream();
    const parts: Buffer[] = [];
    stream.bufferHandler = (buf) => {
      if (buf !== null && buf !== undefined) parts.push(buf);
    };
    stream.rawEncoder({ filters: [{ id: lzma.FILTER_LZMA2, options: { preset: level } }] });
    stream.code(sample, false);
    stream.code(null, false);
    expect(Buffer.from(own).equals(Buffer.concat(parts))).toBe(true);
  });

  it('a block gets the smallest dictionary that holds it, within the preset', () => {
    expect(blockDictionary(1 << 20, 6).dictSize).toBe(1 << 20);
    expect(blockDictionary((1 << 20) + 1, 6).dictSize).toBe(3 << 19); // 1.5 MiB: 3 * 2^19
    expect(blockDictionary(805_696, 6).dictSize).toBe(1 << 20);
    expect(blockDictionary(100, 6).dictSize).toBe(4096);
    expect(blockDictionary(100 << 20, 6).dictSize).toBe(8 << 20); // preset 6 caps at 8 MiB
    expect(blockDictionary(1 << 20, 0).dictSize).toBe(256 << 10); // preset 0 caps at 256 KiB
    // The property byte stands for exactly that size (LZMA2: (2 | (b & 1)) << (b / 2 + 11)).
    for (const bytes of [1, 4097, 65_536, 100_003, 1 << 20, 3 << 20]) {
      const { dictSize, property } = blockDictionary(bytes, 9);
      expect((2 | (property & 1)) * 2 ** (Math.floor(property / 2) + 11)).toBe(dictSize);
    }
  });
});

describe('xz output', () => {
  it('one stream, a block per unit with its own dictionary and both sizes in its header; xz -t/-dc agree', async () => {
    const data = makeText(1_300_000, 8);
    const input = writeFixture(tmp.dir, 'dict.csv', data);
    const output = `${tmp.dir}/dict.csv.xz`;
    await recompress(input, output, { unitBytes: 600_000, parallelism: 2, level: 6 });
    toolTest('xz', output);
    expect(toolDecode('xz', output).equals(data)).toBe(true);
    const blocks = xzBlocks(output);
    expect(blocks.map((b) => [b.uncompressedSize, b.headerFlags, b.filters])).toEqual([
      [600_000, 'cu', '--lzma2=dict=768KiB'],
      [600_000, 'cu', '--lzma2=dict=768KiB'],
      [100_000, 'cu', '--lzma2=dict=128KiB'],
    ]);
    // One stream holding the three blocks (xz --robot: "totals", streams, blocks, ...).
    const totals = /^totals\t(\d+)\t(\d+)/m.exec(run('xz', ['--robot', '-l', output]).toString());
    expect(totals?.slice(1, 3)).toEqual(['1', '3']);
  });

  it('incompressible data (LZMA2 stores it) and a 1-byte last unit', async () => {
    const rand = prng(4);
    const data = Buffer.alloc(200_001);
    // No NUL bytes: seekdata reads text, and takes a NUL near the start for an unknown binary format.
    for (let i = 0; i < data.length; i++) data[i] = 1 + Math.floor(rand() * 255);
    const input = writeFixture(tmp.dir, 'random.bin', data);
    const output = `${tmp.dir}/random.bin.xz`;
    const result = await recompress(input, output, { unitBytes: 100_000, parallelism: 1, level: 1 });
    expect(result.units).toBe(3);
    expect(result.compressedBytes).toBeGreaterThan(data.length); // stored, not compressed
    toolTest('xz', output);
    expect(toolDecode('xz', output).equals(data)).toBe(true);
    const reader = await openReader(output, { index: false, parallelism: 1 });
    try {
      expect(reader.info().units).toBe(3);
      expect(Buffer.from(await reader.read(99_990, 20)).equals(data.subarray(99_990, 100_010))).toBe(true);
      expect(Buffer.from(await reader.read(200_000, 1)).equals(data.subarray(200_000))).toBe(true);
    } finally {
      await reader.close();
    }
  });
});
