/**
 * Damaged inputs: truncated and bit-flipped bzip2 and xz files give typed errors (TRUNCATED /
 * CORRUPT_DATA) naming the file and the compressed offset, quickly and without hanging, and the intact
 * data before the damage stays readable.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, openReader, type SeekableReader, type SeekdataError } from '../src/index.js';
import { bzip2, makeText, tempDir, writeFixture, xz } from './support/fixtures.js';

const text = makeText(1_200_000, 11);
const bz = bzip2(text, 1);
const xzBlocks = xz(text, '--block-size=100KiB');
const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

async function readAll(reader: SeekableReader): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of reader.stream()) parts.push(p);
  return Buffer.concat(parts);
}

async function failure(path: string, parallelism = 2): Promise<SeekdataError> {
  const started = Date.now();
  const error = await openReader(path, { index: false, parallelism })
    .then(async (reader) => {
      try {
        await readAll(reader);
      } finally {
        await reader.close();
      }
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(Date.now() - started).toBeLessThan(10_000);
  if (!isSeekdataError(error)) throw new Error(`expected a SeekdataError, got ${String(error)}`);
  expect(error.message).toContain(path);
  return error;
}

function flipped(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] ^= 0x55;
  return copy;
}

describe('bzip2 damage', () => {
  it.each([0.5, 0.9, 0.999])('truncated at %s of the file: TRUNCATED with the offset; the intact part stays readable', async (fraction) => {
    const cut = Math.floor(bz.length * fraction);
    const path = writeFixture(tmp.dir, `cut-${fraction}.bz2`, bz.subarray(0, cut));
    const error = await failure(path);
    expect(error.code).toBe('TRUNCATED');
    expect(error.compressedOffset).toBeLessThanOrEqual(cut);
    expect(error.compressedOffset).toBeGreaterThan(0);
    const reader = await openReader(path, { index: false, allowDamage: true });
    expect(reader.damage?.code).toBe('TRUNCATED');
    expect(reader.size).toBeGreaterThan(0);
    expect((await readAll(reader)).equals(text.subarray(0, reader.size))).toBe(true);
    await expect(reader.read(reader.size, 1)).rejects.toMatchObject({ code: 'TRUNCATED' });
    await reader.close();
  });

  it('truncated inside the header: TRUNCATED', async () => {
    const path = writeFixture(tmp.dir, 'tiny.bz2', bz.subarray(0, 6));
    expect((await failure(path)).code).toBe('TRUNCATED');
  });

  it.each([0.3, 0.55, 0.8])('a flipped byte at %s of the file: a typed error at or before it; blocks before it stay readable', async (fraction) => {
    const at = Math.floor(bz.length * fraction);
    const path = writeFixture(tmp.dir, `flip-${fraction}.bz2`, flipped(bz, at));
    for (const parallelism of [1, 2]) {
      const error = await failure(path, parallelism);
      expect(['CORRUPT_DATA', 'TRUNCATED']).toContain(error.code);
      expect(error.compressedOffset).toBeLessThanOrEqual(at);
    }
    const reader = await openReader(path, { index: false, allowDamage: true });
    expect(reader.size).toBeGreaterThan(0);
    expect((await readAll(reader)).equals(text.subarray(0, reader.size))).toBe(true);
    await reader.close();
  });

  it('a damaged stream CRC is CORRUPT_DATA', async () => {
    // The stream CRC sits in the last 4-5 bytes, after the end-of-stream magic.
    const path = writeFixture(tmp.dir, 'crc.bz2', flipped(bz, bz.length - 2));
    const error = await failure(path);
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.message).toMatch(/CRC/);
  });
});

describe('xz damage', () => {
  it.each([0.5, 0.999])('truncated at %s: TRUNCATED', async (fraction) => {
    const path = writeFixture(tmp.dir, `cut-${fraction}.xz`, xzBlocks.subarray(0, Math.floor(xzBlocks.length * fraction)));
    expect((await failure(path)).code).toBe('TRUNCATED');
  });

  it('a flipped byte inside a block: CORRUPT_DATA at that block; other blocks stay readable', async () => {
    const reader0 = await openReader(writeFixture(tmp.dir, 'good.xz', xzBlocks), { index: false });
    const unit = 4;
    const blockStart = reader0.units.cStart[unit];
    const blockEnd = reader0.units.cEnd[unit];
    await reader0.close();
    const at = Math.floor((blockStart + blockEnd) / 2);
    const path = writeFixture(tmp.dir, 'flip.xz', flipped(xzBlocks, at));
    const error = await failure(path);
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.compressedOffset).toBe(blockStart);
    const reader = await openReader(path, { index: false });
    const before = reader.units.dStart[unit];
    expect(Buffer.from(await reader.read(0, before)).equals(text.subarray(0, before))).toBe(true);
    const after = reader.units.dStart[unit + 1];
    expect(Buffer.from(await reader.read(after, 1000)).equals(text.subarray(after, after + 1000))).toBe(true);
    await expect(reader.read(before, 10)).rejects.toMatchObject({ code: 'CORRUPT_DATA', compressedOffset: blockStart });
    await reader.close();
  });

  it('a flipped byte in the index: CORRUPT_DATA on open', async () => {
    const path = writeFixture(tmp.dir, 'flip-index.xz', flipped(xzBlocks, xzBlocks.length - 20));
    expect((await failure(path)).code).toBe('CORRUPT_DATA');
  });
});
