/**
 * Attacks on verified xz prefix reads (the indexing pass records the CRC-32 of every 64 KiB sub-span of each
 * block it decodes whole; a read inside one uncached block decodes it only through the sub-span of its last
 * byte and checks each sub-span). Truth: `xz -dc` / `pixz -d` output of the same file, and the bytes the
 * fixture was made from. Every read must be those bytes or a typed SeekdataError naming the file.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { closeSharedPool, isSeekdataError, openCollection, openIndexed, openReader, type SeekableReader } from '../src/index.js';
import { writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { SUB_SPAN_BYTES, unitSubCrcs } from '../src/readers/sub-crcs.js';
import { LiblzmaBlockDecoder } from '../src/readers/xz/liblzma-stream.js';
import { XzBlockDecoder } from '../src/readers/xz/block.js';
import { prng, run, startRangeServer, tempDir, useCacheDir, writeFixture, xz } from './support/fixtures.js';

/** Set: the calling thread streams prefixes with lzma-native (as where node-liblzma is not the decoder). */
const streaming = vi.hoisted(() => ({ lzmaNative: false }));
vi.mock('../src/readers/xz/napi.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/readers/xz/napi.js')>();
  return { ...real, xzStreamingEngine: () => (streaming.lzmaNative ? undefined : real.xzStreamingEngine()) };
});

const tmp = tempDir('seekdata-hostile33-');
useCacheDir(join(tmp.dir, 'cache'));
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const SUB = SUB_SPAN_BYTES;
const WHEN = new Date('2025-01-01T00:00:00Z');
type Options = Parameters<typeof openReader>[1];

/** CSV-like lines: compressible, so LZMA2 writes compressed chunks. */
function csvText(bytes: number, seed: number): Buffer {
  const rand = prng(seed);
  const parts: string[] = ['id,name,value\n'];
  let length = parts[0].length;
  for (let i = 0; length < bytes; i++) {
    const line = `${i},n${Math.floor(rand() * 1e6)},${(rand() * 1000).toFixed(3)}\n`;
    parts.push(line);
    length += line.length;
  }
  const text = Buffer.from(parts.join(''));
  return text.subarray(0, text.lastIndexOf(10, bytes) + 1);
}

/** Random bytes with a newline now and then: incompressible, so LZMA2 stores them as they are. */
function noise(bytes: number, seed: number): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Math.floor(rand() * 256);
  for (let i = 999; i < bytes; i += 1000) out[i] = 10;
  out[bytes - 1] = 10;
  return out;
}

let fileCount = 0;
function fixture(bytes: Uint8Array, name = 'data.csv.xz'): string {
  const path = writeFixture(tmp.dir, `${fileCount++}-${name}`, bytes);
  utimesSync(path, WHEN, WHEN);
  return path;
}

/** Flips bits of one byte, keeping the size and mtime (the index stays fresh). */
function damageInPlace(path: string, at: number, mask = 0x55): void {
  const bytes = readFileSync(path);
  bytes[at] ^= mask;
  writeFileSync(path, bytes);
  utimesSync(path, WHEN, WHEN);
}

async function buildIndex(path: string, options: Parameters<typeof openIndexed>[1] = {}): Promise<void> {
  await (await openIndexed(path, { records: 'lines', parallelism: 1, onWarning: () => undefined, ...options })).close();
}

async function reopen(path: string, options: Options = {}): Promise<SeekableReader> {
  const reader = await openReader(path, { parallelism: 1, cacheBytes: 1, ifStale: 'error', onWarning: () => undefined, ...options });
  expect(reader.indexStatus).toBe('loaded');
  return reader;
}

/** The read's bytes equal the truth's. */
async function same(reader: SeekableReader, truth: Uint8Array, offset: number, length: number): Promise<void> {
  const got = await reader.read(offset, length);
  expect(Buffer.compare(Buffer.from(got), truth.subarray(offset, offset + length)), `read(${offset}, ${length})`).toBe(0);
}

/** The read's bytes equal the truth's, or it fails with `code` naming the file; which one it was. */
async function rightOrError(reader: SeekableReader, truth: Uint8Array, offset: number, length: number, code = 'CORRUPT_DATA'): Promise<'bytes' | 'error'> {
  const got = await reader.read(offset, length).catch((e: unknown) => e);
  if (got instanceof Uint8Array) {
    expect(Buffer.compare(Buffer.from(got), truth.subarray(offset, offset + length)), `read(${offset}, ${length})`).toBe(0);
    return 'bytes';
  }
  expect(isSeekdataError(got) && got.code, `read(${offset}, ${length}): ${String(got)}`).toBe(code);
  expect(String(got)).toContain(reader.name);
  return 'error';
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
}

/** Rewrites the index beside `path` with `change` applied to its sections (checksums made anew). */
async function rewriteIndex(path: string, change: (sections: Map<string, SectionValue>) => void): Promise<void> {
  const opening = await openIndexFile(`${path}.sdx`);
  if (opening.kind !== 'index') throw new Error('not an index');
  const sections = await opening.file.loadPrefix('');
  await opening.file.close();
  change(sections);
  await writeIndexFile(`${path}.sdx`, sections);
}

/**
 * xz --check=none: the sub-span CRC-32s are the only check. Damage after indexing where liblzma sees nothing
 * (a flip in a stored LZMA2 chunk) must be CORRUPT_DATA by a prefix read, a whole-block read and stream().
 */
async function checkNoneDamage(): Promise<void> {
  const data = noise(800_000, 9);
  const BLOCK = 256 << 10;
  const path = fixture(xz(data, '-6', '--check=none', `--block-size=${BLOCK}`));
  await buildIndex(path);
  const probe = await reopen(path);
  const u = 1;
  const [cStart, cEnd, dStart] = [probe.units.cStart[u], probe.units.cEnd[u], probe.units.dStart[u]];
  await probe.close();
  // A stored LZMA2 chunk (incompressible bytes): the flip is a wrong byte, no decoder error, and no block check.
  damageInPlace(path, cStart + Math.floor((cEnd - cStart) * 0.45));
  const decoded = run('xz', ['-dc'], readFileSync(path));
  let d = 0;
  while (d < data.length && decoded[d] === data[d]) d++;
  expect(d).toBeGreaterThan(dStart + SUB);
  expect(d).toBeLessThan(dStart + BLOCK - SUB);

  const reader = await reopen(path);
  // Before the damaged sub-span: verified prefix reads.
  await same(reader, data, dStart + 5, 100);
  expect(reader.stats.prefixReads).toBe(1);
  // Through the damaged byte: a prefix read (its sub-span fails), then a whole-block read (the read's last byte
  // in the block's last sub-span), then a read across two blocks.
  for (const [at, n] of [
    [d - 10, 20],
    [dStart + BLOCK - 100, 50],
    [d - 10, BLOCK],
  ]) {
    const error = await rejection(reader.read(at, n));
    expect(isSeekdataError(error) && error.code, `read(${at}, ${n}): ${String(error)}`).toBe('CORRUPT_DATA');
    expect(String(error)).toContain(path);
  }
  // Other blocks are intact.
  await same(reader, data, 10, 100);
  await same(reader, data, reader.units.dStart[2] + 10, 100);
  await reader.close();

  const cached = await reopen(path, { cacheBytes: 64 << 20, parallelism: 2 });
  for (let k = 0; k < 2; k++) expect(await rejection(cached.read(d - 1, 2))).toMatchObject({ code: 'CORRUPT_DATA' });
  const streamed = await rejection(
    (async () => {
      for await (const chunk of cached.stream()) void chunk;
    })(),
  );
  expect(streamed).toMatchObject({ code: 'CORRUPT_DATA' });
  await cached.close();
}

describe('xz --check=none: the sub-span CRC-32s are the only check', () => {
  it('damage after indexing where liblzma sees nothing is CORRUPT_DATA, by a prefix read, a whole-block read and stream(); never the flipped byte', checkNoneDamage);
});

describe('every read equals xz -dc output', () => {
  const data = csvText(700_000, 3);
  const half = data.lastIndexOf(10, 350_000) + 1;
  const empty = xz(new Uint8Array(0));
  const variants: Array<[string, () => Buffer]> = [
    ['64 KiB blocks', () => xz(data, '-1', '--block-size=65536')],
    ['64 KiB + 1 blocks', () => xz(data, '-1', '--block-size=65537')],
    ['128 KiB blocks', () => xz(data, '-1', '--block-size=131072')],
    ['100000-byte blocks, xz -T2', () => xz(data, '-1', '-T2', '--block-size=100000')],
    ['pixz', () => run('pixz', ['-1'], data)],
    ['SHA-256, x86 BCJ filter', () => xz(data, '-1', '--check=sha256', '--x86', '--lzma2=preset=1', '--block-size=200000')],
    ['a block list with a 1-byte block and an exact 64 KiB one', () => xz(data, '-1', '--block-list=70000,1,65536,131072,4096,0')],
    [
      'two streams with padding and empty streams between them',
      () => Buffer.concat([empty, xz(data.subarray(0, half), '-1', '--block-size=150000'), Buffer.alloc(8), empty, xz(data.subarray(half), '-1', '--check=crc32', '--block-size=90000'), empty]),
    ],
  ];
  for (const [name, make] of variants) it(name, () => everyRead(data, make()));
});

/** Reads at every sub-span edge, in and across every block, 50 at once and between a stream's chunks: `xz -dc`'s bytes. */
async function everyRead(data: Buffer, packed: Buffer): Promise<void> {
  const truth = run('xz', ['-dc'], packed);
  expect(truth.equals(data)).toBe(true);
  const path = fixture(packed);
  await buildIndex(path, { parallelism: 2 });
  const reader = await reopen(path);
  const units = reader.units;
  let withCrcs = 0;
  for (let u = 0; u < units.count; u++) if (unitSubCrcs(units, u) !== undefined) withCrcs++;
  expect(withCrcs).toBe(units.count);
  const reads: Array<[number, number]> = [
    [0, 0],
    [data.length, 0],
    [data.length - 1, 1],
  ];
  for (let at = SUB; at < data.length; at += SUB) reads.push([at - 1, 1], [at, 1], [at + 1, 1], [at - 1, 2]);
  for (let u = 0; u < units.count; u++) {
    const [s, e] = [units.dStart[u], units.dStart[u + 1]];
    for (const at of [s, s + SUB - 1, s + SUB, s + 2 * SUB + 1, e - 1]) if (at >= s && at < e) reads.push([at, 1], [at, Math.min(e - at, 333)]);
    if (e < data.length) reads.push([e - 5, 10]);
  }
  for (const [at, n] of reads) await same(reader, data, at, n);
  // Each block over one sub-span served its first-byte read by a prefix; one of a single sub-span never is.
  let multi = 0;
  for (let u = 0; u < units.count; u++) if (units.dStart[u + 1] - units.dStart[u] > SUB) multi++;
  if (multi === 0) expect(reader.stats.prefixReads).toBe(0);
  else expect(reader.stats.prefixReads).toBeGreaterThanOrEqual(multi);
  await reader.close();

  // Parallelism 2 with a cache: 50 reads at once, and reads between the chunks of a stream.
  const pooled = await reopen(path, { parallelism: 2, cacheBytes: 64 << 20 });
  const rand = prng(7);
  const many = Array.from({ length: 50 }, () => [Math.floor(rand() * (data.length - 2000)), 1 + Math.floor(rand() * 1999)] as const);
  const got = await Promise.all(many.map(([at, n]) => pooled.read(at, n)));
  got.forEach((bytes, k) => expect(Buffer.from(bytes).equals(data.subarray(many[k][0], many[k][0] + many[k][1]))).toBe(true));
  const parts: Buffer[] = [];
  for await (const chunk of pooled.stream()) {
    parts.push(Buffer.from(chunk));
    await same(pooled, data, Math.floor(rand() * (data.length - 100)), 100);
  }
  expect(Buffer.concat(parts).equals(data)).toBe(true);
  await pooled.close();
}

describe('lzma-native streaming the prefixes (SEEKDATA_XZ_DECODER=lzma-native, or no node-liblzma)', () => {
  afterEach(() => {
    streaming.lzmaNative = false;
  });
  /** Counts lzma-native's feeds while `run` runs, with lzma-native as the calling thread's streaming decoder. */
  async function withLzmaNative(run: () => Promise<void>): Promise<number> {
    streaming.lzmaNative = true;
    const feed = XzBlockDecoder.prototype.feed;
    let feeds = 0;
    XzBlockDecoder.prototype.feed = function (this: XzBlockDecoder, slice: Uint8Array) {
      feeds++;
      return feed.call(this, slice);
    };
    try {
      await run();
    } finally {
      XzBlockDecoder.prototype.feed = feed;
    }
    return feeds;
  }
  it('every read equals xz -dc output (SHA-256, x86 filter, a 1-byte block)', async () => {
    const data = csvText(500_000, 5);
    expect(await withLzmaNative(() => everyRead(data, xz(data, '-1', '--check=sha256', '--x86', '--lzma2=preset=1', '--block-list=70000,1,65536,131072,0')))).toBeGreaterThan(10);
  });
  it('--check=none damage is CORRUPT_DATA', async () => {
    expect(await withLzmaNative(checkNoneDamage)).toBeGreaterThan(0);
  });
});

describe('damage after indexing (size and mtime kept: the index stays fresh)', () => {
  const data = csvText(900_000, 11);
  const BLOCK = 256 << 10;
  const packed = xz(data, '-6', '--check=crc64', `--block-size=${BLOCK}`);

  /** Indexes a fresh copy, damages block 1 at `where(cStart, cEnd)`, and returns a reader and block 1's places. */
  async function damaged(where: (cStart: number, cEnd: number) => number, options: Options = {}): Promise<{ reader: SeekableReader; s: number; e: number }> {
    const path = fixture(packed);
    await buildIndex(path);
    const probe = await reopen(path);
    const [cStart, cEnd, s, e] = [probe.units.cStart[1], probe.units.cEnd[1], probe.units.dStart[1], probe.units.dStart[2]];
    await probe.close();
    damageInPlace(path, where(cStart, cEnd));
    return { reader: await reopen(path, options), s, e };
  }

  it('in the block header: every read of the block is CORRUPT_DATA naming it; the other blocks read right', async () => {
    const { reader, s, e } = await damaged((cStart) => cStart + 3);
    for (const at of [s, s + 10, s + SUB + 1, e - 1]) expect(await rightOrError(reader, data, at, 1)).toBe('error');
    for (const at of [0, s - 100, e, e + SUB + 7]) await same(reader, data, at, 50);
    expect(reader.stats.prefixReads).toBeGreaterThan(0);
    await reader.close();
  });

  it('in the block check: prefix reads are verified by their CRC-32s; a read that needs the whole block is CORRUPT_DATA', async () => {
    const { reader, s, e } = await damaged((_, cEnd) => cEnd - 2);
    await same(reader, data, s + 10, 100);
    await same(reader, data, s + 2 * SUB + 5, 100);
    expect(reader.stats.prefixReads).toBe(2);
    expect(await rightOrError(reader, data, e - 10, 5)).toBe('error');
    expect(await rightOrError(reader, data, e - 10, 20)).toBe('error');
    await same(reader, data, e + 10, 100);
    await reader.close();
  });

  it('anywhere in the compressed data (every 997th byte): never a wrong byte, with either a tiny or a large cache', async () => {
    const path = fixture(packed);
    await buildIndex(path);
    const probe = await reopen(path);
    const [cStart, cEnd, s, e] = [probe.units.cStart[1], probe.units.cEnd[1], probe.units.dStart[1], probe.units.dStart[2]];
    await probe.close();
    const original = readFileSync(path);
    let errors = 0;
    for (let at = cStart + 20; at < cEnd - 10; at += 997 * 7) {
      writeFileSync(path, original);
      damageInPlace(path, at, 0x10);
      for (const cacheBytes of [1, 64 << 20]) {
        const reader = await reopen(path, { cacheBytes });
        for (const offset of [s + 7, s + SUB - 3, s + 2 * SUB + 100, s + 3 * SUB + 1, e - 2]) if ((await rightOrError(reader, data, offset, 2)) === 'error') errors++;
        await same(reader, data, e + 3, 10);
        await reader.close();
      }
    }
    expect(errors).toBeGreaterThan(10);
  });

  it('the file cut short while a reader has it open: TRUNCATED naming the file, never a hang', async () => {
    const path = fixture(packed);
    await buildIndex(path);
    const reader = await reopen(path);
    const last = reader.units.count - 1;
    const [cStart, s] = [reader.units.cStart[last], reader.units.dStart[last]];
    writeFileSync(path, readFileSync(path).subarray(0, cStart + 100));
    const error = await rejection(reader.read(s + SUB + 5, 10));
    expect(isSeekdataError(error) && error.code, String(error)).toBe('TRUNCATED');
    expect(String(error)).toContain(path);
    await reader.close();
  });
});

describe('crafted index files: CORRUPT_INDEX, or the right bytes', () => {
  const data = csvText(900_000, 13);
  // Blocks of 300000, 60000, 100000, 300000 and the rest: with bigUnitBytes 200000 the 300000-byte ones are read in pieces.
  const packed = xz(data, '-1', '--block-list=300000,60000,100000,300000,0');
  const pieces = { bigUnitBytes: 200_000, pieceBytes: 100_000 };

  async function indexedCopy(options: Options = {}): Promise<string> {
    const path = fixture(packed);
    await buildIndex(path, options);
    return path;
  }

  /** Reads at every sub-span edge and in every block; the right bytes each time. */
  async function readAll(reader: SeekableReader): Promise<void> {
    for (let at = SUB; at < data.length; at += SUB) await same(reader, data, at - 2, 3);
    for (let u = 0; u < reader.units.count; u++) await same(reader, data, reader.units.dStart[u] + 3, 20);
  }

  it('CRC-32s only for the blocks the pass decoded whole: not for those read in pieces', async () => {
    const path = await indexedCopy(pieces);
    const reader = await reopen(path, pieces);
    const lengths = Array.from({ length: reader.units.count }, (_, u) => reader.units.dStart[u + 1] - reader.units.dStart[u]);
    expect(lengths.slice(0, 4)).toEqual([300_000, 60_000, 100_000, 300_000]);
    for (let u = 0; u < lengths.length; u++) expect(unitSubCrcs(reader.units, u) !== undefined, `block ${u}`).toBe(lengths[u] <= pieces.bigUnitBytes);
    await readAll(reader);
    await reader.close();
  });

  it('CRC-32s given to the blocks read in pieces, swapped between blocks, or kept for one block only', async () => {
    const path = await indexedCopy();
    const blocks = (sections: Map<string, SectionValue>): { blob: Uint8Array; at: Float64Array } => ({
      blob: sections.get('units.blob.subCrc') as Uint8Array,
      at: sections.get('units.blobAt.subCrc') as Float64Array,
    });
    // Blocks 0 and 3 are the same length: swap their CRC-32s.
    await rewriteIndex(path, (sections) => {
      const { blob, at } = blocks(sections);
      const zero = blob.slice(at[0], at[1]);
      blob.set(blob.subarray(at[3], at[4]), at[0]);
      blob.set(zero, at[3]);
    });
    let reader = await reopen(path);
    await readAll(reader);
    await reader.close();
    // Block 2's only.
    await rewriteIndex(path, (sections) => {
      const { blob, at } = blocks(sections);
      const offsets = new Float64Array(at.length);
      for (let u = 3; u < at.length; u++) offsets[u] = at[3] - at[2];
      sections.set('units.blob.subCrc', blob.slice(at[2], at[3]));
      sections.set('units.blobAt.subCrc', offsets);
    });
    reader = await reopen(path);
    expect(unitSubCrcs(reader.units, 0)).toBeUndefined();
    await readAll(reader);
    expect(reader.stats.prefixReads).toBeGreaterThan(0);
    await reader.close();
    // The index of a pass that read blocks 0 and 3 in pieces, given (right) CRC-32s for them: still read in pieces.
    const big = await indexedCopy(pieces);
    const whole = await indexedCopy();
    const opening = await openIndexFile(`${whole}.sdx`);
    if (opening.kind !== 'index') throw new Error('not an index');
    const all = await opening.file.loadPrefix('');
    await opening.file.close();
    await rewriteIndex(big, (sections) => {
      for (const name of ['units.blob.subCrc', 'units.blobAt.subCrc', 'units.facts']) sections.set(name, all.get(name) as SectionValue);
    });
    reader = await reopen(big, pieces);
    await readAll(reader);
    await reader.close();
  });

  it('a sub-span size that keeps every block\'s count (65537), and sizes out of bounds', async () => {
    for (const subSpan of [65_537, 4096 * 16, 1 << 30, 4095, -65536, 1.5, '65536', null, 2 ** 53]) {
      const path = await indexedCopy();
      await rewriteIndex(path, (sections) => {
        (sections.get('units.facts') as { json: Record<string, unknown> }).json.subSpan = subSpan;
      });
      const opened = await openReader(path, { parallelism: 1, cacheBytes: 1, ifStale: 'error' }).catch((e: unknown) => e);
      if (opened instanceof Error) {
        expect(opened, `subSpan ${String(subSpan)}`).toMatchObject({ code: 'CORRUPT_INDEX' });
        expect(String(opened)).toContain(path);
        // Rebuilt when ifStale allows.
        const rebuilt = await openIndexed(path, { records: 'lines', parallelism: 1, onWarning: () => undefined });
        await readAll(rebuilt.reader);
        await rebuilt.close();
      } else {
        const reader = opened as SeekableReader;
        await readAll(reader);
        await reader.close();
      }
    }
  });
});

describe('over HTTP ranges', () => {
  it('prefix reads equal xz -dc; after the object changes, reads fail naming the URL, never mixed bytes', async () => {
    const data = csvText(700_000, 17);
    const packed = xz(data, '-6', '--block-size=262144');
    const server = await startRangeServer({ 'd.csv.xz': packed });
    try {
      const url = server.url('d.csv.xz');
      const file = await openIndexed(url, { records: 'lines', parallelism: 1, index: false, cacheBytes: 1 });
      const reader = file.reader;
      expect(unitSubCrcs(reader.units, 1)).toBeDefined();
      const rand = prng(31);
      for (let i = 0; i < 20; i++) await same(reader, data, Math.floor(rand() * (data.length - 500)), 500);
      expect(reader.stats.prefixReads).toBeGreaterThan(5);
      const changed = Buffer.from(packed);
      changed[packed.length >> 1] ^= 1;
      server.replace('d.csv.xz', changed);
      for (const at of [10, data.length >> 1, reader.units.dStart[2] + SUB + 3]) {
        const error = await rejection(reader.read(at, 100));
        expect(isSeekdataError(error), String(error)).toBe(true);
        expect(String(error)).toContain(url);
      }
      await file.close();
    } finally {
      await server.close();
    }
  });
});

describe('the indexing pass', () => {
  const BLOCK = 200_000;

  /** Each block's CRC-32s, each the CRC-32 of the truth's bytes there. */
  function expectCrcs(reader: SeekableReader, truth: Uint8Array): void {
    const units = reader.units;
    for (let u = 0; u < units.count; u++) {
      const sub = unitSubCrcs(units, u);
      if (sub === undefined) throw new Error(`${reader.name}: block ${u} has no sub-span CRC-32s`);
      const [s, e] = [units.dStart[u], units.dStart[u + 1]];
      const view = new DataView(sub.crcs.buffer, sub.crcs.byteOffset, sub.crcs.byteLength);
      for (let k = 0; s + k * SUB < e; k++) expect(view.getUint32(4 * k, true), `block ${u} sub-span ${k}`).toBe(crc32(truth.subarray(s + k * SUB, Math.min(e, s + (k + 1) * SUB))));
    }
  }

  it('index: false, stats: false, CSV, JSONL and records: lines all record right CRC-32s, and prefix reads use them', async () => {
    const csv = csvText(600_000, 21);
    const jsonl = Buffer.from(csvText(600_000, 22).toString().split('\n').filter((l) => l !== '').map((l) => JSON.stringify({ l })).join('\n') + '\n');
    for (const [truth, options] of [
      [csv, { records: 'csv', index: false }],
      [csv, { records: 'csv', stats: false }],
      [jsonl, { records: 'jsonl' }],
      [csv, { records: 'lines', parallelism: 2 }],
    ] as const) {
      const path = fixture(xz(truth, '-1', `--block-size=${BLOCK}`));
      const file = await openIndexed(path, { parallelism: 1, cacheBytes: 1, ...options });
      expectCrcs(file.reader, truth);
      const before = file.reader.stats.prefixReads;
      await same(file.reader, truth, file.reader.units.dStart[1] + 7, 100);
      expect(file.reader.stats.prefixReads).toBe(before + 1);
      await file.close();
    }
  });

  it('rebuild: true over an index with CRC-32s of other bytes writes the right ones', async () => {
    const truth = csvText(600_000, 23);
    const path = fixture(xz(truth, '-1', `--block-size=${BLOCK}`));
    await buildIndex(path);
    await rewriteIndex(path, (sections) => (sections.get('units.blob.subCrc') as Uint8Array).fill(0xab));
    const rebuilt = await openIndexed(path, { records: 'lines', parallelism: 1, rebuild: true });
    expectCrcs(rebuilt.reader, truth);
    await rebuilt.close();
    const reader = await reopen(path);
    expectCrcs(reader, truth);
    await same(reader, truth, BLOCK + SUB + 3, 10);
    expect(reader.stats.prefixReads).toBe(1);
    await reader.close();
  });

  it('a collection of xz files: each file\'s blocks have their own file\'s CRC-32s', async () => {
    const dir = join(tmp.dir, 'collection');
    mkdirSync(dir);
    const truths = [csvText(400_000, 31), csvText(500_000, 32)];
    truths.forEach((truth, k) => writeFixture(dir, `part-${k}.csv.xz`, xz(truth, '-1', `--block-size=${BLOCK}`)));
    const collection = await openCollection(join(dir, 'part-*.csv.xz'), { records: 'csv', parallelism: 1, cacheBytes: 1 });
    try {
      expect(collection.files.length).toBe(2);
      collection.files.forEach((file, k) => expectCrcs(file.reader, truths[k]));
      for (const [k, file] of collection.files.entries()) await same(file.reader, truths[k], BLOCK + 11, 50);
      expect(collection.files.map((file) => file.reader.stats.prefixReads)).toEqual([1, 1]);
    } finally {
      await collection.close();
    }
  });
});

describe('a bomb: a block of 1 MiB of noise then 40 MiB of zeros', () => {
  it('a prefix read decodes no more than the block records, and reads right', async () => {
    const head = noise(1 << 20, 41);
    const zeros = Buffer.alloc(40 << 20);
    for (let i = 1 << 19; i < zeros.length; i += 1 << 20) zeros[i] = 10;
    const truth = Buffer.concat([head, zeros]);
    const path = fixture(xz(truth, '-1', `--block-size=${truth.length}`));
    const options = { bigUnitBytes: 1 << 30, inlineDecodeBytes: 1 << 30 };
    await buildIndex(path, options);
    const reader = await reopen(path, options);
    expect(reader.units.count).toBe(1);
    // The most any decoder of a prefix has produced.
    let produced = 0;
    const restore: Array<() => void> = [];
    for (const decoder of [LiblzmaBlockDecoder, XzBlockDecoder]) {
      const feed = decoder.prototype.feed;
      decoder.prototype.feed = function (this: { produced: number }, slice: Uint8Array) {
        const out = feed.call(this, slice);
        produced = Math.max(produced, this.produced);
        return out;
      };
      restore.push(() => (decoder.prototype.feed = feed));
    }
    try {
      for (const at of [1, (1 << 20) - 5, (1 << 20) + 5, 20 << 20]) {
        produced = 0;
        await same(reader, truth, at, 1);
        expect(produced).toBeLessThanOrEqual(truth.length);
      }
      expect(reader.stats.prefixReads).toBe(4);
    } finally {
      for (const undo of restore) undo();
    }
    await reader.close();
    // In a pool (parallelism 2) with the default inlineDecodeBytes (2 MiB), a block this size is decoded whole, never by prefix.
    const plain = await reopen(path, { bigUnitBytes: 1 << 30, parallelism: 2 });
    await same(plain, truth, 20 << 20, 1);
    expect(plain.stats.prefixReads).toBe(0);
    await plain.close();
  });
});
