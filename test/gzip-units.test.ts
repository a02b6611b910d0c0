/**
 * The pieces under the gzip passes: CRC-32 and its combination (against zlib's CRC of the concatenation),
 * windows packed into one byte array and back, the unit table and its lookup, header parsing, options
 * and input validation, and decode results that can be transferred to another thread.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isSeekdataError } from '../src/errors.js';
import { crc32Fallback } from '../src/readers/gzip/crc.js';
import { prefixBits } from '../src/readers/gzip/decode.js';
import {
  crc32,
  crc32Combine,
  decodeGzipUnit,
  deserializeWindows,
  discoverBgzf,
  GzipTableBuilder,
  KIND_MEMBERS,
  KIND_SPAN,
  parseGzipHeader,
  scanGzip,
  serializeWindows,
  unitAt,
  unpackWindow,
} from '../src/readers/gzip/index.js';
import { MemorySource } from '../src/sources/source.js';
import { makeText, prng } from './support/fixtures.js';
import { gzip, handBuiltMember, rejection, scanAll, thrown } from './support/gzip-fixtures.js';

const text = makeText(300_000, 41);

describe('crc32', () => {
  it('matches zlib, the fallback matches too, and combining equals the CRC of the concatenation', () => {
    const rand = prng(1);
    for (let k = 0; k < 30; k++) {
      const a = text.subarray(0, Math.floor(rand() * 5000));
      const b = text.subarray(1000, 1000 + Math.floor(rand() * 70_000));
      const whole = Buffer.concat([a, b]);
      expect(crc32(whole)).toBe(zlib.crc32(whole) >>> 0);
      expect(crc32Fallback(whole)).toBe(crc32(whole));
      expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(whole));
      expect(crc32(b, crc32(a))).toBe(crc32(whole));
    }
  });

  it('combines over lengths past 2^32 consistently (associativity)', () => {
    const [x, y, z] = [0x12345678, 0x9abcdef0, 0x0badf00d];
    const n1 = 2 ** 32 - 5;
    const n2 = 2 ** 31 + 7;
    expect(crc32Combine(crc32Combine(x, y, n1), z, n2)).toBe(crc32Combine(x, crc32Combine(y, z, n2), n1 + n2));
  });
});

describe('windows and the table', () => {
  it('serialise to one byte array with offsets and back; empty windows take no bytes', () => {
    const windows = [new Uint8Array(0), text.subarray(0, 32768), text.subarray(5, 105), new Uint8Array(0)];
    const { windows: bytes, windowStart } = serializeWindows(windows);
    expect(windowStart[1]).toBe(0);
    expect(windowStart[4]).toBe(bytes.length);
    expect(bytes.length).toBeLessThan(32768);
    expect(deserializeWindows(bytes, windowStart).map((w) => Buffer.from(w).toString('latin1'))).toEqual(windows.map((w) => Buffer.from(w).toString('latin1')));
    expect(isSeekdataError(thrown(() => unpackWindow(Uint8Array.from([0xff, 0xff, 0xff]), 'x.sdx')), 'CORRUPT_INDEX')).toBe(true);
  });

  it('builds typed columns; unitAt skips zero-length units', () => {
    const b = new GzipTableBuilder();
    const unit = { crc: 0, window: new Uint8Array(0), members: 1, kind: KIND_MEMBERS };
    b.add({ ...unit, cStart: 0, cEnd: 800, dLength: 100 });
    b.add({ ...unit, cStart: 800, cEnd: 960, dLength: 0 });
    b.add({ ...unit, cStart: 960, cEnd: 2000, dLength: 50, kind: KIND_SPAN, window: text.subarray(0, 10), members: 0 });
    const t = b.build(false);
    expect(Array.from(t.dStart)).toEqual([0, 100, 100, 150]);
    expect(Array.from(t.kind)).toEqual([1, 1, 0]);
    expect([0, 99, 100, 149].map((x) => unitAt(t, x))).toEqual([0, 0, 2, 2]);
    expect(t.windowStart[2]).toBe(0);
    expect(t.windowStart[3]).toBeGreaterThan(0);
  });
});

describe('headers', () => {
  const h = handBuiltMember(text.subarray(0, 10));
  it('parses every optional field, and asks for more bytes when cut short', () => {
    const header = parseGzipHeader(h, 'h.gz', 0);
    expect(header?.bgzfSize).toBeUndefined();
    expect(zlib.inflateRawSync(h.subarray(header?.length ?? 0, -8)).equals(text.subarray(0, 10))).toBe(true);
    for (const cut of [2, 9, 11, 20, 40]) expect(parseGzipHeader(h.subarray(0, cut), 'h.gz', 0)).toBeUndefined();
  });

  it('rejects reserved flags, other methods and a wrong header CRC', () => {
    const reserved = Buffer.from(h);
    reserved[3] |= 0x20;
    expect(isSeekdataError(thrown(() => parseGzipHeader(reserved, 'h.gz', 0)), 'CORRUPT_DATA')).toBe(true);
    const method = Buffer.from(h);
    method[2] = 7;
    expect(isSeekdataError(thrown(() => parseGzipHeader(method, 'h.gz', 0)), 'UNSUPPORTED_FORMAT')).toBe(true);
    const name = Buffer.from(h);
    name[22] ^= 1; // inside FNAME, covered by FHCRC
    const error = thrown(() => parseGzipHeader(name, 'h.gz', 100));
    expect(isSeekdataError(error, 'CORRUPT_DATA') && error.message).toContain('h.gz');
  });
});

describe('validation', () => {
  it('names bad options and rejects non-gzip and empty input', async () => {
    const gz = gzip(text);
    const spacing = await rejection(scanAll(new MemorySource(gz), { spacing: 0 }));
    expect(isSeekdataError(spacing, 'INVALID_OPTION') && spacing.message).toContain('options.spacing');
    const unit = await rejection(discoverBgzf(new MemorySource(gz), { unitBytes: 1.5 }));
    expect(isSeekdataError(unit, 'INVALID_OPTION') && unit.message).toContain('options.unitBytes');
    expect(isSeekdataError(await rejection(scanAll(new MemorySource(text, 'plain.csv'))), 'UNSUPPORTED_FORMAT')).toBe(true);
    expect(isSeekdataError(await rejection(scanAll(new MemorySource(new Uint8Array(0), 'e.gz'))), 'TRUNCATED')).toBe(true);
    // The generator rejects on first use, not when it is created.
    expect(() => scanGzip(new MemorySource(gz), { readSize: -1 })).not.toThrow();
  });
});

describe('decodeGzipUnit', () => {
  it('returns bytes that own their buffer (transferable), also for small pooled outputs', async () => {
    for (const size of [10, 3000, 200_000]) {
      const { table } = await scanAll(new MemorySource(gzip(text.subarray(0, size))));
      const out = decodeGzipUnit({ data: gzip(text.subarray(0, size)), shift: 0, bitLength: table.cEnd[0], window: new Uint8Array(0), windowPacked: false, kind: 1, dLength: size, crc: table.crc[0], file: 'f', offset: 0 });
      const moved = structuredClone(out, { transfer: [out.buffer as ArrayBuffer] });
      expect(Buffer.from(moved).equals(text.subarray(0, size))).toBe(true);
    }
  });

  it('prefixes keep the byte alignment of every shift', () => {
    expect(Array.from({ length: 8 }, (_, s) => prefixBits(s) % 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('rejects a wrong length or CRC in the task', async () => {
    const gz = gzip(text);
    const { table } = await scanAll(new MemorySource(gz));
    const task = { data: gz, shift: 0, bitLength: gz.length * 8, window: new Uint8Array(0), windowPacked: false, kind: KIND_MEMBERS, dLength: text.length, crc: table.crc[0], file: 'f.gz', offset: 0 };
    expect(decodeGzipUnit(task).length).toBe(text.length);
    expect(isSeekdataError(thrown(() => decodeGzipUnit({ ...task, dLength: text.length - 1 })), 'CORRUPT_DATA')).toBe(true);
    expect(isSeekdataError(thrown(() => decodeGzipUnit({ ...task, dLength: text.length + 1 })), 'CORRUPT_DATA')).toBe(true);
    expect(isSeekdataError(thrown(() => decodeGzipUnit({ ...task, crc: task.crc ^ 1 })), 'CORRUPT_DATA')).toBe(true);
  });
});
