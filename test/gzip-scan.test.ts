/**
 * The sequential gzip pass and unit decoding against `gzip -dc`: files from gzip -1 / -9, pigz, bgzip,
 * cat of members (with empty ones), a hand-built member with every optional header field; every unit the
 * pass yields, every unit decoded alone from the file's bytes, random offsets, first and last byte, over
 * a MemorySource and a FileSource read in small pieces.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { describeGzip, discoverBgzf, unitAt, KIND_SPAN, KIND_MEMBERS } from '../src/readers/gzip/index.js';
import { FileSource } from '../src/sources/file-source.js';
import { MemorySource } from '../src/sources/source.js';
import { makeText, prng, run, tempDir, writeFixture } from './support/fixtures.js';
import { bgzip, decodeUnit, gunzipTruth, gzip, handBuiltMember, mixedData, pigz, scanAll } from './support/gzip-fixtures.js';

const tmp = tempDir('seekdata-gzip-');
afterAll(() => tmp.cleanup());

const text = makeText(3_000_000, 5);
const mixed = mixedData(3_000_000, 6);
const empty = gzip(new Uint8Array(0));

interface Fixture {
  name: string;
  bytes: Buffer;
  members: number;
}

const fixtures: Fixture[] = [
  { name: 'gzip -1 (text with random stretches: stored blocks)', bytes: gzip(mixed, '-1'), members: 1 },
  { name: 'gzip -9', bytes: gzip(text, '-9'), members: 1 },
  { name: 'pigz', bytes: pigz(text, '-p', '2', '-b', '64'), members: 1 },
  { name: 'pigz --independent', bytes: pigz(mixed, '-i', '-b', '32'), members: 1 },
  { name: 'bgzip', bytes: bgzip(text), members: Math.ceil(text.length / 0xff00) + 1 },
  {
    name: 'cat of members with empty ones',
    bytes: Buffer.concat([gzip(text.subarray(0, 700_000)), empty, gzip(mixed.subarray(0, 40_000), '-1'), empty, pigz(text.subarray(0, 900_000)), gzip(text.subarray(5, 9)), empty]),
    members: 7,
  },
  { name: 'hand-built FEXTRA/FNAME/FCOMMENT/FHCRC member + gzip member', bytes: Buffer.concat([handBuiltMember(text.subarray(0, 600_000)), gzip(text.subarray(0, 1000))]), members: 2 },
  { name: 'one small member', bytes: gzip(text.subarray(0, 1234)), members: 1 },
  { name: 'one empty member', bytes: empty, members: 1 },
];

const SPACING = 64 << 10;

describe.each(fixtures)('$name', ({ bytes, members }) => {
  const truth = gunzipTruth(bytes);

  it('yields units that cover gzip -dc output in order, each decoding alone to the same bytes', async () => {
    const { units, summary, warnings, table } = await scanAll(new MemorySource(bytes, 'f.gz'), { spacing: SPACING });
    expect(warnings).toEqual([]);
    expect(summary.members).toBe(members);
    expect(summary.decompressedSize).toBe(truth.length);
    expect(summary.dataEnd).toBe(bytes.length);
    expect(Buffer.concat(units.map((u) => u.data)).equals(truth)).toBe(true);
    let d = 0;
    let memberEnds = 0;
    for (let i = 0; i < units.length; i++) {
      const u = units[i];
      expect(u.dStart).toBe(d);
      expect(u.data.length).toBe(u.dLength);
      expect(u.cStart).toBeLessThan(u.cEnd);
      if (i > 0) expect(u.cStart).toBeGreaterThanOrEqual(units[i - 1].cEnd);
      if (u.kind === KIND_MEMBERS) expect(u.cStart % 8).toBe(0);
      d += u.dLength;
      memberEnds += u.members;
      expect(Buffer.from(decodeUnit(table, i, bytes)).equals(Buffer.from(u.data))).toBe(true);
    }
    expect(memberEnds).toBe(members);
    expect(table.dStart[table.count]).toBe(truth.length);
  });

  it('reads random offsets, the first and the last byte by decoding one unit', async () => {
    const { table } = await scanAll(new MemorySource(bytes, 'f.gz'), { spacing: SPACING });
    if (truth.length === 0) return expect(table.dStart[table.count]).toBe(0);
    const rand = prng(9);
    const offsets = [0, truth.length - 1, ...Array.from({ length: 40 }, () => Math.floor(rand() * truth.length))];
    for (const x of offsets) {
      const i = unitAt(table, x);
      expect(table.dStart[i]).toBeLessThanOrEqual(x);
      expect(table.dStart[i + 1]).toBeGreaterThan(x);
      expect(decodeUnit(table, i, bytes)[x - table.dStart[i]]).toBe(truth[x]);
    }
  });

  it('gives the same table from a FileSource read in 4 KiB pieces', async () => {
    const path = writeFixture(tmp.dir, `f${Math.floor(Math.random() * 1e9)}.gz`, bytes);
    const source = await FileSource.open(path);
    try {
      const a = (await scanAll(source, { spacing: SPACING, readSize: 4096 })).table;
      const b = (await scanAll(new MemorySource(bytes), { spacing: SPACING })).table;
      for (const key of ['cStart', 'cEnd', 'dStart', 'crc', 'kind', 'members', 'windowStart', 'windows'] as const) expect(a[key]).toEqual(b[key]);
    } finally {
      await source.close();
    }
  });
});

describe('checkpoints', () => {
  it('start at every bit position mod 8 and decode there, stored blocks included', async () => {
    const bytes = gzip(mixed, '-1');
    const { table, units } = await scanAll(new MemorySource(bytes), { spacing: 16 << 10 });
    const shifts = new Set<number>();
    let storedUnaligned = 0;
    for (let i = 0; i < table.count; i++) {
      if (table.windowStart[i + 1] === table.windowStart[i]) continue;
      const bit = table.cStart[i];
      shifts.add(bit % 8);
      // The block header at the checkpoint: BFINAL then BTYPE (00 = stored).
      const byte = Math.floor(bit / 8);
      const bits = (bytes[byte] | (bytes[byte + 1] << 8)) >> (bit % 8);
      if (((bits >> 1) & 3) === 0 && bit % 8 !== 0) storedUnaligned++;
      expect(Buffer.from(decodeUnit(table, i, bytes)).equals(Buffer.from(units[i].data))).toBe(true);
    }
    expect([...shifts].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(storedUnaligned).toBeGreaterThan(0);
  });

  it('are spaced by about `spacing` decoded bytes, windows hold the 32 KiB before them', async () => {
    const bytes = gzip(text, '-6');
    const { units, summary } = await scanAll(new MemorySource(bytes), { spacing: 200_000 });
    expect(summary.checkpoints).toBe(units.length - 1);
    for (const u of units.slice(0, -1)) {
      expect(u.kind).toBe(KIND_SPAN);
      expect(u.dLength).toBeGreaterThanOrEqual(200_000);
      expect(u.dLength).toBeLessThan(200_000 + 300_000);
    }
    for (const u of units.slice(1)) expect(Buffer.from(u.window).equals(text.subarray(u.dStart - 32768, u.dStart))).toBe(true);
    expect(units[0].window.length).toBe(0);
    expect(units.map((u) => u.verified)).toEqual([...units.slice(1).map(() => false), true]);
  });

  it('a single member smaller than spacing is one whole-member unit; small members group into runs', async () => {
    const parts = Array.from({ length: 30 }, (_, k) => gzip(text.subarray(k * 50_000, (k + 1) * 50_000)));
    const { units } = await scanAll(new MemorySource(Buffer.concat(parts)), { spacing: 200_000 });
    expect(units.every((u) => u.kind === KIND_MEMBERS)).toBe(true);
    expect(units.map((u) => u.members)).toEqual([4, 4, 4, 4, 4, 4, 4, 2]);
    expect(units.every((u) => u.verified)).toBe(true);
  });
});

describe('trailing data after the last member', () => {
  const gz = gzip(text.subarray(0, 300_000));
  it.each([
    ['zeros', Buffer.alloc(5000), 'TRAILING_ZEROS'],
    ['garbage', Buffer.from('this is not gzip\n'), 'TRAILING_GARBAGE'],
    ['zeros then garbage', Buffer.concat([Buffer.alloc(100), Buffer.from([7])]), 'TRAILING_GARBAGE'],
    ['1f 00', Buffer.from([0x1f, 0]), 'TRAILING_GARBAGE'],
  ])('%s: warned, ignored, data intact', async (_name, tail, code) => {
    const bytes = Buffer.concat([gz, tail]);
    const { units, warnings, summary } = await scanAll(new MemorySource(bytes, 'tail.gz'), { spacing: SPACING });
    expect(Buffer.concat(units.map((u) => u.data)).equals(gunzipTruth(bytes))).toBe(true);
    expect(warnings.map((w) => [w.code, w.compressedOffset])).toEqual([[code, gz.length]]);
    expect(warnings[0].message).toContain('tail.gz');
    expect(summary.dataEnd).toBe(gz.length);
  });
});

describe('describeGzip', () => {
  it('tells the layout, units, checkpoints and random-read cost', async () => {
    const single = describeGzip((await scanAll(new MemorySource(gzip(text)), { spacing: SPACING })).table);
    expect(single).toMatchObject({ layout: 'single-member', members: 1, decompressedSize: text.length });
    expect(single.checkpoints).toBe(single.units - 1);
    // gzip -6 ends a block about every 250 KB of this text: checkpoints can only be there.
    expect(single.checkpoints).toBeGreaterThan(8);
    expect(single.randomRead).toContain('checkpoint');
    expect(single.largestUnit).toBeGreaterThanOrEqual(single.medianUnit);
    const multi = describeGzip((await scanAll(new MemorySource(Buffer.concat([gzip(text.subarray(0, 10)), gzip(text.subarray(10, 20))])))).table);
    expect(multi).toMatchObject({ layout: 'multi-member', members: 2, units: 1, checkpoints: 0 });
    const bgzf = describeGzip((await scanAll(new MemorySource(bgzip(text)), { spacing: SPACING })).table);
    expect(bgzf.layout).toBe('bgzf');
    expect(bgzf.randomRead).toContain('whole members');
  });
});

it('gzip -t accepts the hand-built member (the fixture is valid RFC 1952)', () => {
  run('gzip', ['-t'], handBuiltMember(text.subarray(0, 1000)));
});

it('reads in pieces of any size, down to one byte (headers, data and trailers split across reads)', async () => {
  const part = text.subarray(0, 120_000);
  const bytes = Buffer.concat([gzip(part), empty, handBuiltMember(part), Buffer.alloc(3)]);
  const bgzf = bgzip(part);
  for (const readSize of [1, 2, 7, 13, 100]) {
    const { units, warnings } = await scanAll(new MemorySource(bytes), { readSize, spacing: 50_000 });
    expect(Buffer.concat(units.map((u) => u.data)).equals(Buffer.concat([part, part]))).toBe(true);
    expect(warnings.map((w) => w.code)).toEqual(['TRAILING_ZEROS']);
    const table = await discoverBgzf(new MemorySource(bgzf), { readSize, unitBytes: 50_000 });
    expect(table?.dStart[table.count]).toBe(part.length);
  }
});
