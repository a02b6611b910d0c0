/**
 * The first index of a zstd file whose frames do not say their size (`zstd` reading a pipe) decodes it once,
 * also when a frame is over `bigUnitBytes` (read in `pieceBytes` pieces): the scan records the CRC32 of each
 * piece from the bytes it decodes, and the index saves them. Checked against independent truths: the CRC32s
 * of the plain text's pieces (node's zlib), the decoded bytes counted at the WebAssembly decoder (one pass
 * decodes the text once, plus the header's first MiB), and the index a second pass builds with the scan's
 * CRCs left out (every section but the meta equal). Then the index loaded from disk: a read in a piece decodes
 * up to that piece only, and a stored CRC that does not match the piece is refused. A frame that fails its
 * checksum leaves no CRC behind, and a layout whose CRCs the scan does not know (a frame a worker decoded
 * whole) takes the second pass and still stores the right CRCs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { closeSharedPool, isSeekdataError, openIndexed, openReader, type IndexedOptions } from '../src/index.js';
import type { SectionValue } from '../src/index/index-file.js';
import { RecordBuilder } from '../src/index/records/builder.js';
import { PieceCrcRecorder } from '../src/readers/piece-crcs.js';
import { ZstdDiscovery } from '../src/readers/zstd/discovery.js';
import { csvLines, prng, tempDir, timedCsv } from './support/fixtures.js';
import { loadAllSections } from './support/index-sections.js';
import { entry, rechecksum } from './support/sdx.js';
import { zstdFile, zstdPipe } from './support/zstd.js';
import { spyZstdDecoded } from './support/zstd-decoded.js';

const tmp = tempDir('seekdata-zstd-piece-crc-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const MiB = 1 << 20;
/** About 6.6 MiB of CSV (time,sensor,x): 175,000 records after the header. */
const text = timedCsv(175_000, 7, false);
const big = 2 * MiB;

/** A counter of the bytes the WebAssembly zstd decoder puts out in this thread from its call on. */
const countDecoded = spyZstdDecoded();

/** The `units.pieceCrc` section a chunk map of frames of `lengths` should hold: the plain text's pieces' CRC32s. */
function pieceCrcTruth(lengths: number[], pieceBytes: number): number[] {
  const out = [big, pieceBytes];
  let at = 0;
  for (const length of lengths) {
    if (length <= big) out.push(-1);
    else for (let p = 0; p < length; p += pieceBytes) out.push(crc32(text.subarray(at + p, at + Math.min(length, p + pieceBytes))));
    at += length;
  }
  return out;
}

/** Each record's start (after the header line), its bytes, the first record at or after an offset. */
const { starts: lines, bytes: recordBytes, from: recordFrom } = csvLines(text);

function bytesOf(value: SectionValue): Buffer {
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return Buffer.from(JSON.stringify(value));
}

/** Builds the index again at `index`, with the re-base refused and the scan's piece CRCs left out: the second pass's own. */
async function secondPass(path: string, index: string, options: IndexedOptions): Promise<Map<string, SectionValue>> {
  const finishOn = vi.spyOn(RecordBuilder.prototype, 'finishOn').mockReturnValue(undefined);
  const pieceCrcs = vi.spyOn(ZstdDiscovery.prototype, 'pieceCrcs').mockReturnValue(undefined);
  const decoded = countDecoded();
  const file = await openIndexed(path, { ...options, index });
  await file.close();
  // It did decode more than once (the scan, then the pass).
  expect(decoded()).toBeGreaterThan(text.length + 2 * MiB);
  finishOn.mockRestore();
  pieceCrcs.mockRestore();
  return loadAllSections(index);
}

function expectSameSections(got: Map<string, SectionValue>, want: Map<string, SectionValue>): void {
  const names = [...want.keys()].filter((n) => n !== 'meta');
  expect([...got.keys()].filter((n) => n !== 'meta')).toEqual(names);
  expect(names).toContain('units.pieceCrc');
  for (const name of names) expect([name, bytesOf(got.get(name) as SectionValue).equals(bytesOf(want.get(name) as SectionValue))]).toEqual([name, true]);
}

interface Case {
  name: string;
  pieceBytes: number;
  /** The file's frames, and how each is made. */
  frames: Array<{ length: number; make: (plain: Buffer) => Buffer }>;
  /** Whether the first index decodes the text once. */
  once: boolean;
  /** The frames' `param`: the CRC-32 of a frame without a checksum, -1 for the others. */
  bare?: boolean;
  /** The scan's pieces are the reader's chunks: nothing to re-base, and no second pass to compare with. */
  samePieces?: boolean;
}

const pipe = (plain: Buffer): Buffer => zstdPipe(plain, '-1');
const whole = [{ length: text.length, make: pipe }];
const cases: Case[] = [
  { name: 'one frame from a pipe in 1 MiB pieces', pieceBytes: MiB, frames: whole, once: true, samePieces: true },
  { name: 'one frame from a pipe without a checksum (--no-check), in 2 MiB pieces', pieceBytes: 2 * MiB, frames: [{ length: text.length, make: (p) => zstdPipe(p, '-1', '--no-check') }], once: true, bare: true },
  { name: 'one frame from a pipe in 3 MiB pieces (the last one shorter)', pieceBytes: 3 * MiB, frames: whole, once: true },
  {
    name: 'frames from pipes of 1.5 MiB (not over bigUnitBytes) and the rest, in 2 MiB pieces',
    pieceBytes: 2 * MiB,
    frames: [
      { length: 1.5 * MiB, make: pipe },
      { length: text.length - 1.5 * MiB, make: pipe },
    ],
    once: true,
  },
  // Pieces of 1.5 MiB, which the scan's 1 MiB do not divide: the scan cuts the frame at them too, and the
  // records are re-based onto them.
  { name: 'one frame from a pipe in 1.5 MiB pieces (the scan cuts at them too)', pieceBytes: 1.5 * MiB, frames: whole, once: true },
  // A frame that says its size (3 MiB) is decoded whole in a worker: its pieces' CRCs are the second pass's.
  {
    name: 'a frame of 3 MiB that says its size, then one from a pipe: a second pass',
    pieceBytes: MiB,
    frames: [
      { length: 3 * MiB, make: (p) => zstdFile(p, '-1') },
      { length: text.length - 3 * MiB, make: pipe },
    ],
    once: false,
  },
  // The same in one 4 MiB piece per frame: the reader's chunks start where the scan's do, but the first frame's
  // CRC is not known: a second pass all the same.
  {
    name: 'a frame of 3 MiB that says its size, then one from a pipe, in 4 MiB pieces: a second pass',
    pieceBytes: 4 * MiB,
    frames: [
      { length: 3 * MiB, make: (p) => zstdFile(p, '-1') },
      { length: text.length - 3 * MiB, make: pipe },
    ],
    once: false,
  },
];

/** The file of a case: its frames, each made from its part of the text. */
function compress(c: Case): Buffer {
  let at = 0;
  return Buffer.concat(
    c.frames.map((f) => {
      const part = text.subarray(at, at + f.length);
      at += f.length;
      return f.make(part);
    }),
  );
}

describe('the first index of a zstd frame of unknown size over bigUnitBytes decodes it once and keeps its pieces’ CRC32s', () => {
  it.each(cases.map((c, k) => [c.name, k] as const))('%s', async (_, k) => {
    const c = cases[k];
    const dir = tmp.sub();
    const path = join(dir, 'data.csv.zst');
    writeFileSync(path, compress(c));
    const options: IndexedOptions = { records: 'csv', timeColumn: 'time', bigUnitBytes: big, pieceBytes: c.pieceBytes };
    const decoded = countDecoded();
    const built = await openIndexed(path, options);
    expect(built.report.status).toBe('built');
    expect(built.records.count).toBe(lines.length);
    // Once: every byte, and the first MiB again for the CSV header (decoded before the pass). Else a second
    // pass (a frame that says its size is decoded in a worker, where it is not counted, by the scan).
    if (c.once) expect(decoded() - text.length).toBeGreaterThanOrEqual(0);
    if (c.once) expect(decoded() - text.length).toBeLessThanOrEqual(2 * MiB);
    else expect(decoded()).toBeGreaterThan(text.length + 2 * MiB);
    expect(built.reader.info().unverifiedUnits).toBe(0);
    await built.close();
    const first = await loadAllSections(`${path}.sdx`);
    const lengths = c.frames.map((f) => f.length);
    expect(Array.from(first.get('units.dStart') as Float64Array)).toEqual(lengths.reduce((a, l) => [...a, a[a.length - 1] + l], [0]));
    expect(Array.from(first.get('units.pieceCrc') as Float64Array)).toEqual(pieceCrcTruth(lengths, c.pieceBytes));
    expect(Array.from(first.get('units.param') as Float64Array)).toEqual(c.bare === true ? [crc32(text)] : lengths.map(() => -1));

    // Loaded from disk: a read in the first piece of the last frame decodes about that piece, not the whole
    // frame (which a first read in a frame whose pieces have no CRCs verifies).
    const loaded = await openIndexed(path, { ...options, ifStale: 'error' });
    expect(loaded.report.status).toBe('loaded');
    expect(loaded.reader.info().unverifiedUnits).toBe(0);
    const lastLength = lengths[lengths.length - 1];
    const lastFrame = text.length - lastLength;
    const pieceEnd = Math.min(c.pieceBytes, lastLength);
    const r = recordFrom(lastFrame + pieceEnd - 1000);
    const reads = countDecoded();
    expect(Buffer.from(await loaded.records.get(r)).equals(recordBytes(r))).toBe(true);
    expect(reads()).toBeGreaterThanOrEqual(pieceEnd - 1000);
    expect(reads()).toBeLessThanOrEqual(pieceEnd + MiB);
    const all = await loaded.records.getMany(Array.from({ length: lines.length }, (_, i) => i));
    expect(all.findIndex((b, i) => !Buffer.from(b).equals(recordBytes(i)))).toBe(-1);
    await loaded.close();

    // The same as a second pass over the chunk map builds, recording the CRCs itself.
    if (c.samePieces !== true) expectSameSections(first, await secondPass(path, join(dir, 'second.sdx'), options));
  }, 60_000);
});

describe('the CRC32s the scan stored are what a read trusts', () => {
  it('a stored piece CRC that does not match its piece is refused; the pieces before it are served', async () => {
    const dir = tmp.sub();
    const path = join(dir, 'data.csv.zst');
    writeFileSync(path, pipe(text));
    const options: IndexedOptions = { records: 'csv', timeColumn: 'time', bigUnitBytes: big, pieceBytes: MiB };
    await (await openIndexed(path, options)).close();
    // Piece 3's CRC32 changed in the index file, its checksums made right again (as a forger would).
    const index = `${path}.sdx`;
    const file = new Uint8Array(readFileSync(index));
    const e = entry(file, 'units.pieceCrc');
    const view = new DataView(file.buffer, file.byteOffset + e.offset, e.length);
    const stored = view.getFloat64(8 * (2 + 3), true);
    expect(stored).toBe(crc32(text.subarray(3 * MiB, 4 * MiB)));
    view.setFloat64(8 * (2 + 3), (stored ^ 1) >>> 0, true);
    rechecksum(file);
    writeFileSync(index, file);
    const loaded = await openIndexed(path, { ...options, ifStale: 'error' });
    expect(loaded.report.status).toBe('loaded');
    const inPiece = (p: number): number => recordFrom(p * MiB + 5000);
    expect(Buffer.from(await loaded.records.get(inPiece(2))).equals(recordBytes(inPiece(2)))).toBe(true);
    for (const p of [3, 5]) {
      const error: unknown = await loaded.records.get(inPiece(p)).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
      expect((error as Error).message).toMatch(/CRC32/);
    }
    await loaded.close();
  });
});

describe('only verified bytes leave CRCs', () => {
  it('a frame that fails its checksum on the first index: no index; the intact frame before it keeps its CRCs (allowDamage)', async () => {
    const dir = tmp.sub();
    const good = pipe(text.subarray(0, 3 * MiB));
    const bad = pipe(text.subarray(3 * MiB));
    // The frame checksum is the last 4 bytes of the frame.
    bad[bad.length - 2] ^= 0x40;
    const path = join(dir, 'data.csv.zst');
    writeFileSync(path, Buffer.concat([good, bad]));
    const options = { bigUnitBytes: big, pieceBytes: MiB };
    const error: unknown = await openIndexed(path, { records: 'csv', ...options }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
    expect(existsSync(`${path}.sdx`)).toBe(false);
    const reader = await openReader(path, { ...options, allowDamage: true });
    expect(reader.units.count).toBe(1);
    expect(Array.from(reader.pieceCrcs.crc)).toEqual(pieceCrcTruth([3 * MiB], MiB).slice(2));
    await reader.close();
  });

  it('openReader’s first scan saves them with the chunk map too', async () => {
    const dir = tmp.sub();
    const path = join(dir, 'data.csv.zst');
    writeFileSync(path, pipe(text));
    const options = { bigUnitBytes: big, pieceBytes: 2 * MiB };
    await (await openReader(path, options)).close();
    expect(Array.from((await loadAllSections(`${path}.sdx`)).get('units.pieceCrc') as Float64Array)).toEqual(pieceCrcTruth([text.length], 2 * MiB));
    const reader = await openReader(path, { ...options, ifStale: 'error' });
    expect(reader.indexStatus).toBe('loaded');
    expect(reader.info().unverifiedUnits).toBe(0);
    expect(Buffer.from(await reader.read(2 * MiB + 10, 100)).equals(text.subarray(2 * MiB + 10, 2 * MiB + 110))).toBe(true);
    await reader.close();
  });
});

describe('PieceCrcRecorder', () => {
  it.each([1, 2, 3, 4])('the CRC32 of each piece, whatever the cuts it is fed in (seed %i)', (seed) => {
    const rand = prng(seed);
    const data = text.subarray(0, 200_000 + Math.floor(rand() * 50_000));
    const piece = 1 + Math.floor(rand() * 40_000);
    const recorder = new PieceCrcRecorder(piece);
    for (let at = 0; at < data.length; ) {
      // Empty cuts, cuts inside a piece, cuts over several pieces.
      const n = Math.min(data.length - at, rand() < 0.1 ? 0 : Math.floor(rand() * 3 * piece));
      recorder.add(data.subarray(at, at + n));
      at += n;
    }
    const want: number[] = [];
    for (let p = 0; p < data.length; p += piece) want.push(crc32(data.subarray(p, p + piece)));
    expect(recorder.done()).toEqual(want);
  });
});
