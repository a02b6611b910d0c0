/**
 * The indexing pass goes on with the decoder that read the CSV header from the first piece of an xz block or a
 * zstd frame over bigUnitBytes (FirstChunk.decoder): damage after that piece, in the xz block's check field, or a
 * file cut short must still fail the pass with CORRUPT_DATA / TRUNCATED naming the file (the stream reaches the
 * unit's check as the pass's own would), and a signal aborted before the open is ABORTED.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { tempDir, writeFixture, xz } from './support/fixtures.js';
import { zstdFile } from './support/zstd.js';

const { dir, cleanup } = tempDir();
afterAll(async () => {
  cleanup();
  await closeSharedPool();
});

let text = 'time,a,b\n';
for (let i = 0; i < 100_000; i++) text += `${new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()},${(i * 7919) % 1013},${i % 13}\n`;
const plain = Buffer.from(text);
/** One block / one frame of ~3.6 MB read in 256 KiB pieces. */
const options = { records: 'csv', timeColumn: 'time', index: false, parallelism: 2, bigUnitBytes: 1 << 20, pieceBytes: 256 << 10 } as const;

/** The bytes of the xz file's only block check (CRC64), found by `xz --robot -lvv`. */
function checkFieldAt(file: Buffer): number {
  const name = writeFixture(dir, 'probe.csv.xz', file);
  const robot = spawnSync('xz', ['--robot', '-lvv', name]).stdout.toString();
  const block = robot.split('\n').find((l) => l.startsWith('block\t'));
  const hex = block?.split('\t')[10] ?? '';
  expect(hex).toMatch(/^[0-9a-f]{16}$/);
  // Printed as a number: stored little-endian.
  const at = file.indexOf(Buffer.from(hex, 'hex').reverse());
  expect(at).toBeGreaterThan(file.length / 2);
  return at;
}

function damaged(file: Buffer, at: number): Buffer {
  const copy = Buffer.from(file);
  copy[at] ^= 0x10;
  return copy;
}

describe('a big unit streamed once by the pass, damaged after the piece the header was read from', () => {
  const good = { xz: xz(plain, '-T1'), zstd: zstdFile(plain, '-1') };

  it('reads the undamaged files whole (one unit, many pieces)', async () => {
    for (const [format, bytes] of Object.entries(good)) {
      const f = await openIndexed(writeFixture(dir, `good.csv.${format}`, bytes), options);
      try {
        expect(f.reader.units.count).toBe(1);
        expect(f.reader.layout.count).toBeGreaterThan(10);
        expect(f.records.count).toBe(100_000);
      } finally {
        await f.close();
      }
    }
  });

  it.each([
    ['xz', 'a flipped bit in its block check (CRC64)', 'CORRUPT_DATA', () => damaged(good.xz, checkFieldAt(good.xz))],
    ['xz', 'a flipped bit in its middle', 'CORRUPT_DATA', () => damaged(good.xz, good.xz.length >> 1)],
    ['xz', 'a cut in its middle', 'TRUNCATED', () => good.xz.subarray(0, good.xz.length >> 1)],
    ['zstd', 'a flipped bit in its middle', 'CORRUPT_DATA', () => damaged(good.zstd, good.zstd.length >> 1)],
    ['zstd', 'a cut in its middle', 'TRUNCATED', () => good.zstd.subarray(0, good.zstd.length >> 1)],
  ] as const)('%s, %s: %s naming the file', async (format, what, code, make) => {
    const file = writeFixture(dir, `damaged-${what.replace(/\W+/g, '-')}.csv.${format}`, make());
    await expect(openIndexed(file, options)).rejects.toMatchObject({ code, file, message: expect.stringContaining(file) });
  });

  it('a signal aborted before the open: ABORTED', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const file = writeFixture(dir, 'aborted.csv.xz', good.xz);
    await expect(openIndexed(file, { ...options, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
