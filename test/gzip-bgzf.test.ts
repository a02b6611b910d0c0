/**
 * BGZF: units found from block headers alone (checked against bgzip's output decoded by gzip -dc, and
 * against the units of the decoding pass), damaged and truncated BGZF files, and the BGZF writer checked
 * with gzip -t, gzip -dc, bgzip -t and bgzip -d.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isSeekdataError } from '../src/errors.js';
import { BGZF_BLOCK_INPUT, BGZF_EOF, bgzfBlock, compressBgzf, discoverBgzf, KIND_MEMBERS, sniffGzip, type GzipWarning } from '../src/readers/gzip/index.js';
import { FileSource } from '../src/sources/file-source.js';
import { MemorySource } from '../src/sources/source.js';
import { makeText, prng, run, tempDir, writeFixture } from './support/fixtures.js';
import { bgzip, decodeUnit, gunzipTruth, gzip, rejection, scanAll, thrown } from './support/gzip-fixtures.js';

const tmp = tempDir('seekdata-bgzf-');
afterAll(() => tmp.cleanup());

const text = makeText(2_500_000, 31);
const NAME = 'file.bgz';
const UNIT = 256 << 10;

async function discover(bytes: Uint8Array, unitBytes = UNIT): Promise<{ table: Awaited<ReturnType<typeof discoverBgzf>>; warnings: GzipWarning[] }> {
  const warnings: GzipWarning[] = [];
  const table = await discoverBgzf(new MemorySource(bytes, NAME), { unitBytes, onWarning: (w) => warnings.push(w) });
  return { table, warnings };
}

describe.each([
  ['bgzip', bgzip(text)],
  ['bgzip -l 0 (stored)', bgzip(text.subarray(0, 600_000), '-l', '0')],
  ['bgzip -l 9 -@ 2', bgzip(text, '-l', '9', '-@', '2')],
  ['compressBgzf + BGZF_EOF', Buffer.concat([compressBgzf(text), BGZF_EOF])],
])('%s', (_name, bytes) => {
  const truth = gunzipTruth(bytes);

  it('finds units of about unitBytes from headers alone; each decodes alone to gzip -dc output', async () => {
    expect(sniffGzip(bytes.subarray(0, 64))).toEqual({ gzip: true, bgzf: true });
    const { table, warnings } = await discover(bytes);
    if (table === undefined) throw new Error('not found as BGZF');
    expect(warnings).toEqual([]);
    expect(table.bgzf).toBe(true);
    expect(table.dStart[table.count]).toBe(truth.length);
    expect(table.cEnd[table.count - 1]).toBe(bytes.length * 8);
    let members = 0;
    for (let i = 0; i < table.count; i++) {
      expect(table.kind[i]).toBe(KIND_MEMBERS);
      if (i + 1 < table.count) expect(table.dStart[i + 1] - table.dStart[i]).toBeGreaterThanOrEqual(UNIT);
      if (i > 0) expect(table.cStart[i]).toBe(table.cEnd[i - 1]);
      members += table.members[i];
      const out = Buffer.from(decodeUnit(table, i, bytes, NAME));
      expect(out.equals(truth.subarray(table.dStart[i], table.dStart[i + 1]))).toBe(true);
    }
    expect(members).toBe(Math.ceil(truth.length / BGZF_BLOCK_INPUT) + 1);
  });

  it('agrees with the decoding pass unit for unit (CRCs from trailers = CRCs of the data)', async () => {
    const { table } = await discover(bytes);
    const scanned = (await scanAll(new MemorySource(bytes), { spacing: UNIT })).table;
    for (const key of ['cStart', 'cEnd', 'dStart', 'crc', 'kind', 'members'] as const) expect(table?.[key]).toEqual(scanned[key]);
  });

  it('gives the same table from a FileSource read in 8 KiB pieces', async () => {
    const source = await FileSource.open(writeFixture(tmp.dir, `b${Math.floor(Math.random() * 1e9)}.gz`, bytes));
    try {
      const a = await discoverBgzf(source, { unitBytes: UNIT, readSize: 8192 });
      expect(a?.crc).toEqual((await discover(bytes)).table?.crc);
    } finally {
      await source.close();
    }
  });
});

describe('BGZF edge cases', () => {
  const bytes = bgzip(text);

  it('is not BGZF: plain gzip, BGZF followed by plain gzip, not gzip at all', async () => {
    expect((await discover(gzip(text))).table).toBeUndefined();
    expect((await discover(Buffer.concat([bytes.subarray(0, -28), gzip(text.subarray(0, 10))]))).table).toBeUndefined();
    expect((await discover(Buffer.from('hello, world'))).table).toBeUndefined();
    expect(sniffGzip(gzip(text).subarray(0, 64))).toEqual({ gzip: true, bgzf: false });
  });

  it('warns when the end-of-file block is missing (the file may be truncated)', async () => {
    const { table, warnings } = await discover(bytes.subarray(0, -28));
    expect(table?.dStart[table.count]).toBe(text.length);
    expect(warnings.map((w) => w.code)).toEqual(['BGZF_NO_EOF']);
  });

  it('trailing zeros and, after the end-of-file block, garbage: warned and ignored', async () => {
    const zeros = await discover(Buffer.concat([bytes, Buffer.alloc(777)]));
    expect(zeros.warnings.map((w) => [w.code, w.compressedOffset])).toEqual([['TRAILING_ZEROS', bytes.length]]);
    const garbage = await discover(Buffer.concat([bytes, Buffer.from('garbage')]));
    expect(garbage.warnings.map((w) => w.code)).toEqual(['TRAILING_GARBAGE']);
    expect(garbage.table?.dStart[garbage.table.count]).toBe(text.length);
  });

  it('truncated inside a block or a header: TRUNCATED with the file name', async () => {
    for (const cut of [bytes.length - 100, 5000, 10]) {
      const error = await rejection(discover(bytes.subarray(0, cut)));
      expect(isSeekdataError(error, 'TRUNCATED')).toBe(true);
      expect(String(error)).toContain(NAME);
    }
  });

  it('a damaged BSIZE is CORRUPT_DATA, in the walk or when its unit is decoded', async () => {
    const rand = prng(5);
    for (let k = 0; k < 10; k++) {
      const damaged = Buffer.from(bytes);
      // Find the k-th block's BSIZE by walking the intact file.
      let pos = 0;
      for (let j = 0; j < 1 + Math.floor(rand() * 30); j++) pos += damaged.readUInt16LE(pos + 16) + 1;
      damaged.writeUInt16LE(damaged.readUInt16LE(pos + 16) + 1 + Math.floor(rand() * 3000), pos + 16);
      let failed = false;
      try {
        const { table } = await discover(damaged);
        if (table === undefined) throw new Error('not BGZF');
        for (let i = 0; i < table.count; i++) decodeUnit(table, i, damaged, NAME);
      } catch (error) {
        failed = isSeekdataError(error, 'CORRUPT_DATA') || isSeekdataError(error, 'TRUNCATED');
        if (!failed) throw error;
      }
      expect(failed).toBe(true);
    }
  });

  it('a damaged trailer CRC fails the unit holding the block', async () => {
    const { table } = await discover(bytes);
    if (table === undefined) throw new Error('not BGZF');
    const damaged = Buffer.from(bytes);
    const pos = damaged.readUInt16LE(16) + 1; // second block
    damaged[pos + damaged.readUInt16LE(pos + 16) + 1 - 8] ^= 4;
    const t2 = (await discover(damaged)).table;
    if (t2 === undefined) throw new Error('not BGZF');
    expect(isSeekdataError(thrown(() => decodeUnit(t2, 0, damaged, NAME)), 'CORRUPT_DATA')).toBe(true);
    expect(Buffer.from(decodeUnit(t2, 1, damaged, NAME)).equals(text.subarray(t2.dStart[1], t2.dStart[2]))).toBe(true);
  });
});

describe('BGZF writer', () => {
  it('writes what gzip -t, gzip -dc, bgzip -t and bgzip -d accept, in blocks of at most 64 KiB', () => {
    const rand = prng(8);
    const noise = Buffer.from(Array.from({ length: 300_000 }, () => Math.floor(rand() * 256)));
    for (const data of [text, noise, Buffer.from('x')]) {
      const out = Buffer.concat([compressBgzf(data, 6), BGZF_EOF]);
      run('gzip', ['-t'], out);
      expect(run('gzip', ['-dc'], out).equals(data)).toBe(true);
      const path = writeFixture(tmp.dir, `w${data.length}.gz`, out);
      run('bgzip', ['-t', path]);
      expect(run('bgzip', ['-dc', path]).equals(data)).toBe(true);
      let blocks = 0;
      for (let pos = 0; pos < out.length; blocks++) {
        const size = out.readUInt16LE(pos + 16) + 1;
        expect(size).toBeLessThanOrEqual(65536);
        pos += size;
      }
      expect(blocks).toBe(Math.ceil(data.length / BGZF_BLOCK_INPUT) + 1);
    }
  });

  it('rejects a chunk over one block and a bad level; an empty chunk is no block', () => {
    expect(isSeekdataError(thrown(() => bgzfBlock(new Uint8Array(BGZF_BLOCK_INPUT + 1))), 'INVALID_OPTION')).toBe(true);
    expect(isSeekdataError(thrown(() => compressBgzf(text, 10)), 'INVALID_OPTION')).toBe(true);
    expect(compressBgzf(new Uint8Array(0)).length).toBe(0);
  });
});
