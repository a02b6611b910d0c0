/**
 * Issue 8, item 1: every byte handed out has passed its unit's integrity check. The damaged files here
 * are xz files whose damage liblzma does NOT detect while decoding (zeroed bytes inside the stored chunks
 * of incompressible data): only the block check at the block's end finds it, so a reader that returns
 * bytes before the check (the old prefix path, now `verify: 'lazy'`) returns wrong data. Each case checks
 * that precondition (`xz -dc` rejects the file; the lazy path returns bytes) and then that the default
 * reader rejects with CORRUPT_DATA naming the file and the block, while the intact file reads exactly.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, openIndexed, openReader, type SeekableReader, type SeekdataError } from '../src/index.js';
import { bzip2, prng, tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-verify-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

/** Incompressible bytes in lines (xz stores them as uncompressed LZMA2 chunks, so zeros decode silently). */
function randomLines(size: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    const byte = Math.floor(rand() * 256);
    out[i] = (i + 1) % 100 === 0 ? 0x0a : byte === 0x0a || byte === 0x0d ? 0x0b : byte;
  }
  return out;
}

function zeroed(bytes: Buffer, at: number, length: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.fill(0, at, at + length);
  return copy;
}

function xzDecode(path: string): { ok: boolean; out: Buffer } {
  const result = spawnSync('xz', ['-dc', path], { maxBuffer: 1 << 30 });
  return { ok: result.status === 0, out: result.stdout };
}

async function rejection(promise: Promise<unknown>): Promise<SeekdataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSeekdataError(error)) throw new Error(`expected a SeekdataError, got ${String(error)}`);
  return error;
}

function expectCorrupt(error: SeekdataError, path: string, blockAt: number): void {
  expect(error.code).toBe('CORRUPT_DATA');
  expect(error.message).toContain(path);
  expect(error.message).toContain(`block at byte ${blockAt}`);
  expect(error.compressedOffset).toBe(blockAt);
}

async function collect(reader: SeekableReader): Promise<{ bytes: Buffer; error: unknown }> {
  const parts: Uint8Array[] = [];
  try {
    for await (const p of reader.stream()) parts.push(p);
    return { bytes: Buffer.concat(parts), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(parts), error };
  }
}

const original = randomLines(300_000, 7);

describe.each([
  ['crc32', '--check=crc32'],
  ['crc64', '--check=crc64'],
  ['sha256', '--check=sha256'],
])('xz blocks (check %s) damaged where liblzma does not notice', (name, check) => {
  const intact = xz(original, '-1', '--block-size=100KiB', check);
  const intactPath = writeFixture(tmp.dir, `intact-${name}.xz`, intact);
  let damagedPath = '';
  let blockAt = 0;
  let from = 0;
  let to = 0;

  it('precondition: xz -dc rejects the damaged file, and the unchecked prefix path returns bytes', async () => {
    const probe = await openReader(intactPath, { index: false });
    blockAt = probe.units.cStart[1];
    from = probe.units.dStart[1];
    to = probe.units.dStart[2];
    await probe.close();
    damagedPath = writeFixture(tmp.dir, `damaged-${name}.xz`, zeroed(intact, blockAt + 40_000, 881));
    expect(xzDecode(intactPath).ok).toBe(true);
    expect(xzDecode(damagedPath).ok).toBe(false);
    const lazy = await openReader(damagedPath, { index: false, verify: 'lazy', parallelism: 1 });
    // Before the damage the prefix is intact; across it the bytes are wrong, and no error is raised.
    expect(Buffer.from(await lazy.read(from + 10, 1000)).equals(original.subarray(from + 10, from + 1010))).toBe(true);
    expect(Buffer.from(await lazy.read(from + 30_000, 20_000)).equals(original.subarray(from + 30_000, from + 50_000))).toBe(false);
    await lazy.close();
  });

  it.each([1, 2])('read inside the damaged block rejects with CORRUPT_DATA (parallelism %i); other blocks read exactly', async (parallelism) => {
    const reader = await openReader(damagedPath, { index: false, parallelism });
    expectCorrupt(await rejection(reader.read(from + 10, 1000)), damagedPath, blockAt);
    expectCorrupt(await rejection(reader.read(from + 30_000, 20_000)), damagedPath, blockAt);
    expectCorrupt(await rejection(reader.read(from - 100, 200)), damagedPath, blockAt);
    expect(Buffer.from(await reader.read(5, 90_000)).equals(original.subarray(5, 90_005))).toBe(true);
    expect(Buffer.from(await reader.read(to + 1, 5000)).equals(original.subarray(to + 1, to + 5001))).toBe(true);
    const { bytes, error } = await collect(reader);
    expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
    expect(bytes.equals(original.subarray(0, from))).toBe(true);
    await reader.close();
  });

  it('the intact file reads exactly, also where the damage would be', async () => {
    const reader = await openReader(intactPath, { index: false, parallelism: 1 });
    expect(Buffer.from(await reader.read(from + 10, 1000)).equals(original.subarray(from + 10, from + 1010))).toBe(true);
    expect(Buffer.from(await reader.read(from + 30_000, 20_000)).equals(original.subarray(from + 30_000, from + 50_000))).toBe(true);
    await reader.close();
  });
});

it("xz --check=none: there is no check, so 'full' can only confirm sizes: it returns what xz -dc returns", async () => {
  const intact = xz(original, '-1', '--block-size=100KiB', '--check=none');
  const probe = await openReader(intact, { index: false });
  const blockAt = probe.units.cStart[1];
  await probe.close();
  const path = writeFixture(tmp.dir, 'damaged-none.xz', zeroed(intact, blockAt + 40_000, 881));
  const reference = xzDecode(path);
  expect(reference.ok).toBe(true);
  expect(reference.out.equals(original)).toBe(false);
  const warnings: string[] = [];
  const reader = await openReader(path, { index: false, onWarning: (m) => warnings.push(m) });
  expect(Buffer.from(await reader.read(0, reader.size)).equals(reference.out)).toBe(true);
  expect(warnings.join('\n')).toMatch(/no integrity check/);
  await reader.close();
});

describe('records of a file damaged after indexing (small blocks)', () => {
  it('records.get / text / slice in the damaged block reject with CORRUPT_DATA; others are exact', async () => {
    const intact = xz(original, '-1', '--block-size=100KiB');
    const path = writeFixture(tmp.dir, 'records.xz', intact);
    const index = join(tmp.dir, 'records.xz.sdx');
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const built = await openIndexed(path, { index, records: 'lines', parallelism: 1 });
    const blockAt = built.reader.units.cStart[1];
    const inBlock1 = Math.floor(built.reader.units.dStart[1] / 100) + 5;
    expect(Buffer.from(await built.records.get(inBlock1)).equals(original.subarray(inBlock1 * 100, inBlock1 * 100 + 99))).toBe(true);
    await built.close();
    // Damage in the middle of the file (outside the fingerprinted first and last 64 KiB), same mtime.
    writeFileSync(path, zeroed(intact, blockAt + 40_000, 881));
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const file = await openIndexed(path, { index, records: 'lines', parallelism: 1, ifStale: 'error' });
    expect(file.report.status).toBe('loaded');
    expectCorrupt(await rejection(file.records.get(inBlock1)), path, blockAt);
    expectCorrupt(await rejection(file.records.text(inBlock1 + 1)), path, blockAt);
    expectCorrupt(await rejection(file.records.slice(inBlock1, inBlock1 + 3)), path, blockAt);
    const slice = await file.records.slice(3, 6);
    expect(slice.map((r, k) => Buffer.from(r).equals(original.subarray((3 + k) * 100, (3 + k) * 100 + 99)))).toEqual([true, true, true]);
    expect(Buffer.from(await file.records.get(4)).equals(original.subarray(400, 499))).toBe(true);
    await file.close();
  });
});

describe('big units (read in pieces)', () => {
  const big = randomLines(1_600_000, 9);
  const pieces = { bigUnitBytes: 200_000, pieceBytes: 64_000 };
  const intact = xz(big, '-1');
  // Piece 8 of 25: liblzma reaches the block check only well after it.
  const damageAt = 12 + 8 * 65_539 + 1000;
  const intactPath = writeFixture(tmp.dir, 'one-block.xz', intact);
  const damagedPath = writeFixture(tmp.dir, 'one-block-damaged.xz', zeroed(intact, damageAt, 881));

  it('precondition: xz -dc rejects it; lazy pieces come out unchecked', async () => {
    expect(xzDecode(damagedPath).ok).toBe(false);
    const lazy = await openReader(damagedPath, { index: false, verify: 'lazy', ...pieces, parallelism: 1 });
    expect(lazy.layout.count).toBe(25);
    expect(Buffer.from(await lazy.read(100, 1000)).equals(big.subarray(100, 1100))).toBe(true);
    const { bytes, error } = await collect(lazy);
    expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
    expect(bytes.length).toBeGreaterThan(500_000);
    await lazy.close();
  });

  it.each([1, 2])("'full' (parallelism %i): no piece is handed out; every read and the stream reject with CORRUPT_DATA", async (parallelism) => {
    const reader = await openReader(damagedPath, { index: false, ...pieces, parallelism, cacheBytes: 1 << 20 });
    expect(reader.info().unverifiedUnits).toBe(1);
    expectCorrupt(await rejection(reader.read(100, 1000)), damagedPath, 12);
    expectCorrupt(await rejection(reader.read(300_000, 1000)), damagedPath, 12);
    const { bytes, error } = await collect(reader);
    expect(bytes.length).toBe(0);
    expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
    expect(reader.info().unverifiedUnits).toBe(1);
    await reader.close();
  });

  it("'full' on the intact file: one verification pass, then pieces are re-decoded and checked against their CRC32s", async () => {
    const reader = await openReader(intactPath, { index: false, ...pieces, parallelism: 1, cacheBytes: 150_000 });
    const check = async (offset: number, length: number): Promise<void> => {
      expect(Buffer.from(await reader.read(offset, length)).equals(big.subarray(offset, offset + length))).toBe(true);
    };
    await check(100, 1000);
    expect(reader.info().unverifiedUnits).toBe(0);
    expect(reader.pieceCrcs.crc.every((c) => c >= 0)).toBe(true);
    for (let offset = big.length - 3000; offset > 0; offset -= 71_000) await check(offset, 3000);
    await Promise.all([5, 300_000, 1_520_000, 130_000].map((o) => check(o, 10_000)));
    const { bytes, error } = await collect(reader);
    expect(error).toBeUndefined();
    expect(bytes.equals(big)).toBe(true);
    await reader.close();
  });

  it('piece CRC32s are saved with the index and catch damage the fingerprint misses', async () => {
    const path = writeFixture(tmp.dir, 'one-block-records.xz', intact);
    const index = join(tmp.dir, 'one-block-records.xz.sdx');
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const built = await openIndexed(path, { index, records: 'lines', ...pieces, parallelism: 1 });
    expect(built.reader.info().unverifiedUnits).toBe(0);
    await built.close();
    writeFileSync(path, zeroed(intact, damageAt, 881));
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const record = 5255; // bytes 525,500.. : inside the zeroed range, in piece 8
    const file = await openIndexed(path, { index, records: 'lines', ...pieces, parallelism: 1, ifStale: 'error' });
    expect(file.report.status).toBe('loaded');
    expect(file.reader.info().unverifiedUnits).toBe(0);
    // Piece 0 matches its recorded CRC32: served without decoding the whole block.
    expect(Buffer.from(await file.records.get(3)).equals(big.subarray(300, 399))).toBe(true);
    const error = await rejection(file.records.get(record));
    expectCorrupt(error, path, 12);
    expect(error.message).toMatch(/CRC32/);
    expectCorrupt(await rejection(file.records.slice(record - 1, record + 2)), path, 12);
    // Without the saved CRC32s (an older index), the first read verifies the whole block and fails.
    file.reader.pieceCrcs.crc.fill(-1);
    expect(file.reader.info().unverifiedUnits).toBe(1);
    await file.close();
    const again = await openIndexed(path, { index, records: 'lines', ...pieces, parallelism: 1, ifStale: 'error' });
    again.reader.pieceCrcs.crc.fill(-1);
    expectCorrupt(await rejection(again.records.get(3)), path, 12);
    expectCorrupt(await rejection(again.records.text(4)), path, 12);
    await again.close();
  });
});

describe('bzip2 blocks are checked on every decode', () => {
  it('a block damaged after indexing rejects in read and in decodeWith (the dataset path)', async () => {
    const data = randomLines(420_000, 3);
    const bz = bzip2(data, 1);
    const path = writeFixture(tmp.dir, 'checked.bz2', bz);
    const index = join(tmp.dir, 'checked.bz2.sdx');
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const built = await openReader(path, { index });
    expect(built.units.count).toBe(5);
    const u = 2;
    const at = Math.floor((built.units.cStart[u] + built.units.cEnd[u]) / 16);
    const from = built.units.dStart[u];
    await built.close();
    const damaged = Buffer.from(readFileSync(path));
    damaged[at] ^= 0x01;
    writeFileSync(path, damaged);
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    const reader = await openReader(path, { index, ifStale: 'error', parallelism: 1 });
    expect(reader.indexStatus).toBe('loaded');
    const error = await rejection(reader.read(from + 10, 100));
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.message).toContain(path);
    expect(isSeekdataError(await rejection(reader.decodeWith(u, {})), 'CORRUPT_DATA')).toBe(true);
    expect(Buffer.from(await reader.read(10, 100)).equals(data.subarray(10, 110))).toBe(true);
    await reader.close();
  });
});

it('options.verify is validated', async () => {
  await expect(openReader(original, { index: false, verify: 'none' as unknown as 'full' })).rejects.toMatchObject({
    code: 'INVALID_OPTION',
    message: expect.stringContaining('options.verify'),
  });
});
