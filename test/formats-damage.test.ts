/**
 * Damaged gzip and zstd files, and damaged or crafted indexes of them: typed errors (TRUNCATED /
 * CORRUPT_DATA / CORRUPT_INDEX) naming the file and the place, warnings for trailing data, the intact
 * part readable with allowDamage, never wrong bytes. Bytes changed in the middle of a file after it was
 * indexed (same size, same mtime, first and last 64 KiB unchanged) are caught by the CRC-32 the index
 * recorded for the span / frame, where the format itself has no check there.
 */
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, openIndexed, openReader, type ReaderOptions, type SeekableReader, type SeekdataError } from '../src/index.js';
import { cli } from './support/cli.js';
import { makeText, prng, tempDir, writeFixture } from './support/fixtures.js';
import { bgzip, gzip, pigz } from './support/gzip-fixtures.js';
import { entry, rechecksum } from './support/sdx.js';
import { zstdFile } from './support/zstd.js';

const tmp = tempDir('seekdata-formats-damage-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const text = makeText(600_000, 41);
const noise = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 2654435761) >>> 24));
const rand = prng(4);
for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rand() * 256);
const SPACING = { gzipSpacingBytes: 64 << 10 };

async function readAll(reader: SeekableReader): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of reader.stream()) parts.push(p);
  return Buffer.concat(parts);
}

/** Opening and reading all of `path`: the error, which must be typed and name the file. */
async function failure(path: string, options: ReaderOptions = {}): Promise<SeekdataError> {
  const error = await openReader(path, { index: false, ...SPACING, ...options })
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
  if (!isSeekdataError(error)) throw new Error(`expected a SeekdataError, got ${String(error)}`);
  expect(error.message).toContain(path);
  return error;
}

/** A whole-second modification time, set before indexing and again after a change (stat rounds finer ones). */
const STAMP = new Date(Date.UTC(2024, 0, 1));

/** Rewrites a byte in the middle of a file keeping its size and mtime (its index stays fresh). */
function changeMiddle(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] ^= 0x5a;
  writeFileSync(path, bytes);
  utimesSync(path, STAMP, STAMP);
}

function stamped(path: string): string {
  utimesSync(path, STAMP, STAMP);
  return path;
}

describe('gzip damage', () => {
  const single = gzip(text, '-6');
  const multi = Buffer.concat([gzip(text.subarray(0, 300_000)), gzip(text.subarray(300_000))]);

  it.each([0.3, 0.8, 0.999])('a single-member file truncated at %s: TRUNCATED with the offset, nothing handed out', async (fraction) => {
    const cut = Math.floor(single.length * fraction);
    const path = writeFixture(tmp.dir, `cut-${fraction}.gz`, single.subarray(0, cut));
    const error = await failure(path);
    expect(error.code).toBe('TRUNCATED');
    expect(error.compressedOffset).toBeGreaterThan(0);
    expect(error.compressedOffset).toBeLessThanOrEqual(cut);
    // cat does not write the spans of a member that never passed its CRC-32.
    const out = await cli('cat', path, '--no-index', '-q');
    expect(out.code).toBe(1);
    expect(out.stdout.length).toBe(0);
    expect(out.stderr).toMatch(/TRUNCATED|truncated|ends inside/);
  });

  it('a multi-member file truncated in its second member: the first member stays readable with allowDamage', async () => {
    const first = gzip(text.subarray(0, 300_000)).length;
    const path = writeFixture(tmp.dir, 'cut-multi.gz', multi.subarray(0, first + 2000));
    expect((await failure(path)).code).toBe('TRUNCATED');
    const reader = await openReader(path, { index: false, allowDamage: true, ...SPACING });
    expect(reader.damage?.code).toBe('TRUNCATED');
    expect(reader.size).toBe(300_000);
    expect((await readAll(reader)).equals(text.subarray(0, 300_000))).toBe(true);
    await reader.close();
  });

  it('a wrong member CRC-32 or ISIZE is CORRUPT_DATA at the trailer; cat writes none of that member', async () => {
    for (const [what, back] of [
      ['crc', 8],
      ['isize', 3],
    ] as const) {
      const bytes = Buffer.from(single);
      bytes[bytes.length - back] ^= 1;
      const path = writeFixture(tmp.dir, `bad-${what}.gz`, bytes);
      const error = await failure(path);
      expect(error.code).toBe('CORRUPT_DATA');
      expect(error.compressedOffset).toBeGreaterThanOrEqual(single.length - 8);
      const out = await cli('cat', path, '--no-index', '-q');
      expect(out.code).toBe(1);
      expect(out.stdout.length).toBe(0);
    }
  });

  it('bit flips anywhere give a typed error or the original bytes, never other bytes', async () => {
    const r = prng(9);
    for (let k = 0; k < 12; k++) {
      const bytes = Buffer.from(single);
      const at = 10 + Math.floor(r() * (bytes.length - 10));
      bytes[at] ^= 1 << Math.floor(r() * 8);
      const path = writeFixture(tmp.dir, `flip-${k}.gz`, bytes);
      const reader = await openReader(path, { index: false, ...SPACING }).catch((e: unknown) => e);
      if (!(reader instanceof Object) || isSeekdataError(reader)) {
        expect(isSeekdataError(reader), String(reader)).toBe(true);
        continue;
      }
      const got = await readAll(reader as SeekableReader).catch((e: unknown) => e);
      if (isSeekdataError(got)) expect(got.message).toContain(path);
      else expect(Buffer.isBuffer(got) && got.equals(text)).toBe(true);
      await (reader as SeekableReader).close();
    }
  });

  it('trailing zeros and trailing garbage are ignored with a warning, as gzip does (also after BGZF)', async () => {
    const bgzf = bgzip(text);
    for (const [name, base, tail, pattern] of [
      ['zeros.gz', single, Buffer.alloc(512), /zeros/],
      ['garbage.gz', single, Buffer.from('not a gzip member at all'), /trailing garbage/],
      ['zeros.bgz.gz', bgzf, Buffer.alloc(300), /zeros/],
      ['garbage.bgz.gz', bgzf, Buffer.from('not a gzip member at all'), /trailing garbage/],
    ] as const) {
      const path = writeFixture(tmp.dir, name, Buffer.concat([base, tail]));
      const warnings: string[] = [];
      const reader = await openReader(path, { index: false, onWarning: (m) => warnings.push(m), ...SPACING });
      expect((await readAll(reader)).equals(text)).toBe(true);
      expect(warnings.join('\n')).toMatch(pattern);
      expect(warnings.join('\n')).toContain(String(base.length));
      await reader.close();
      // The saved index is loaded again (validate accepts the trailing bytes).
      const indexed = await openReader(path, { ...SPACING, parallelism: 1 });
      await indexed.close();
      const loaded = await openReader(path, { ...SPACING, parallelism: 1, ifStale: 'error' });
      expect(loaded.indexStatus).toBe('loaded');
      expect((await readAll(loaded)).equals(text)).toBe(true);
      await loaded.close();
    }
  });

  it('one last byte after the member: TRUNCATED unless it is zero, as gzip says (fuzz: gzip #3271, seed 1)', async () => {
    for (const [byte, code] of [
      [0x1f, 'TRUNCATED'],
      [0xd8, 'TRUNCATED'],
      [0x00, undefined],
    ] as const) {
      const path = writeFixture(tmp.dir, `one-byte-${byte}.gz`, Buffer.concat([single, Buffer.from([byte])]));
      if (code === undefined) {
        const reader = await openReader(path, { index: false, ...SPACING });
        expect((await readAll(reader)).equals(text)).toBe(true);
        await reader.close();
      } else {
        const error = await failure(path);
        expect(error.code).toBe(code);
        expect(error.compressedOffset).toBe(single.length);
      }
    }
  });

  it('bytes changed in a stored block in the middle after indexing: caught by the span CRC-32 of the index', async () => {
    const content = Buffer.concat([text.subarray(0, 200_000), noise.subarray(0, 250_000), text.subarray(200_000, 400_000)]);
    const bytes = gzip(content, '-1');
    const path = stamped(writeFixture(tmp.dir, 'stored-middle.gz', bytes));
    const built = await openIndexed(path, { records: 'lines', ...SPACING, parallelism: 1 });
    expect(built.report.status).toBe('built');
    await built.close();
    changeMiddle(path, Math.floor(bytes.length / 2));
    const reader = await openReader(path, { ...SPACING, ifStale: 'error' });
    expect(reader.indexStatus).toBe('loaded');
    const error = await readAll(reader).catch((e: unknown) => e);
    expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
    expect(String(error)).toMatch(/CRC-32/);
    await reader.close();
  });

  describe('a crafted index', () => {
    const bytes = pigz(text, '-p', '2');
    const path = writeFixture(tmp.dir, 'crafted.gz', bytes);

    async function crafted(change: (sdx: Buffer) => void): Promise<unknown> {
      const built = await openReader(path, { ...SPACING, rebuild: true, parallelism: 1 });
      expect(built.units.count).toBeGreaterThan(3);
      await built.close();
      const sdx = readFileSync(`${path}.sdx`);
      change(sdx);
      rechecksum(sdx);
      writeFileSync(`${path}.sdx`, sdx);
      return openReader(path, { ...SPACING, ifStale: 'error' })
        .then(async (reader) => {
          try {
            return await readAll(reader);
          } finally {
            await reader.close();
          }
        })
        .catch((e: unknown) => e);
    }

    const f64 = (sdx: Buffer, name: string): Float64Array => {
      const e = entry(sdx, name);
      return new Float64Array(sdx.buffer, sdx.byteOffset + e.offset, e.length / 8);
    };

    it.each([
      ['a span CRC-32 (param)', (sdx: Buffer) => void (f64(sdx, 'units.param')[2] ^= 1)],
      ['a compressed offset', (sdx: Buffer) => void (f64(sdx, 'units.cStart')[2] += 8)],
      ['a compressed end', (sdx: Buffer) => void (f64(sdx, 'units.cEnd')[1] -= 3)],
      ['a member count', (sdx: Buffer) => void (f64(sdx, 'units.col.members')[0] = 1)],
      ['a unit kind', (sdx: Buffer) => void (sdx[entry(sdx, 'units.kind').offset + 1] = 1)],
    ])('%s: CORRUPT_INDEX', async (_what, change) => {
      const result = await crafted(change);
      expect(isSeekdataError(result, 'CORRUPT_INDEX'), String(result)).toBe(true);
    });

    it('a window: CORRUPT_INDEX or a CRC-32 failure, never other bytes', async () => {
      for (let k = 0; k < 4; k++) {
        const result = await crafted((sdx) => {
          const at = f64(sdx, 'units.blobAt.windows');
          const blob = entry(sdx, 'units.blob.windows');
          // A byte inside the packed window of unit 2 (deflated: it may no longer inflate, or inflate to other bytes).
          sdx[blob.offset + at[2] + 3 + k * 97] ^= 0x20;
        });
        expect(isSeekdataError(result, 'CORRUPT_INDEX') || isSeekdataError(result, 'CORRUPT_DATA'), String(result)).toBe(true);
        if (isSeekdataError(result, 'CORRUPT_DATA')) expect(String(result)).toMatch(/CRC-32|damaged|invalid/);
      }
    });
  });
});

describe('zstd damage', () => {
  const single = zstdFile(text, '-3');

  it.each([0.3, 0.8, 0.999])('a one-frame file truncated at %s: TRUNCATED naming the file', async (fraction) => {
    const cut = Math.floor(single.length * fraction);
    const path = writeFixture(tmp.dir, `cut-${fraction}.zst`, single.subarray(0, cut));
    const error = await failure(path);
    expect(error.code).toBe('TRUNCATED');
  });

  it('bit flips anywhere give a typed error or the original bytes', async () => {
    const r = prng(12);
    for (let k = 0; k < 12; k++) {
      const bytes = Buffer.from(single);
      bytes[Math.floor(r() * bytes.length)] ^= 1 << Math.floor(r() * 8);
      const path = writeFixture(tmp.dir, `flip-${k}.zst`, bytes);
      const result = await openReader(path, { index: false })
        .then(async (reader) => {
          try {
            return await readAll(reader);
          } finally {
            await reader.close();
          }
        })
        .catch((e: unknown) => e);
      if (isSeekdataError(result)) expect(result.message).toContain(path);
      else expect(Buffer.isBuffer(result) && result.equals(text), String(result)).toBe(true);
    }
  });

  it('trailing garbage after the last frame is CORRUPT_DATA, as zstd -d says', async () => {
    const path = writeFixture(tmp.dir, 'garbage.zst', Buffer.concat([single, Buffer.from('garbage!')]));
    const error = await failure(path);
    expect(error.code).toBe('CORRUPT_DATA');
    expect(error.compressedOffset).toBe(single.length);
  });

  it('frames without a checksum: a warning on open; the index pass records CRC-32s that catch bytes changed later', async () => {
    const parts = [text.subarray(0, 150_000), noise.subarray(0, 200_000), text.subarray(150_000, 300_000)];
    const frames = parts.map((p) => zstdFile(p, '--no-check', '-1'));
    const bytes = Buffer.concat(frames);
    const path = stamped(writeFixture(tmp.dir, 'nocheck.zst', bytes));
    const warnings: string[] = [];
    const plain = await openReader(path, { index: false, onWarning: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/3 of 3 zstd frames have no checksum/);
    expect(plain.info().details?.verified).toMatch(/without a checksum/);
    await plain.close();
    const indexed = await openIndexed(path, { records: 'lines', parallelism: 2 });
    expect(indexed.reader.units.param.every((c) => c >= 0)).toBe(true);
    await indexed.close();
    // Reopened: no warning (every frame has its CRC-32), and the CRC-32s are from the index.
    const quiet: string[] = [];
    const loaded = await openReader(path, { ifStale: 'error', onWarning: (m) => quiet.push(m) });
    expect(quiet).toEqual([]);
    expect((await readAll(loaded)).equals(Buffer.concat(parts))).toBe(true);
    await loaded.close();
    // A byte of the middle frame's (raw) data changed, size and mtime kept: the index is still fresh.
    changeMiddle(path, frames[0].length + Math.floor(frames[1].length / 2));
    const changed = await openReader(path, { ifStale: 'error' });
    expect(changed.indexStatus).toBe('loaded');
    const error = await readAll(changed).catch((e: unknown) => e);
    expect(isSeekdataError(error, 'CORRUPT_DATA'), String(error)).toBe(true);
    expect(String(error)).toMatch(/CRC-32/);
    await changed.close();
  });

  it('a crafted index (a frame end, a flag) is CORRUPT_INDEX', async () => {
    const bytes = Buffer.concat([zstdFile(text.subarray(0, 300_000)), zstdFile(text.subarray(300_000))]);
    const path = writeFixture(tmp.dir, 'crafted.zst', bytes);
    for (const change of [
      (sdx: Buffer) => {
        const e = entry(sdx, 'units.cEnd');
        new Float64Array(sdx.buffer, sdx.byteOffset + e.offset, 2)[0] -= 1;
      },
      (sdx: Buffer) => void (sdx[entry(sdx, 'units.kind').offset] ^= 1),
    ]) {
      const built = await openReader(path, { rebuild: true });
      await built.close();
      const sdx = readFileSync(`${path}.sdx`);
      change(sdx);
      rechecksum(sdx);
      writeFileSync(`${path}.sdx`, sdx);
      await expect(openReader(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
      // By default the index is rebuilt (with a warning) and the bytes are right.
      const warnings: string[] = [];
      const rebuilt = await openReader(path, { onWarning: (m) => warnings.push(m) });
      expect(warnings.join()).toMatch(/the index and the data disagree \(the data changed, or the index file is damaged\)/);
      expect((await readAll(rebuilt)).equals(text)).toBe(true);
      await rebuilt.close();
    }
  });
});

describe('sizes no checksum covers (BGZF ISIZE, zstd content sizes) are checked by decoding once', () => {
  /** Opening with allowDamage: the intact part, and a read past it, which must not be bytes of another place. */
  async function shifted(path: string, plain: Buffer, at: number): Promise<void> {
    expect((await failure(path)).code).toBe('CORRUPT_DATA');
    const reader = await openReader(path, { index: false, allowDamage: true, ...SPACING });
    expect(reader.damage?.code).toBe('CORRUPT_DATA');
    const result = await reader.read(at, 100).catch((e: unknown) => e);
    if (isSeekdataError(result)) expect(result.message).toContain(path);
    else expect(Buffer.from(result as Uint8Array).equals(plain.subarray(at, at + 100))).toBe(true);
    expect(reader.size).toBeLessThanOrEqual(at);
    await reader.close();
  }

  it('a BGZF block whose ISIZE is off by one: CORRUPT_DATA, and no read returns the blocks after it shifted (fuzz: zstd #2245, seed 1)', async () => {
    const bytes = Buffer.from(bgzip(text));
    const blockSize = bytes.readUInt16LE(16) + 1;
    bytes[blockSize - 4] ^= 1;
    await shifted(writeFixture(tmp.dir, 'isize.bgz.gz', bytes), text, 300_000);
  });

  it('a zstd frame whose content size is off by one: CORRUPT_DATA, and no read returns the frames after it shifted', async () => {
    const first = zstdFile(text.subarray(0, 200_000));
    const bytes = Buffer.concat([first, zstdFile(text.subarray(200_000))]);
    const fhd = bytes[4];
    const fcsAt = 5 + ((fhd >> 5) & 1 ? 0 : 1) + [0, 1, 2, 4][fhd & 3];
    bytes[fcsAt] ^= 1;
    await shifted(writeFixture(tmp.dir, 'fcs.zst', bytes), text, 300_000);
  });
});

