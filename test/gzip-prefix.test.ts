/**
 * Verified prefix reads of gzip spans: the indexing pass records the CRC-32 of every 64 KiB sub-span of a
 * span, and a read inside one uncached span decodes only through the sub-span holding its last byte,
 * checking each sub-span it decoded. Checked against `gzip -dc`'s output (and the plain bytes): reads
 * across span and sub-span boundaries and at the file's end; damage before / after the bytes a read needs;
 * damaged, truncated and missing sub-CRC tables in the index file; BGZF and multi-member files.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, inflateRawSync } from 'node:zlib';
import { closeSharedPool, isSeekdataError, openReader, type SeekableReader } from '../src/index.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { decodeSpanPrefix } from '../src/readers/gzip/span-prefix.js';
import { subCrcsOf, windowOf } from '../src/readers/gzip/table.js';
import { KIND_SPAN, unpackWindow } from '../src/readers/gzip/units.js';
import { SUB_SPAN_BYTES } from '../src/readers/sub-crcs.js';
import { damageInPlace, datedFixture, makeText, prng, run, tempDir, writeFixture } from './support/fixtures.js';
import { bgzip, expectRead, gunzipTruth, gzip, spanUnits } from './support/gzip-fixtures.js';

const tmp = tempDir('seekdata-gzprefix-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const SPACING = 256 << 10;
const SUB = SUB_SPAN_BYTES;
const text = makeText(2_500_000, 91);
const gz = gzip(text, '-6');
const truth = gunzipTruth(gz);

/** Random bytes compress to stored blocks: decoded byte d sits at one known compressed byte. */
const random = (() => {
  const rand = prng(92);
  const out = Buffer.alloc(1_200_000);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 256);
  return out;
})();

let fileCount = 0;
function fixture(bytes: Uint8Array, name = 'data.csv.gz'): string {
  return writeFixture(tmp.dir, `${fileCount++}-${name}`, bytes);
}

async function open(path: string, options: Parameters<typeof openReader>[1] = {}): Promise<SeekableReader> {
  return openReader(path, { parallelism: 1, cacheBytes: 1, gzipSpacingBytes: SPACING, ...options });
}

/** Builds the index beside `path`, then returns a reader on it (index loaded). */
async function indexed(path: string, options: Parameters<typeof openReader>[1] = {}): Promise<SeekableReader> {
  await (await open(path)).close();
  const reader = await open(path, options);
  expect(reader.indexStatus).toBe('loaded');
  return reader;
}

describe('verified prefix reads of gzip spans', () => {
  it('the truth is gzip -dc output, equal to the plain bytes', () => {
    expect(truth.equals(text)).toBe(true);
  });

  it('reads across span and sub-span boundaries and at the end equal the truth, most by prefix decodes', async () => {
    const reader = await indexed(fixture(gz));
    const us = spanUnits(reader);
    expect(us.length).toBeGreaterThan(5);
    // Spans starting at a bit inside a byte are covered (the empty-block prefix before the span's bits).
    expect(us.some((u) => reader.units.cStart[u] % 8 !== 0)).toBe(true);
    const offsets: Array<[number, number]> = [];
    for (const u of us) {
      const start = reader.units.dStart[u];
      const end = reader.units.dStart[u + 1];
      offsets.push([start, 1], [start, 100], [Math.max(0, start - 50), 100]);
      for (let at = start + SUB; at < end; at += SUB) offsets.push([at - 60, 100], [at - 1, 1], [at, 1], [at - 100, 100]);
      offsets.push([end - 100, 100], [end - 1, 1]);
    }
    const rand = prng(5);
    for (let i = 0; i < 60; i++) offsets.push([Math.floor(rand() * (truth.length - 3000)), 1 + Math.floor(rand() * 3000)]);
    offsets.push([truth.length - 1, 1], [truth.length - 100, 100]);
    for (const [offset, length] of offsets) await expectRead(reader, truth, offset, Math.min(length, truth.length - offset));
    expect(reader.stats.prefixReads).toBeGreaterThan(offsets.length / 2);
    // Reads whose last byte lies in a span's last sub-span decode the whole span.
    expect(reader.stats.prefixReads).toBeLessThan(reader.stats.decodes);
    await reader.close();
  });

  it('the index holds one CRC-32 per 64 KiB of every span, combining to the span (validated on load)', async () => {
    const reader = await indexed(fixture(gz));
    for (const u of spanUnits(reader)) {
      const sub = subCrcsOf(reader.units, u);
      expect(sub?.span).toBe(SUB);
      const length = reader.units.dStart[u + 1] - reader.units.dStart[u];
      expect(sub?.crcs.length).toBe(4 * Math.ceil(length / SUB));
    }
    await reader.close();
  });

  it('a read decodes only through the sub-span of its last byte; a second read of the span decodes it whole and caches it', async () => {
    const reader = await indexed(fixture(gz), { cacheBytes: 64 << 20 });
    const u = spanUnits(reader)[2];
    const start = reader.units.dStart[u];
    await expectRead(reader, truth, start + 10, 100);
    expect(reader.stats).toMatchObject({ decodes: 1, prefixReads: 1, cacheHits: 0 });
    // Small reads marching through the span: one whole decode, then the cache.
    const end = reader.units.dStart[u + 1];
    for (let at = start + 200; at < end - 100; at += 10_000) await expectRead(reader, truth, at, 100);
    expect(reader.stats.decodes).toBe(2);
    expect(reader.stats.prefixReads).toBe(1);
    expect(reader.stats.cacheHits).toBeGreaterThan(20);
    await reader.close();
  });

  it('with an empty cache every read decodes its own prefix; prefixReads: false decodes whole spans', async () => {
    const path = fixture(gz);
    const reader = await indexed(path);
    const u = spanUnits(reader)[1];
    const start = reader.units.dStart[u];
    for (let k = 0; k < 3; k++) await expectRead(reader, truth, start + k * 1000, 100);
    expect(reader.stats.prefixReads).toBe(3);
    await reader.close();
    const whole = await open(path, { prefixReads: false });
    await expectRead(whole, truth, start, 100);
    expect(whole.stats).toMatchObject({ decodes: 1, prefixReads: 0 });
    await whole.close();
    await expect(open(path, { prefixReads: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('at parallelism 2 a lone read decodes its prefix in the calling thread; reads in flight together use the pool', async () => {
    const reader = await indexed(fixture(gz), { parallelism: 2 });
    const us = spanUnits(reader);
    await expectRead(reader, truth, reader.units.dStart[us[1]] + 5, 100);
    expect(reader.stats.prefixReads).toBe(1);
    const offsets = us.slice(2, 6).map((u) => reader.units.dStart[u] + 7);
    const got = await Promise.all(offsets.map((o) => reader.read(o, 50)));
    got.forEach((bytes, k) => expect(Buffer.from(bytes).equals(truth.subarray(offsets[k], offsets[k] + 50))).toBe(true));
    expect(reader.stats.decodes).toBe(5);
    await reader.close();
  });
});

/** A fixture with a fixed mtime, which `damageInPlace` sets again. */
function dated(bytes: Uint8Array, name: string): string {
  return datedFixture(tmp.dir, `${fileCount++}-${name}`, bytes);
}

describe('damage inside a span', () => {
  it('stored blocks: a read of the damaged sub-span (or one past it) is CORRUPT_DATA; a read ending before it returns verified bytes', async () => {
    const bytes = gzip(random, '-6');
    const path = dated(bytes, 'random.gz');
    await (await open(path)).close();
    const probe = await open(path);
    const u = spanUnits(probe).find((s) => probe.units.dStart[s + 1] - probe.units.dStart[s] >= 3 * SUB + 100);
    if (u === undefined) throw new Error('no span with 3 sub-spans');
    const start = probe.units.dStart[u];
    await probe.close();
    // Decoded byte `damaged` (in sub-span 1 of span u) is stored verbatim: find it by its 32 bytes.
    const damaged = start + SUB + 1234;
    const at = bytes.indexOf(random.subarray(damaged, damaged + 32));
    expect(at).toBeGreaterThan(0);
    expect(bytes.indexOf(random.subarray(damaged, damaged + 32), at + 1)).toBe(-1);
    damageInPlace(path, at);
    const reader = await open(path);
    expect(reader.indexStatus).toBe('loaded');
    // Ends before the damaged sub-span: decoded and verified through sub-span 0, returned.
    await expectRead(reader, random, start + 100, 1000);
    await expectRead(reader, random, start + SUB - 100, 100);
    expect(reader.stats.prefixReads).toBe(2);
    // In the damaged sub-span, or after it: CORRUPT_DATA naming the file and the decoded range.
    for (const offset of [damaged - 10, start + SUB, start + 2 * SUB + 5]) {
      const error = await reader.read(offset, 20).catch((e: unknown) => e);
      expect(isSeekdataError(error, 'CORRUPT_DATA'), String(error)).toBe(true);
      expect(String(error)).toContain(path);
      expect(String(error)).toContain(`decompressed bytes ${start + SUB}..${start + 2 * SUB}`);
    }
    await reader.close();
    // Whole-span decodes (prefixReads: false) report the span's damage for a read before it too.
    const whole = await open(path, { prefixReads: false });
    await expect(whole.read(start + 100, 1000)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    await whole.close();
  });

  it('Huffman-coded data: a feed that runs into damage is bisected; reads before the damage are verified, the span as a whole is CORRUPT_DATA, never other bytes', async () => {
    const path = dated(gz, 'huffman.gz');
    await (await open(path)).close();
    const probe = await open(path);
    const u = spanUnits(probe).find((s) => probe.units.cStart[s] % 8 !== 0 && probe.units.dStart[s + 1] - probe.units.dStart[s] >= 4 * SUB);
    if (u === undefined) throw new Error('no span');
    const start = probe.units.dStart[u];
    const cFrom = Math.ceil(probe.units.cStart[u] / 8);
    const cTo = Math.floor(probe.units.cEnd[u] / 8);
    await probe.close();
    // Damage in the span's second half where zlib stops with an error (as Node's zlib tells, fed the
    // span's bytes from the file start: a member's whole deflate data), so that a feed running into it
    // fails; gzip -dc then tells how far the output stays right.
    const intact = readFileSync(path);
    const header = 10;
    const at = [0.5, 0.55, 0.6, 0.45, 0.65, 0.7, 0.4].map((f) => cFrom + Math.floor((cTo - cFrom) * f)).find((pos) => {
      const copy = Buffer.from(intact);
      copy[pos] ^= 0x55;
      try {
        inflateRawSync(copy.subarray(header), { finishFlush: constants.Z_SYNC_FLUSH });
        return false;
      } catch {
        return true;
      }
    });
    if (at === undefined) throw new Error('no damage that zlib reports');
    damageInPlace(path, at);
    const damagedFile = readFileSync(path);
    const partial = run('sh', ['-c', 'gzip -dc 2>/dev/null; true'], damagedFile);
    let good = 0;
    while (good < partial.length && partial[good] === truth[good]) good++;
    expect(good).toBeGreaterThan(start + SUB);
    expect(good).toBeLessThan(truth.length);

    const reader = await open(path);
    // Every sub-span that ends before gzip's output went wrong reads back right, by prefix decodes.
    const lastGood = Math.floor((good - start) / SUB);
    for (let k = 0; k < lastGood; k++) await expectRead(reader, truth, start + k * SUB + 7, 100);
    expect(reader.stats.prefixReads).toBe(lastGood);
    // The span's last bytes: CORRUPT_DATA (a whole decode reaches the damage).
    const end = reader.units.dStart[u + 1];
    await expect(reader.read(end - 100, 100)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    // Any read of the span is either the truth or CORRUPT_DATA.
    for (let off = start; off < end; off += 9_973) {
      const got = await reader.read(off, 64).catch((e: unknown) => e);
      if (got instanceof Uint8Array) expect(Buffer.from(got).equals(truth.subarray(off, off + 64))).toBe(true);
      else expect(isSeekdataError(got, 'CORRUPT_DATA'), String(got)).toBe(true);
    }

    // The bisection itself: fed all but the span's last byte (the damage inside), it still returns the
    // verified sub-spans before the damage.
    const units = reader.units;
    const sub = subCrcsOf(units, u);
    if (sub === undefined) throw new Error('no sub-CRCs');
    const offset = Math.floor(units.cStart[u] / 8);
    const task = {
      data: damagedFile.subarray(offset, Math.ceil(units.cEnd[u] / 8) - 1),
      shift: units.cStart[u] - offset * 8,
      window: unpackWindow(windowOf(units, u)),
      dLength: units.dStart[u + 1] - start,
      crcs: sub.crcs,
      span: sub.span,
      end: lastGood * SUB,
      file: path,
      offset,
      dStart: start,
    };
    if (lastGood > 0) {
      const bytes = decodeSpanPrefix(task);
      expect(bytes?.length).toBe(lastGood * SUB);
      expect(Buffer.from(bytes ?? []).equals(truth.subarray(start, start + lastGood * SUB))).toBe(true);
    }
    expect(() => decodeSpanPrefix({ ...task, end: task.dLength - 1 })).toThrow(/cannot be decoded: the deflate data is damaged/);
    await reader.close();
  });
});

/** Rewrites the index file beside `path` with `change` applied to its sections (checksums made anew). */
async function rewriteIndex(path: string, change: (sections: Map<string, SectionValue>) => void): Promise<void> {
  const indexPath = `${path}.sdx`;
  const opened = await openIndexFile(indexPath);
  if (opened.kind !== 'index') throw new Error(`not an index: ${opened.kind}`);
  const sections = await opened.file.load(opened.file.names());
  await opened.file.close();
  change(sections);
  await writeIndexFile(indexPath, sections);
}

function facts(sections: Map<string, SectionValue>): Record<string, unknown> {
  const value = sections.get('units.facts');
  if (value === undefined || !('json' in value)) throw new Error('no facts');
  return value.json as Record<string, unknown>;
}

describe('the sub-CRC table in the index file', () => {
  async function builtIndex(): Promise<{ path: string; span: number; start: number }> {
    const path = fixture(gz);
    const reader = await open(path);
    const span = spanUnits(reader)[2];
    const start = reader.units.dStart[span];
    await reader.close();
    return { path, span, start };
  }

  it('a changed sub-span CRC-32 (valid file checksums): CORRUPT_INDEX, and by default a warning and a rebuilt index', async () => {
    const { path, span, start } = await builtIndex();
    await rewriteIndex(path, (sections) => {
      const blob = sections.get('units.blob.subCrc');
      const at = sections.get('units.blobAt.subCrc');
      if (!(blob instanceof Uint8Array) || !(at instanceof Float64Array)) throw new Error('no sub-CRC table');
      blob[at[span] + 4] ^= 1; // sub-span 1 of the span
    });
    await expect(open(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining('sub-span CRC-32s of gzip span') });
    const warnings: string[] = [];
    const reader = await open(path, { onWarning: (w) => warnings.push(w) });
    expect(reader.indexStatus).toBe('rebuilt');
    expect(warnings.join('\n')).toContain('sub-span CRC-32s');
    await expectRead(reader, truth, start + SUB + 10, 100);
    expect(reader.stats.prefixReads).toBe(1);
    await reader.close();
  });

  it('a truncated table, or a table without its sub-span size: CORRUPT_INDEX', async () => {
    const { path } = await builtIndex();
    await rewriteIndex(path, (sections) => {
      const blob = sections.get('units.blob.subCrc');
      const at = sections.get('units.blobAt.subCrc');
      if (!(blob instanceof Uint8Array) || !(at instanceof Float64Array)) throw new Error('no sub-CRC table');
      sections.set('units.blob.subCrc', blob.subarray(0, blob.length - 4));
      at[at.length - 1] -= 4;
    });
    await expect(open(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining('sub-span CRC-32s') });
    const other = await builtIndex();
    await rewriteIndex(other.path, (sections) => {
      delete facts(sections).subSpan;
    });
    await expect(open(other.path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    const third = await builtIndex();
    await rewriteIndex(third.path, (sections) => {
      facts(sections).subSpan = 12345.5;
    });
    await expect(open(third.path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining('sub-span size') });
  });

  it('a byte of the table damaged on disk: the section checksum fails, the index is rebuilt', async () => {
    const { path, start } = await builtIndex();
    const indexPath = `${path}.sdx`;
    const opened = await openIndexFile(indexPath);
    if (opened.kind !== 'index') throw new Error('not an index');
    const entry = opened.file.entry('units.blob.subCrc');
    await opened.file.close();
    if (entry === undefined) throw new Error('no sub-CRC section');
    const bytes = readFileSync(indexPath);
    bytes[entry.offset + 9] ^= 0x10;
    writeFileSync(indexPath, bytes);
    await expect(open(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    const reader = await open(path);
    expect(reader.indexStatus).toBe('rebuilt');
    await expectRead(reader, truth, start + 3, 100);
    await reader.close();
  });

  it('an index without sub-CRCs (written before them) loads, and its reads decode whole spans', async () => {
    const { path, start } = await builtIndex();
    await rewriteIndex(path, (sections) => {
      sections.delete('units.blob.subCrc');
      sections.delete('units.blobAt.subCrc');
      delete facts(sections).subSpan;
    });
    const reader = await open(path, { ifStale: 'error' });
    expect(reader.indexStatus).toBe('loaded');
    for (const offset of [start, start + SUB + 5, truth.length - 100]) await expectRead(reader, truth, offset, 100);
    expect(reader.stats).toMatchObject({ decodes: 3, prefixReads: 0 });
    await reader.close();
  });
});

describe('other gzip layouts', () => {
  it('BGZF: no sub-CRCs; reads decode the blocks holding them (test/bgzf-blocks.test.ts), the truth', async () => {
    const bytes = bgzip(text);
    const reader = await open(fixture(bytes, 'data.bgz'));
    expect(reader.units.extra?.blobs?.subCrc).toBeUndefined();
    const rand = prng(9);
    for (let i = 0; i < 20; i++) {
      const offset = Math.floor(rand() * (text.length - 500));
      await expectRead(reader, gunzipTruth(bytes), offset, 500);
    }
    expect(reader.stats.prefixReads).toBe(20);
    await reader.close();
  });

  it('multi-member (cat of members with spans, and small members): spans of every member read by prefix, member runs whole', async () => {
    const small = text.subarray(0, 40_000);
    const bytes = Buffer.concat([gzip(text.subarray(0, 900_000)), gzip(small), gzip(small), gzip(text.subarray(900_000), '-9')]);
    const expected = gunzipTruth(bytes);
    const reader = await indexed(fixture(bytes, 'multi.gz'));
    let prefix = 0;
    for (let u = 0; u < reader.units.count; u++) {
      const before = reader.stats.prefixReads;
      await expectRead(reader, expected, reader.units.dStart[u] + 3, 100);
      if (reader.units.kind[u] === KIND_SPAN) prefix += reader.stats.prefixReads - before;
      else expect(reader.stats.prefixReads).toBe(before);
    }
    // Every span's first read is a prefix read, but for short spans (where the compressed bytes for their
    // first sub-span would reach the span's end: decoded whole).
    expect(prefix).toBe(spanUnits(reader).filter((u) => reader.units.dStart[u + 1] - reader.units.dStart[u] > 2 * SUB).length);
    expect(prefix).toBeGreaterThan(3);
    expect(reader.units.kind.some((k) => k !== KIND_SPAN)).toBe(true);
    await expectRead(reader, expected, expected.length - 1, 1);
    await reader.close();
  });
});
