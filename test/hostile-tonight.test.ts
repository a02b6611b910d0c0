/**
 * Attacks on two features as a hostile user would make them: verified gzip prefix reads (every byte a
 * `read` returns must be `gzip -dc`'s byte at that offset, or the read fails with a typed error naming the
 * file) and index ownership (no data file's index is overwritten, lost or used by another; errors name the
 * files and say what to do). Truth: `gzip -dc` output, the bytes of index and data files that must stay
 * untouched.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { closeSharedPool, isSeekdataError, openReader, type SeekableReader } from '../src/index.js';
import { writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { indexPlacesFor } from '../src/index/location.js';
import { prefixFeed, prefixTarget, SUB_SPAN_BYTES } from '../src/readers/sub-crcs.js';
import { makeText, prng, startRangeServer, tempDir, useCacheDir, writeFixture } from './support/fixtures.js';
import { expectRead, gunzipTruth, gzip, mixedData, spanUnits } from './support/gzip-fixtures.js';

const tmp = tempDir('seekdata-hostile4-');
useCacheDir(join(tmp.dir, 'cache'));
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

let count = 0;
const fresh = (name: string): string => {
  const dir = join(tmp.dir, `${name}-${count++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const SPACING = 256 << 10;
const SUB = SUB_SPAN_BYTES;
type Options = Parameters<typeof openReader>[1];

async function indexed(path: string, options: Options = {}): Promise<SeekableReader> {
  const base = { parallelism: 1, cacheBytes: 1, gzipSpacingBytes: SPACING };
  await (await openReader(path, { ...base, ...options })).close();
  const reader = await openReader(path, { ...base, ...options });
  expect(reader.indexStatus).toBe('loaded');
  return reader;
}

/** Reads at every sub-span boundary of every span, across spans, at the end, of length 0, and 16 at once. */
async function attackReads(reader: SeekableReader, truth: Uint8Array): Promise<void> {
  const reads: Array<[number, number]> = [[0, 0], [truth.length, 0], [truth.length - 1, 1], [0, Math.min(truth.length, 3 * SPACING)]];
  for (const u of spanUnits(reader)) {
    const start = reader.units.dStart[u];
    const end = reader.units.dStart[u + 1];
    for (let at = start; at < end; at += SUB) reads.push([at, 1], [Math.max(0, at - 1), 2], [at + SUB - 1, Math.min(1, end - at - SUB + 1)]);
    reads.push([end - 1, Math.min(2, truth.length - end + 1)], [start, end - start]);
  }
  for (const [offset, length] of reads) if (offset + length <= truth.length && length >= 0) await expectRead(reader, truth, offset, length);
  const rand = prng(17);
  const at = Array.from({ length: 16 }, () => Math.floor(rand() * (truth.length - 5000)));
  const got = await Promise.all(at.map((o) => reader.read(o, 5000)));
  got.forEach((bytes, k) => expect(Buffer.from(bytes).equals(truth.subarray(at[k], at[k] + 5000)), `concurrent read at ${at[k]}`).toBe(true));
}

describe('gzip prefix reads under attack: every byte equals gzip -dc', () => {
  const mixed = mixedData(2_600_000, 41);

  for (const [level, parallelism] of [['-1', 1], ['-9', 2]] as const) {
    it(`stored blocks between Huffman blocks, spans at odd bits (gzip ${level}, parallelism ${parallelism}, cacheBytes 1)`, async () => {
      const bytes = gzip(mixed, level);
      const truth = gunzipTruth(bytes);
      const reader = await indexed(writeFixture(fresh('mixed'), 'mixed.gz', bytes), { parallelism });
      expect(spanUnits(reader).some((u) => reader.units.cStart[u] % 8 !== 0)).toBe(true);
      await attackReads(reader, truth);
      expect(reader.stats.prefixReads).toBeGreaterThan(10);
      await reader.close();
    });
  }

  it('tiny files, an empty file and a file of one member smaller than the checkpoint spacing (one unit)', async () => {
    for (const plain of [Buffer.from('a\n'), Buffer.alloc(0), makeText(150_000, 5)]) {
      const bytes = gzip(plain);
      const truth = gunzipTruth(bytes);
      const reader = await indexed(writeFixture(fresh('small'), 'small.gz', bytes));
      expect(reader.size).toBe(truth.length);
      for (let at = 0; at < truth.length; at += 9_999) await expectRead(reader, truth, at, Math.min(300, truth.length - at));
      await expect(reader.read(truth.length, 1)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      await reader.close();
    }
  });

  it('damage at the last / first byte of a sub-span, just past the bytes a prefix read is fed, in the last sub-span: verified bytes before it, CORRUPT_DATA at it', async () => {
    // Random bytes: stored blocks, so decoded byte d sits verbatim at one compressed byte.
    const rand = prng(23);
    const random = Buffer.alloc(1_100_000);
    for (let i = 0; i < random.length; i++) random[i] = Math.floor(rand() * 256);
    const bytes = gzip(random, '-6');
    const dir = fresh('damage');
    const probe = await indexed(writeFixture(dir, 'probe.gz', bytes));
    const u = spanUnits(probe).find((s) => probe.units.dStart[s + 1] - probe.units.dStart[s] >= 3 * SUB + 100);
    if (u === undefined) throw new Error('no span of 3 sub-spans');
    const start = probe.units.dStart[u];
    const end = probe.units.dStart[u + 1];
    const offset = Math.floor(probe.units.cStart[u] / 8);
    const whole = Math.ceil(probe.units.cEnd[u] / 8) - offset;
    await probe.close();
    /** The compressed byte holding decoded byte d (found by the 32 bytes from it, or up to it). */
    const compressedOf = (d: number): number => {
      const after = bytes.indexOf(random.subarray(d, d + 32));
      const at = after >= 0 ? after : bytes.indexOf(random.subarray(d - 31, d + 1)) + 31;
      expect(at).toBeGreaterThan(31);
      return at;
    };
    /** The decoded byte a compressed byte holds (stored blocks). */
    const decodedOf = (at: number): number => {
      const d = random.indexOf(bytes.subarray(at - 40, at));
      expect(d).toBeGreaterThan(0);
      return d + 40;
    };
    const feed = offset + prefixFeed(prefixTarget(1, SUB, end - start), whole, end - start);
    const cases: Array<{ at: number; good: Array<[number, number]>; bad: Array<[number, number]> }> = [
      // The last byte of sub-span 0: a read of it, of sub-span 0 or through sub-span 1 fails.
      { at: compressedOf(start + SUB - 1), good: [], bad: [[start, SUB], [start + 3, 1], [start + SUB, 10]] },
      // The first byte of sub-span 1: all of sub-span 0 reads back; from sub-span 1 on, CORRUPT_DATA.
      { at: compressedOf(start + SUB), good: [[start, SUB], [start + SUB - 1, 1]], bad: [[start + SUB, 1], [start + SUB - 1, 2]] },
      // Just past, and at the last of, the compressed bytes a read of sub-span 0 is fed.
      { at: feed, good: [[start, SUB]], bad: [[decodedOf(feed), 1]] },
      { at: feed - 1, good: [[start, SUB]], bad: [[decodedOf(feed - 1), 1]] },
      // In the span's last sub-span (a read of it decodes the whole span).
      { at: offset + whole - 40, good: [[start + 5, 2 * SUB]], bad: [[end - 1, 1], [decodedOf(offset + whole - 40), 1]] },
    ];
    const when = new Date('2025-01-01T00:00:00Z');
    for (const { at, good, bad } of cases) {
      const path = writeFixture(dir, `at-${at}.gz`, bytes);
      utimesSync(path, when, when);
      await (await openReader(path, { parallelism: 1, cacheBytes: 1, gzipSpacingBytes: SPACING })).close();
      // The same size and mtime: the index stays fresh; only the CRC-32s can tell.
      const damaged = Buffer.from(bytes);
      damaged[at] ^= 0x20;
      writeFileSync(path, damaged);
      utimesSync(path, when, when);
      const reader = await openReader(path, { parallelism: 1, cacheBytes: 1, gzipSpacingBytes: SPACING });
      expect(reader.indexStatus).toBe('loaded');
      for (const [o, n] of good) await expectRead(reader, random, o, n);
      expect(reader.stats.prefixReads).toBe(good.length);
      for (const [o, n] of bad) {
        const error = await reader.read(o, n).catch((e: unknown) => e);
        expect(isSeekdataError(error, 'CORRUPT_DATA'), `damage at ${at}, read(${o}, ${n}): ${String(error)}`).toBe(true);
        expect(String(error)).toContain(path);
      }
      await reader.close();
    }
  });

  it('a crafted sub-span size that keeps every span\'s count of sub-span CRC-32s: CORRUPT_INDEX, never reads checked against misplaced CRCs', async () => {
    const bytes = gzip(mixed, '-6');
    const path = writeFixture(fresh('subspan'), 'sub.gz', bytes);
    const reader = await indexed(path);
    const lengths = spanUnits(reader).map((u) => reader.units.dStart[u + 1] - reader.units.dStart[u]);
    await reader.close();
    // A size other than 64 KiB that gives every span the same number of sub-spans (the blob's length fits).
    let size = SUB - 1;
    while (size > SUB - 4096 && !lengths.every((n) => Math.ceil(n / size) === Math.ceil(n / SUB))) size--;
    expect(lengths.every((n) => Math.ceil(n / size) === Math.ceil(n / SUB))).toBe(true);
    const opening = await openIndexFile(`${path}.sdx`);
    if (opening.kind !== 'index') throw new Error('not an index');
    const sections = await opening.file.loadPrefix('');
    await opening.file.close();
    const facts = sections.get('units.facts') as { json: Record<string, unknown> };
    expect(facts.json.subSpan).toBe(SUB);
    facts.json.subSpan = size;
    await writeIndexFile(`${path}.sdx`, sections);
    await expect(openReader(path, { parallelism: 1, ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX', message: expect.stringContaining('do not combine') });
  });

  it('over HTTP ranges: prefix reads equal gzip -dc; after the object changes, reads fail naming the URL, never mixed bytes', async () => {
    const bytes = gzip(mixed, '-6');
    const truth = gunzipTruth(bytes);
    const server = await startRangeServer({ 'd.gz': bytes });
    try {
      const index = join(fresh('http'), 'd.sdx');
      const reader = await indexed(server.url('d.gz'), { index });
      const rand = prng(31);
      for (let i = 0; i < 25; i++) {
        const at = Math.floor(rand() * (truth.length - 800));
        await expectRead(reader, truth, at, 800);
      }
      expect(reader.stats.prefixReads).toBeGreaterThan(5);
      const changed = Buffer.from(bytes);
      changed[bytes.length >> 1] ^= 1;
      server.replace('d.gz', changed);
      for (const at of [10, truth.length >> 1, truth.length - 900]) {
        const error = await reader.read(at, 100).catch((e: unknown) => e);
        expect(error instanceof Error && error.message, String(error)).toContain(server.url('d.gz'));
      }
      await reader.close();
    } finally {
      await server.close();
    }
  });
});

/** Rewrites the index at `path` with `change` applied to its metadata (checksums made anew). */
async function rewriteMeta(path: string, change: (meta: Record<string, unknown>) => void): Promise<void> {
  const opening = await openIndexFile(path);
  if (opening.kind !== 'index') throw new Error(`${path}: expected an index, got ${opening.kind}`);
  const sections = await opening.file.loadPrefix('');
  await opening.file.close();
  change((sections.get('meta') as { json: Record<string, unknown> }).json);
  await writeIndexFile(path, new Map<string, SectionValue>([...sections]));
}

describe('index ownership under attack', () => {
  const ta = makeText(120_000, 1);
  const tb = makeText(130_000, 2);

  it('an older index naming its data by a relative name is not taken over by a file of that name in another directory', async () => {
    const a = fresh('a');
    const b = fresh('b');
    writeFileSync(join(a, 'data.gz'), gzipSync(ta));
    writeFileSync(join(b, 'data.gz'), gzipSync(tb));
    const dir = fresh('idx');
    const file = join(fresh('one'), 'one.sdx');
    const home = process.cwd();
    try {
      process.chdir(a);
      for (const index of [dir, file]) {
        const reader = await openReader('data.gz', { parallelism: 1, index });
        await reader.close();
      }
      // As an older seekdata wrote them: no owner, the source as it was given.
      const plain = join(dir, 'data.gz.sdx');
      for (const path of [plain, file]) {
        await rewriteMeta(path, (meta) => {
          delete meta.owner;
          meta.source = 'data.gz';
        });
      }
      const before = [readFileSync(plain), readFileSync(file)];
      process.chdir(b);
      const reader = await openReader('data.gz', { parallelism: 1, index: dir });
      expect(Buffer.from(await reader.read(1000, 500)).equals(tb.subarray(1000, 1500))).toBe(true);
      expect(reader.indexPath).not.toBe(plain);
      await reader.close();
      const error = await openReader('data.gz', { parallelism: 1, index: file }).catch((e: unknown) => e);
      expect(isSeekdataError(error, 'INDEX_CONFLICT'), String(error)).toBe(true);
      expect(String(error)).toContain(file);
      expect(String(error)).toContain('relative');
      expect(readFileSync(plain).equals(before[0])).toBe(true);
      expect(readFileSync(file).equals(before[1])).toBe(true);
      // Its own data, from its own directory, still reads through it (fresh: it describes these bytes).
      process.chdir(a);
      const own = await openReader('data.gz', { parallelism: 1, index: file, ifStale: 'error' });
      expect(own.indexStatus).toBe('loaded');
      await own.close();
    } finally {
      process.chdir(home);
    }
  });

  it("an index whose owner no longer exists: INDEX_CONFLICT that says so and what to do; the file untouched", async () => {
    const b = join(fresh('b'), 'b.gz');
    writeFileSync(b, gzipSync(tb));
    const a = join(fresh('a'), 'a.gz');
    writeFileSync(a, gzipSync(ta));
    const index = join(fresh('idx'), 'x.sdx');
    await (await openReader(a, { parallelism: 1, index })).close();
    const gone = join(tmp.dir, 'gone', 'a.gz');
    await rewriteMeta(index, (meta) => {
      meta.owner = gone;
    });
    const before = readFileSync(index);
    const error = await openReader(b, { parallelism: 1, index }).catch((e: unknown) => e);
    expect(isSeekdataError(error, 'INDEX_CONFLICT'), String(error)).toBe(true);
    expect(String(error)).toContain(`remove ${index}: ${gone} no longer exists`);
    expect(String(error)).toContain('`index` option');
    expect(readFileSync(index).equals(before)).toBe(true);
  });

  it('an index directory that does not exist (a name ending in /): a warning naming it, no file written by that name', async () => {
    const data = join(fresh('d'), 'd.gz');
    writeFileSync(data, gzipSync(ta));
    const missing = join(tmp.dir, `no-such-dir-${count++}`) + '/';
    const warnings: string[] = [];
    const reader = await openReader(data, { parallelism: 1, index: missing, onWarning: (w) => warnings.push(w) });
    expect(Buffer.from(await reader.read(5, 100)).equals(ta.subarray(5, 105))).toBe(true);
    await reader.close();
    expect(warnings.join('\n')).toContain(`index directory ${missing} does not exist`);
    expect(existsSync(missing)).toBe(false);
    // A file given as a directory (`file/`): not a directory, said so; the file untouched.
    const file = join(fresh('f'), 'plain.txt');
    writeFileSync(file, 'not an index');
    const more: string[] = [];
    const again = await openReader(data, { parallelism: 1, index: `${file}/`, onWarning: (w) => more.push(w) });
    await again.close();
    expect(more.join('\n')).toContain(`index directory ${file}/ cannot be used (ENOTDIR)`);
    expect(readFileSync(file, 'utf8')).toBe('not an index');
  });

  /** Two gzip data files a and b in directories of their own, a's index saved at an explicit path. */
  async function twoFilesFirstIndexed(): Promise<{ a: string; b: string; aIndex: string }> {
    const a = join(fresh('a'), 'a.gz');
    const b = join(fresh('b'), 'b.gz');
    writeFileSync(a, gzipSync(ta));
    writeFileSync(b, gzipSync(tb));
    const aIndex = join(fresh('ai'), 'a.sdx');
    await (await openReader(a, { parallelism: 1, index: aIndex })).close();
    return { a, b, aIndex };
  }

  it('an index path that is a symlink to a data file or to another data file\'s index: INDEX_CONFLICT, neither touched', async () => {
    const { a, b, aIndex } = await twoFilesFirstIndexed();
    const links = fresh('links');
    for (const target of [a, aIndex]) {
      const link = join(links, `to-${count++}.sdx`);
      symlinkSync(target, link);
      const before = readFileSync(target);
      await expect(openReader(b, { parallelism: 1, index: link })).rejects.toMatchObject({ code: 'INDEX_CONFLICT', message: expect.stringContaining(link) });
      expect(readFileSync(target).equals(before)).toBe(true);
    }
  });

  it("a symlink to another data file's index planted at the place between the check and the rename: INDEX_CONFLICT, that index untouched", async () => {
    const { b, aIndex } = await twoFilesFirstIndexed();
    const before = readFileSync(aIndex);
    const place = join(fresh('place'), 'b.sdx');
    const places = await indexPlacesFor(b, false, place, undefined, { id: b, name: b });
    if (places === undefined) throw new Error('no places');
    expect(await places.write()).toBe(place);
    const sections = new Map<string, SectionValue>([['meta', { json: { format: 'gzip', source: b, owner: b } }]]);
    const writing = writeIndexFile(place, sections, { claim: () => places.claim(place), beforeRename: () => symlinkSync(aIndex, place) });
    await expect(writing).rejects.toMatchObject({ code: 'INDEX_CONFLICT' });
    expect(readFileSync(aIndex).equals(before)).toBe(true);
    expect(readdirSync(join(place, '..')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
