/**
 * Verified prefix reads of xz blocks: the indexing pass records the CRC-32 of every 64 KiB sub-span of
 * each block it decodes, the index keeps them, and a read inside one uncached block decodes the block only
 * through the sub-span holding its last byte, checking each sub-span before handing anything out. Checked
 * against `xz -dc`'s output: reads across sub-span and block boundaries; damage before and after the bytes a
 * read needs; crafted, misshapen and missing CRC tables in the index; big blocks read in pieces (none).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { closeSharedPool, isSeekdataError, openIndexed, openReader, type SeekableReader } from '../src/index.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { SUB_SPAN_BYTES, unitSubCrcs } from '../src/readers/sub-crcs.js';
import { damageInPlace, datedFixture, makeText, prng, run, tempDir, xz } from './support/fixtures.js';
import { expectRead } from './support/gzip-fixtures.js';

const tmp = tempDir('seekdata-xzprefix-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const SUB = SUB_SPAN_BYTES;
const BLOCK = 256 << 10;
const text = makeText(1_600_000, 41);
const packed = xz(text, '-6', `--block-size=${BLOCK}`);

let fileCount = 0;
/** The fixture written with a fixed mtime, which `damageInPlace` sets again (the index stays fresh). */
function fixture(bytes: Uint8Array = packed): string {
  return datedFixture(tmp.dir, `${fileCount++}-data.csv.xz`, bytes);
}

async function open(path: string, options: Parameters<typeof openReader>[1] = {}): Promise<SeekableReader> {
  return openReader(path, { parallelism: 1, cacheBytes: 1, ...options });
}

/** Indexes `path` (records: lines), then returns a reader on it with the index loaded. */
async function indexed(path: string, options: Parameters<typeof openReader>[1] = {}): Promise<SeekableReader> {
  await (await openIndexed(path, { records: 'lines', parallelism: 2 })).close();
  const reader = await open(path, options);
  expect(reader.indexStatus).toBe('loaded');
  return reader;
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

describe('sub-span CRC-32s recorded by the indexing pass', () => {
  it('one per 64 KiB of every block, each the CRC-32 of xz -dc output there; kept by the saved index', async () => {
    const path = fixture();
    const file = await openIndexed(path, { records: 'lines', parallelism: 2 });
    const check = (reader: SeekableReader): void => {
      const units = reader.units;
      expect(units.count).toBe(Math.ceil(text.length / BLOCK));
      for (let u = 0; u < units.count; u++) {
        const sub = unitSubCrcs(units, u);
        if (sub === undefined) throw new Error(`block ${u} has no sub-span CRC-32s`);
        expect(sub.span).toBe(SUB);
        const start = units.dStart[u];
        const length = units.dStart[u + 1] - start;
        expect(sub.crcs.length).toBe(Math.ceil(length / SUB) * 4);
        const view = new DataView(sub.crcs.buffer, sub.crcs.byteOffset, sub.crcs.byteLength);
        for (let k = 0; k * SUB < length; k++) {
          expect(view.getUint32(k * 4, true)).toBe(crc32(text.subarray(start + k * SUB, start + Math.min(length, (k + 1) * SUB))));
        }
      }
    };
    check(file.reader);
    await file.close();
    const reader = await open(path);
    expect(reader.indexStatus).toBe('loaded');
    check(reader);
    await reader.close();
  });

  it('no CRC-32s for a block read in pieces (over bigUnitBytes): its pieces have theirs', async () => {
    const one = xz(text, '-6');
    const path = fixture(one);
    const options = { records: 'lines' as const, parallelism: 2, bigUnitBytes: 512 << 10, pieceBytes: 256 << 10 };
    const file = await openIndexed(path, options);
    expect(file.reader.units.count).toBe(1);
    expect(unitSubCrcs(file.reader.units, 0)).toBeUndefined();
    await file.close();
    const reader = await open(path, { bigUnitBytes: 512 << 10, pieceBytes: 256 << 10 });
    for (const at of [10, 700_000, text.length - 50]) await expectRead(reader, text, at, 40);
    expect(reader.stats.prefixReads).toBe(0);
    await reader.close();
  });
});

describe('verified prefix reads of xz blocks', () => {
  it('reads across sub-span and block boundaries equal xz -dc output; those inside one block decode a prefix', async () => {
    const reader = await indexed(fixture());
    const starts = Array.from({ length: reader.units.count }, (_, u) => reader.units.dStart[u]);
    const offsets = [0, 1, SUB - 3, SUB, 2 * SUB - 50, BLOCK - 10, BLOCK - 1, BLOCK + 5, text.length - 100, text.length - 1];
    for (const s of starts.slice(1, 4)) offsets.push(s - 30, s + SUB - 2, s + 3 * SUB + 7);
    const rand = prng(5);
    for (let i = 0; i < 30; i++) offsets.push(Math.floor(rand() * (text.length - 300)));
    for (const at of offsets) await expectRead(reader, text, at, Math.min(300, text.length - at));
    // Reads within one block that end before its last sub-span decode prefixes.
    expect(reader.stats.prefixReads).toBeGreaterThan(20);
    await reader.close();
  });

  it('a read decodes only through the sub-span of its last byte, from a part of the block\'s compressed bytes', async () => {
    const path = fixture();
    const reader = await indexed(path, { cacheBytes: 64 << 20 });
    const u = 2;
    const start = reader.units.dStart[u];
    // The bytes read from the file: a prefix read of the block's first sub-span reads well under its compressed size.
    const source = (reader as unknown as { source: { read: (o: number, n: number) => Promise<Uint8Array> } }).source;
    const read = source.read.bind(source);
    let compressed = 0;
    source.read = async (o, n) => {
      compressed += n;
      return read(o, n);
    };
    await expectRead(reader, text, start + 10, 100);
    expect(reader.stats).toMatchObject({ decodes: 1, prefixReads: 1, cacheHits: 0 });
    const blockBytes = reader.units.cEnd[u] - reader.units.cStart[u];
    expect(compressed).toBeLessThan(blockBytes * 0.5);
    // Small reads marching through the block: one whole decode, then the cache.
    for (let at = start + 1000; at < reader.units.dStart[u + 1] - 100; at += 20_000) await expectRead(reader, text, at, 100);
    expect(reader.stats.decodes).toBe(2);
    expect(reader.stats.prefixReads).toBe(1);
    await reader.close();
  });

  it('prefixReads: false, and reads at parallelism 2, give the same bytes', async () => {
    const path = fixture();
    const reader = await indexed(path, { prefixReads: false });
    await expectRead(reader, text, BLOCK + 100, 100);
    expect(reader.stats.prefixReads).toBe(0);
    await reader.close();
    const pooled = await open(path, { parallelism: 2 });
    await expectRead(pooled, text, BLOCK + 100, 100);
    const offsets = [3, 4, 5].map((k) => k * BLOCK + 77);
    const got = await Promise.all(offsets.map((o) => pooled.read(o, 50)));
    got.forEach((bytes, k) => expect(Buffer.from(bytes).equals(text.subarray(offsets[k], offsets[k] + 50))).toBe(true));
    expect(pooled.stats.prefixReads).toBeGreaterThanOrEqual(1);
    await pooled.close();
  });
});

describe('damage', () => {
  it('damage in a block: reads that need the damaged bytes are CORRUPT_DATA naming the block, never other bytes; reads of other blocks are right', async () => {
    const path = fixture();
    const reader = await indexed(path);
    const u = 3;
    const cStart = reader.units.cStart[u];
    const cEnd = reader.units.cEnd[u];
    const dStart = reader.units.dStart[u];
    await reader.close();
    // Past the block header, about a third into the block's compressed bytes.
    damageInPlace(path, Math.floor(cStart + (cEnd - cStart) / 3));
    const damaged = await open(path, { ifStale: 'error' });
    expect(damaged.indexStatus).toBe('loaded');
    for (const at of [dStart + 2 * SUB + 100, dStart + 3 * SUB - 10, dStart + BLOCK - 100]) {
      const error = await damaged.read(at, 50).catch((e: unknown) => e);
      expect(isSeekdataError(error) && error.code, String(error)).toBe('CORRUPT_DATA');
      expect(String(error)).toContain(`byte ${cStart}`);
    }
    // A read whose bytes all come before the damage may be served (verified) or refused; never wrong bytes.
    const early = await damaged.read(dStart + 10, 50).catch((e: unknown) => e);
    if (early instanceof Uint8Array) expect(Buffer.from(early).equals(text.subarray(dStart + 10, dStart + 60))).toBe(true);
    else expect(isSeekdataError(early) && early.code).toBe('CORRUPT_DATA');
    for (const v of [1, 2, 4, 5]) await expectRead(damaged, text, damaged.units.dStart[v] + 500, 100);
    await damaged.close();
  });

  it('damage liblzma decodes without an error (incompressible data, stored as is): the sub-span holding it is CORRUPT_DATA, the ones before it read back verified', async () => {
    const rand = prng(9);
    const noise = Buffer.alloc(800_000);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rand() * 256);
    const path = fixture(xz(noise, '-6', `--block-size=${BLOCK}`));
    const reader = await indexed(path);
    const u = 1;
    const [cStart, dStart] = [reader.units.cStart[u], reader.units.dStart[u]];
    await reader.close();
    // LZMA2 keeps incompressible data in stored chunks: a flipped byte there is a wrong byte, no decoder error.
    damageInPlace(path, cStart + Math.floor((reader.units.cEnd[u] - cStart) * 0.45));
    const decoded = run('xz', ['-dc', '--ignore-check'], readFileSync(path));
    let d = 0;
    while (d < noise.length && decoded[d] === noise[d]) d++;
    expect(d).toBeGreaterThan(dStart + SUB);
    expect(d).toBeLessThan(dStart + BLOCK - SUB);
    const damaged = await open(path, { ifStale: 'error' });
    const sub = Math.floor((d - dStart) / SUB);
    const subStart = dStart + sub * SUB;
    // The sub-spans before the damaged one: verified prefix reads.
    for (const at of [dStart + 5, subStart - 200]) await expectRead(damaged, noise, at, 100);
    expect(damaged.stats.prefixReads).toBe(2);
    // Any read ending in the damaged sub-span or past it: CORRUPT_DATA, never the flipped byte.
    for (const at of [subStart + 1, d - 1, d, subStart - 50]) {
      const error = await damaged.read(at, 100).catch((e: unknown) => e);
      expect(isSeekdataError(error) && error.code, `read(${at}): ${String(error)}`).toBe('CORRUPT_DATA');
    }
    await damaged.close();
  });

  it('a crafted sub-span CRC-32: the read falls back to the whole block, whose own check passes it — the right bytes', async () => {
    const path = fixture();
    const reader = await indexed(path);
    const start = reader.units.dStart[2];
    await reader.close();
    await rewriteIndex(path, (sections) => {
      const blob = sections.get('units.blob.subCrc') as Uint8Array;
      const at = (sections.get('units.blobAt.subCrc') as Float64Array)[2];
      blob[at] ^= 0xff;
    });
    const crafted = await open(path, { ifStale: 'error' });
    await expectRead(crafted, text, start + 10, 100);
    expect(crafted.stats.prefixReads).toBe(0);
    // The other blocks still read by prefix.
    await expectRead(crafted, text, crafted.units.dStart[4] + 10, 100);
    expect(crafted.stats.prefixReads).toBe(1);
    await crafted.close();
  });

  it('a CRC table of the wrong shape, or a sub-span size out of bounds, is CORRUPT_INDEX', async () => {
    for (const change of [
      (sections: Map<string, SectionValue>) => {
        // Block 1 loses one CRC-32 (block 2 gains it: the offsets still ascend).
        (sections.get('units.blobAt.subCrc') as Float64Array)[2] -= 4;
      },
      (sections: Map<string, SectionValue>) => {
        (sections.get('units.facts') as { json: Record<string, unknown> }).json.subSpan = 100;
      },
      (sections: Map<string, SectionValue>) => {
        sections.delete('units.facts');
      },
    ]) {
      const path = fixture();
      await (await indexed(path)).close();
      await rewriteIndex(path, change);
      await expect(openIndexed(path, { records: 'lines', ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
      // Without ifStale: 'error', the index is rebuilt and reads are right.
      const file = await openIndexed(path, { records: 'lines', onWarning: () => undefined });
      await expectRead(file.reader, text, BLOCK * 2 + 5, 100);
      await file.close();
    }
  });

  it('an index without CRC-32s (an older one) reads whole blocks', async () => {
    const path = fixture();
    await (await indexed(path)).close();
    await rewriteIndex(path, (sections) => {
      sections.delete('units.blob.subCrc');
      sections.delete('units.blobAt.subCrc');
      sections.delete('units.facts');
    });
    const reader = await open(path, { ifStale: 'error' });
    expect(reader.indexStatus).toBe('loaded');
    expect(unitSubCrcs(reader.units, 1)).toBeUndefined();
    await expectRead(reader, text, BLOCK + 10, 100);
    expect(reader.stats).toMatchObject({ decodes: 1, prefixReads: 0 });
    await reader.close();
  });
});

describe('info', () => {
  it('prefixUnits counts the blocks with sub-span CRC-32s; the CLI says what a read costs', async () => {
    const path = fixture();
    const before = await open(path);
    expect(before.info().prefixUnits).toBe(0);
    await before.close();
    const reader = await indexed(path);
    expect(reader.info().prefixUnits).toBe(reader.units.count);
    await reader.close();
    const { randomReadCost } = await import('../src/cli/commands/reader-commands.js');
    const withCrcs = await open(path);
    expect(randomReadCost(before.info())).toMatch(/seekdata index FILE --records csv/);
    expect(randomReadCost(withCrcs.info())).toMatch(/decodes one unit .* and verifies it; a read inside one unit decodes only its start through the 64 KiB sub-span/);
    await withCrcs.close();
  });
});

describe('records', () => {
  it('getMany of records that end inside one block decodes a verified prefix of it; one running past the block takes the whole block', async () => {
    const path = fixture();
    const file = await openIndexed(path, { records: 'lines', parallelism: 2, cacheBytes: 1 });
    const lines = text.toString('latin1').split('\n');
    const truthOf = (i: number): string => Buffer.from(lines[i], 'latin1').toString('latin1');
    const reader = file.reader;
    const u = 3;
    // Records starting early in block 3: they end well before its last sub-span.
    const startsIn = (i: number): number => reader.chunkIndexAt(file.records.span(i).start);
    let a = 0;
    while (startsIn(a) < u) a++;
    const wanted = [a + 2, a + 5, a + 9];
    const before = reader.stats.prefixReads;
    const got = await file.records.getMany(wanted);
    expect(got.map((b) => Buffer.from(b).toString('latin1'))).toEqual(wanted.map(truthOf));
    expect(reader.stats.prefixReads).toBe(before + 1);
    // The block's last record runs into the next block: the whole chunk (and its tail).
    let z = a;
    while (startsIn(z + 1) === u) z++;
    const last = await file.records.getMany([a + 1, z]);
    expect(last.map((b) => Buffer.from(b).toString('latin1'))).toEqual([a + 1, z].map(truthOf));
    expect(reader.stats.prefixReads).toBe(before + 1);
    await file.close();
  });
});

describe('bombs', () => {
  it('a prefix read into a block of zeros decodes about the bytes it needs, not the block', async () => {
    const rand = prng(13);
    const head = Buffer.alloc(256 << 10);
    for (let i = 0; i < head.length; i++) head[i] = rand() < 0.02 ? 0x0a : 0x41 + Math.floor(rand() * 26);
    const bytes = Buffer.concat([head, Buffer.from('\n'), Buffer.alloc(40 << 20)]);
    const path = fixture(xz(bytes, '-1', '--block-size=64MiB'));
    await (await openIndexed(path, { records: 'lines', parallelism: 1 })).close();
    const { LiblzmaBlockDecoder } = await import('../src/readers/xz/liblzma-stream.js');
    const feed = LiblzmaBlockDecoder.prototype.feed;
    let most = 0;
    LiblzmaBlockDecoder.prototype.feed = function (this: InstanceType<typeof LiblzmaBlockDecoder>, slice: Uint8Array, until?: number) {
      const out = feed.call(this, slice, until);
      most = Math.max(most, this.produced);
      return out;
    };
    try {
      const reader = await open(path, { parallelism: 1 });
      const at = head.length + 10;
      expect(Buffer.from(await reader.read(at, 1))[0]).toBe(0);
      expect(reader.stats.prefixReads).toBe(1);
      // The engine streams prefixes where node-liblzma loads (else lzma-native does, unseen here).
      if (most > 0) expect(most).toBeLessThan(4 << 20);
      await reader.close();
    } finally {
      LiblzmaBlockDecoder.prototype.feed = feed;
    }
  });
});
