/**
 * Damaged and truncated gzip files: the sequential pass rejects with TRUNCATED / CORRUPT_DATA naming the
 * file and the compressed offset, and a unit decoded alone from a file damaged inside that unit fails its
 * own check (per-unit CRC-32, member CRC32 / ISIZE) instead of returning different bytes.
 */
import { describe, expect, it } from 'vitest';
import { isSeekdataError } from '../src/errors.js';
import { decodeGzipUnit, gzipUnitTask, KIND_SPAN, unitByteRange } from '../src/readers/gzip/index.js';
import { MemorySource } from '../src/sources/source.js';
import { makeText, prng } from './support/fixtures.js';
import { bgzip, decodeUnit, gzip, handBuiltMember, mixedData, pigz, rejection, scanAll, thrown } from './support/gzip-fixtures.js';

const text = makeText(1_500_000, 21);
const mixed = mixedData(1_500_000, 22);

const fixtures: Array<[string, Buffer]> = [
  ['gzip -9', gzip(text, '-9')],
  ['gzip -1 with stored blocks', gzip(mixed, '-1')],
  ['pigz', pigz(text, '-b', '64')],
  ['bgzip', bgzip(text)],
  ['cat of members', Buffer.concat([gzip(text.subarray(0, 400_000)), gzip(new Uint8Array(0)), pigz(mixed.subarray(0, 500_000))])],
  ['hand-built member', Buffer.concat([handBuiltMember(text.subarray(0, 700_000)), gzip(text.subarray(0, 100))])],
];

const SPACING = 64 << 10;
const NAME = 'damaged.csv.gz';

function expectTyped(error: unknown, codes: string[]): void {
  if (!isSeekdataError(error)) throw new Error(`expected a SeekdataError, got ${String(error)}`);
  expect(codes).toContain(error.code);
  expect(error.message).toContain(NAME);
  expect(typeof error.compressedOffset).toBe('number');
}

describe.each(fixtures)('%s', (_name, bytes) => {
  it.each([
    ['inside the first header', 5],
    ['in the middle', Math.floor(bytes.length / 2) + 3],
    ['inside the last trailer', bytes.length - 3],
    ['just before the last trailer', bytes.length - 9],
  ])('truncated %s: TRUNCATED', async (_where, cut) => {
    const error = await rejection(scanAll(new MemorySource(bytes.subarray(0, cut), NAME), { spacing: SPACING }));
    expectTyped(error, ['TRUNCATED']);
  });

  it('a lone 1f byte after the last member is a truncated member, as gzip says', async () => {
    expectTyped(await rejection(scanAll(new MemorySource(Buffer.concat([bytes, Buffer.from([0x1f])]), NAME))), ['TRUNCATED']);
  });

  it('damaged deflate data or trailer: CORRUPT_DATA at the damage', async () => {
    const rand = prng(3);
    for (let k = 0; k < 6; k++) {
      const damaged = Buffer.from(bytes);
      const at = 100 + Math.floor(rand() * (bytes.length - 200));
      damaged[at] ^= 1 << Math.floor(rand() * 8);
      const error = await rejection(scanAll(new MemorySource(damaged, NAME), { spacing: SPACING })).catch((e: unknown) => e);
      // A flip can also turn a block into one that claims more data than the file has (then TRUNCATED);
      // a flip in a header's MTIME or in the extra field changes nothing decodable (then no error at all).
      if (error instanceof Error && error.message === 'expected a rejection') continue;
      expectTyped(error, ['CORRUPT_DATA', 'TRUNCATED']);
    }
    const crcFlip = Buffer.from(bytes);
    crcFlip[bytes.length - 6] ^= 0x10;
    const error = await rejection(scanAll(new MemorySource(crcFlip, NAME)));
    expectTyped(error, ['CORRUPT_DATA']);
    if (isSeekdataError(error)) expect(error.compressedOffset).toBe(bytes.length - 8);
    const sizeFlip = Buffer.from(bytes);
    sizeFlip[bytes.length - 4] ^= 0x01;
    const sizeError = await rejection(scanAll(new MemorySource(sizeFlip, NAME)));
    expectTyped(sizeError, ['CORRUPT_DATA']);
  });

  it('a bit flip inside a unit is caught when that unit is decoded alone', async () => {
    const { table, units } = await scanAll(new MemorySource(bytes), { spacing: SPACING });
    const rand = prng(17);
    let caught = 0;
    let tried = 0;
    for (let i = 0; i < table.count; i++) {
      const bits = table.cEnd[i] - table.cStart[i];
      if (bits < 256) continue;
      for (let k = 0; k < 3; k++) {
        const bit = table.cStart[i] + 16 + Math.floor(rand() * (bits - 32));
        const damaged = Buffer.from(bytes);
        damaged[Math.floor(bit / 8)] ^= 1 << bit % 8;
        tried++;
        let out: Uint8Array | undefined;
        try {
          out = decodeUnit(table, i, damaged, NAME);
        } catch (error) {
          expectTyped(error, ['CORRUPT_DATA']);
          caught++;
        }
        // Never different bytes: a flip that goes unnoticed (stored-block padding, a header's MTIME) changed nothing.
        if (out !== undefined) expect(Buffer.from(out).equals(Buffer.from(units[i].data))).toBe(true);
      }
    }
    expect(tried).toBeGreaterThan(5);
    expect(caught).toBeGreaterThanOrEqual(tried * 0.8);
  });

  it('a wrong window (another checkpoint\'s) or too few bytes fail the unit', async () => {
    const { table } = await scanAll(new MemorySource(bytes), { spacing: SPACING });
    const spans: number[] = [];
    for (let i = 0; i < table.count; i++) if (table.kind[i] === KIND_SPAN && table.windowStart[i + 1] > table.windowStart[i]) spans.push(i);
    if (spans.length >= 2) {
      const [a, b] = spans;
      const { offset, length } = unitByteRange(table, a);
      const task = gzipUnitTask(table, a, bytes.subarray(offset, offset + length), NAME);
      task.window = table.windows.subarray(table.windowStart[b], table.windowStart[b + 1]);
      expectTyped(thrown(() => decodeGzipUnit(task)), ['CORRUPT_DATA']);
    }
    const last = table.count - 1;
    const { offset, length } = unitByteRange(table, last);
    expectTyped(thrown(() => decodeGzipUnit(gzipUnitTask(table, last, bytes.subarray(offset, offset + length - 1), NAME))), ['TRUNCATED']);
  });
});
