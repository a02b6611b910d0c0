/**
 * A zstd frame that says its size (`zstd FILE` writes one) and is over the default `bigUnitBytes` (64 MiB),
 * indexed for its records: the records pass reads it in `pieceBytes` pieces (8 MiB), and the index must keep
 * the CRC32 of each piece, or every later session's first read in the frame decodes all 70 MB of it to
 * verify it. Twice over: the frame is the file (its units from its header, nothing scanned), and it follows
 * a frame from a pipe (no size: the file is scanned, and the scan streams the big frame, recording its
 * pieces' CRC32s, instead of a worker decoding it whole). Checked against independent truths: `zstd -lv`
 * (the big frame states its size), the plain text (its newlines, its records' bytes, node zlib's CRC32 of
 * each 8 MiB piece), and the bytes the WebAssembly decoder puts out in this thread (the first index decodes
 * the text once; a read from a loaded index decodes up to its piece, not the frame). A stored piece CRC32
 * that does not match its piece is refused (a read is checked against them). Damage inside the frame is
 * refused by the first index, and, under an index built before it (same size, mtime and ends), by a read
 * past it, while a read before it is still served.
 */
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { closeSharedPool, isSeekdataError, openIndexed, type IndexedOptions } from '../src/index.js';
import { RecordBuilder } from '../src/index/records/builder.js';
import { csvLines, prng, tempDir } from './support/fixtures.js';
import { loadAllSections } from './support/index-sections.js';
import { entry, rechecksum } from './support/sdx.js';
import { zstdFile, zstdList, zstdPipe } from './support/zstd.js';
import { spyZstdDecoded } from './support/zstd-decoded.js';

const tmp = tempDir('seekdata-zstd-big-sized-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const MiB = 1 << 20;
/** The defaults, said here so that the truths below do not depend on them silently. */
const BIG = 64 * MiB;
const PIECE = 8 * MiB;

/**
 * About 72 MB of CSV, made cheaply: a repeated pattern (one of six names, a fixed note) and a counter, so
 * that records are distinct and their lengths vary (18 to 88 bytes).
 */
function bigCsv(minBytes: number): Buffer {
  const names = ['alpha', 'bravo-charlie', 'delta', 'echo-foxtrot-golf', 'hotel', 'india-juliett-kilo-lima-mike'];
  const note = 'the same note on every line';
  const parts = ['id,name,note,value\n'];
  let bytes = parts[0].length;
  let i = 0;
  while (bytes < minBytes) {
    const batch: string[] = [];
    for (let k = 0; k < 10_000; k++, i++) batch.push(`${i},${names[i % 6]},${i % 5 === 0 ? '' : note},${(i * 7919) % 100_003}\n`);
    const text = batch.join('');
    parts.push(text);
    bytes += text.length;
  }
  return Buffer.from(parts.join(''), 'latin1');
}

const text = bigCsv(72_000_000);
/** Each record's start (after the header line), its bytes, the first record at or after an offset. */
const { starts, bytes: recordBytes, from: recordFrom } = csvLines(text);
/** The record holding byte `offset`. */
const recordAt = (offset: number): number => recordFrom(offset + 1) - 1;

/** A counter of the bytes the WebAssembly zstd decoder puts out in this thread from its call on. */
const countDecoded = spyZstdDecoded();
afterEach(() => {
  vi.restoreAllMocks();
});

const options: IndexedOptions = { records: 'csv', bigUnitBytes: BIG, pieceBytes: PIECE };

interface Layout {
  name: string;
  /** Where the big frame's text starts (0: the big frame is the file). */
  bigStart: number;
  /** The frames before the big one (from a pipe: they do not say their size; the file is then scanned). */
  head: Buffer;
  /** The big frame: `zstd FILE` (not a pipe), so its header holds its content size. */
  big: Buffer;
}

/** A record start near 2 MB (not on a MiB: the big frame's pieces are not the text's MiBs). */
const split = starts[recordFrom(2_000_000)];
const layouts: Layout[] = [
  { name: 'one frame: its size from its header, nothing scanned', bigStart: 0, head: Buffer.alloc(0), big: zstdFile(text, '-1') },
  { name: 'a 2 MB frame from a pipe, then the big one: the file is scanned', bigStart: split, head: zstdPipe(text.subarray(0, split), '-1'), big: zstdFile(text.subarray(split), '-1') },
];

/** The `units.pieceCrc` section of a layout: the CRC32 of each 8 MiB piece of the big frame's text, from zlib. */
function pieceCrcTruth(layout: Layout): number[] {
  const out = [BIG, PIECE];
  if (layout.bigStart > 0) out.push(-1);
  for (let p = layout.bigStart; p < text.length; p += PIECE) out.push(crc32(text.subarray(p, Math.min(text.length, p + PIECE))));
  return out;
}

describe.each(layouts)('a zstd frame that says its size, over bigUnitBytes, indexed for its records: $name', (layout) => {
  const compressed = Buffer.concat([layout.head, layout.big]);
  /** Where the damage goes: the middle of the big frame's compressed bytes (decoded, around its middle too). */
  const damageAt = layout.head.length + (layout.big.length >> 1);
  /** A record the damage is far from: in the big frame's first piece. */
  const before = recordAt(layout.bigStart + PIECE - 5000);
  /** A record past the damage: in the last piece. */
  const after = recordAt(text.length - 5000);

  it('the fixture: ~72 MB; the big frame states its size, over 64 MiB, and has a checksum', () => {
    expect(text.length - layout.bigStart).toBeGreaterThan(BIG);
    const list = zstdList(layout.big);
    expect(list).toMatch(/# Zstandard Frames: 1\n/);
    expect(list).toContain(`(${text.length - layout.bigStart} B)`);
    expect(list).toMatch(/Check: XXH64/);
    if (layout.head.length > 0) expect(zstdList(layout.head)).not.toMatch(/Decompressed Size/);
    // The damage is not in the first or last 64 KiB (what the fingerprint hashes).
    expect(damageAt).toBeGreaterThan(64 << 10);
    expect(compressed.length - damageAt).toBeGreaterThan(64 << 10);
  });

  it('the records are right, the index keeps every piece’s CRC32, and a loaded index reads a record in a piece without decoding the frame', async () => {
    const dir = tmp.sub('good');
    const path = join(dir, 'data.csv.zst');
    writeFileSync(path, compressed);
    const building = countDecoded();
    const finishOn = vi.spyOn(RecordBuilder.prototype, 'finishOn');
    const built = await openIndexed(path, options);
    expect(built.report.status).toBe('built');
    // The text decoded once (in this thread: the scan's streams, the pass's pieces of the big frame). When
    // the big frame is the file, exactly once: the CSV header is read from its first piece, which the pass
    // takes over with the stream that decoded it (a second stream would decode those 8 MiB again). A scanned
    // file's header is read from the first MiB of its first frame, which the scan decodes again.
    if (layout.bigStart === 0) expect(building()).toBe(text.length);
    else {
      expect(building()).toBeGreaterThanOrEqual(text.length);
      expect(building()).toBeLessThanOrEqual(text.length + 2 * MiB);
    }
    // No second pass: the scanned file's records were re-based onto the reader's chunks, the big frame's
    // pieces' CRC32s all known from the scan (were it decoded whole in a worker, they would not be: a second
    // pass, whose decode in this thread the count above cannot tell from the worker's).
    if (layout.bigStart > 0) {
      expect(finishOn).toHaveBeenCalledTimes(1);
      expect(finishOn.mock.results[0].value).toBeDefined();
    } else {
      expect(finishOn).not.toHaveBeenCalled();
    }
    expect(built.records.count).toBe(starts.length);
    expect(built.reader.info().unverifiedUnits).toBe(0);
    const rand = prng(71);
    const picks = [0, 1, recordAt(split), before, recordAt(BIG), recordAt(layout.bigStart + 4 * PIECE), starts.length - 1, ...Array.from({ length: 40 }, () => Math.floor(rand() * starts.length))];
    const got = await built.records.getMany(picks);
    expect(picks.filter((r, k) => !Buffer.from(got[k]).equals(recordBytes(r)))).toEqual([]);
    await built.close();

    // The chunk map: the frames; the big one's nine pieces' CRC32s, as zlib computes them from the text.
    const sections = await loadAllSections(`${path}.sdx`);
    expect(Array.from(sections.get('units.dStart') as Float64Array)).toEqual(layout.bigStart > 0 ? [0, layout.bigStart, text.length] : [0, text.length]);
    const truth = pieceCrcTruth(layout);
    expect(truth.filter((c) => c >= 0)).toHaveLength(2 + 9);
    expect(Array.from(sections.get('units.pieceCrc') as Float64Array)).toEqual(truth);

    // Loaded from disk: nothing left to verify; a record in the big frame's third piece decodes the frame up
    // to that piece only.
    const loaded = await openIndexed(path, { ...options, ifStale: 'error' });
    expect(loaded.report.status).toBe('loaded');
    expect(loaded.records.count).toBe(starts.length);
    expect(loaded.reader.info().unverifiedUnits).toBe(0);
    const r = recordFrom(layout.bigStart + 2 * PIECE + 100_000);
    const reading = countDecoded();
    expect(Buffer.from(await loaded.records.get(r)).equals(recordBytes(r))).toBe(true);
    const decoded = reading();
    expect(decoded).toBeGreaterThanOrEqual(2 * PIECE + 100_000);
    expect(decoded).toBeLessThanOrEqual(3 * PIECE + MiB);
    // More, in one go, right.
    const more = [0, after, ...Array.from({ length: 40 }, () => Math.floor(rand() * starts.length))];
    const again = await loaded.records.getMany(more);
    expect(more.filter((q, k) => !Buffer.from(again[k]).equals(recordBytes(q)))).toEqual([]);
    await loaded.close();
  }, 180_000);

  it('a stored piece CRC32 that does not match its piece is refused; the pieces before it are served', async () => {
    const dir = tmp.sub('forged');
    const path = join(dir, 'data.csv.zst');
    writeFileSync(path, compressed);
    await (await openIndexed(path, options)).close();
    // The big frame's piece 4: its CRC32 changed in the index file, the file's checksums made right again
    // (as a forger would).
    const at = 8 * (pieceCrcTruth(layout).length - 9 + 4);
    const index = `${path}.sdx`;
    const file = new Uint8Array(readFileSync(index));
    const e = entry(file, 'units.pieceCrc');
    const view = new DataView(file.buffer, file.byteOffset + e.offset, e.length);
    const stored = view.getFloat64(at, true);
    expect(stored).toBe(crc32(text.subarray(layout.bigStart + 4 * PIECE, layout.bigStart + 5 * PIECE)));
    view.setFloat64(at, (stored ^ 1) >>> 0, true);
    rechecksum(file);
    writeFileSync(index, file);

    const loaded = await openIndexed(path, { ...options, ifStale: 'error' });
    expect(loaded.report.status).toBe('loaded');
    const inPiece = (p: number): number => recordFrom(layout.bigStart + p * PIECE + 5000);
    expect(Buffer.from(await loaded.records.get(inPiece(3))).equals(recordBytes(inPiece(3)))).toBe(true);
    const error: unknown = await loaded.records.get(inPiece(4)).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
    expect((error as Error).message).toMatch(/CRC32/);
    await loaded.close();
  }, 180_000);

  /** The file with 16 bytes inverted at `damageAt`. */
  const damaged = (): Buffer => {
    const bytes = Buffer.from(compressed);
    for (let k = 0; k < 16; k++) bytes[damageAt + k] ^= 0xff;
    return bytes;
  };

  it('damage inside the frame, before any index: the first open refuses it (CORRUPT_DATA), no index is saved', async () => {
    const dir = tmp.sub('damaged-first');
    const path = join(dir, 'data.csv.zst');
    writeFileSync(path, damaged());
    const error: unknown = await openIndexed(path, options).then(
      async (file) => {
        await file.close();
        return undefined;
      },
      (x: unknown) => x,
    );
    expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
    expect((error as Error).message).toContain(path);
    expect(existsSync(`${path}.sdx`)).toBe(false);
  }, 180_000);

  it('damage inside the frame under an index built before it (same size, mtime and ends): a read past it is refused, one before it served', async () => {
    const dir = tmp.sub('damaged-later');
    const path = join(dir, 'data.csv.zst');
    // A whole-second stamp, set again after the damage (a file's own stamp may not survive utimes exactly).
    const stamp = new Date('2026-01-02T03:04:05Z');
    writeFileSync(path, compressed);
    utimesSync(path, stamp, stamp);
    await (await openIndexed(path, options)).close();
    writeFileSync(path, damaged());
    utimesSync(path, stamp, stamp);

    const loaded = await openIndexed(path, { ...options, ifStale: 'error' });
    expect(loaded.report.status).toBe('loaded');
    expect(Buffer.from(await loaded.records.get(before)).equals(recordBytes(before))).toBe(true);
    const error: unknown = await loaded.records.get(after).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isSeekdataError(error, 'CORRUPT_DATA')).toBe(true);
    expect((error as Error).message).toContain(path);
    // And again (no piece of it was kept as good).
    await expect(loaded.records.get(after)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    await loaded.close();
  }, 180_000);
});
