/**
 * Reads inside one BGZF run decode only the blocks that hold them: a BGZF block is a whole gzip member with
 * its own CRC-32 and ISIZE, so each block decoded is verified on its own (as htslib's bgzf_read reads one
 * block). Checked against the plain bytes: reads inside one block, across blocks and runs, at the end; damage
 * in another block of the run does not touch a read (its whole-run decode would fail), damage in the block
 * read is CORRUPT_DATA naming it; a chunk map that disagrees with the run's blocks falls back to the whole run.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, isSeekdataError, openReader, type SeekableReader } from '../src/index.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { writeIndexFile } from '../src/index/index-file.js';
import { bgzfBlocksPart } from '../src/readers/gzip/bgzf.js';
import { damageInPlace, datedFixture, makeText, prng, tempDir } from './support/fixtures.js';
import { bgzip, expectRead } from './support/gzip-fixtures.js';

const tmp = tempDir('seekdata-bgzf-blocks-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const text = makeText(3_000_000, 77);
const packed = bgzip(text);
let fileCount = 0;
const fixture = (): string => datedFixture(tmp.dir, `${fileCount++}-data.csv.gz`, packed);

async function open(path: string, options: Parameters<typeof openReader>[1] = {}): Promise<SeekableReader> {
  return openReader(path, { parallelism: 1, cacheBytes: 1, ...options });
}

/** The BGZF blocks of the file: compressed start, size and decoded start of each (from the headers and trailers). */
function blocksOf(bytes: Buffer): Array<{ at: number; size: number; dStart: number; isize: number }> {
  const out: Array<{ at: number; size: number; dStart: number; isize: number }> = [];
  let d = 0;
  for (let at = 0; at < bytes.length; ) {
    const size = bytes.readUInt16LE(at + 16) + 1;
    const isize = bytes.readUInt32LE(at + size - 4);
    out.push({ at, size, dStart: d, isize });
    d += isize;
    at += size;
  }
  return out;
}

describe('BGZF block reads', () => {
  it('reads inside a block, across blocks and across runs equal the truth; each inside one run decodes its blocks only', async () => {
    const reader = await open(fixture());
    expect(reader.units.count).toBeGreaterThan(2);
    const blocks = blocksOf(packed).filter((b) => b.isize > 0);
    const offsets = [0, 5, text.length - 100, text.length - 1];
    for (const b of blocks.slice(1, 40)) offsets.push(b.dStart - 50, b.dStart, b.dStart + b.isize - 1);
    for (let u = 1; u < reader.units.count; u++) offsets.push(reader.units.dStart[u] - 30);
    const rand = prng(3);
    for (let i = 0; i < 40; i++) offsets.push(Math.floor(rand() * (text.length - 200)));
    for (const at of offsets) await expectRead(reader, text, at, Math.min(200, text.length - at));
    expect(reader.stats.prefixReads).toBeGreaterThan(offsets.length / 2);
    await reader.close();
  });

  it('damage in another block of the run does not touch a read; damage in the block read is CORRUPT_DATA naming it', async () => {
    const path = fixture();
    const reader = await open(path);
    const u = 1;
    const runStart = Math.floor(reader.units.cStart[u] / 8);
    const runEnd = Math.floor(reader.units.cEnd[u] / 8);
    await reader.close();
    const inRun = blocksOf(packed).filter((b) => b.at >= runStart && b.at < runEnd);
    expect(inRun.length).toBeGreaterThan(4);
    const [bad, good] = [inRun[1], inRun[3]];
    // Inside the deflate data of block 1 of the run (past its 18-byte header, before its trailer).
    damageInPlace(path, bad.at + Math.floor(bad.size / 2));
    const damaged = await open(path, { ifStale: 'error' });
    expect(damaged.indexStatus).toBe('loaded');
    await expectRead(damaged, text, good.dStart + 10, 100);
    const error = await damaged.read(bad.dStart + 10, 100).catch((e: unknown) => e);
    expect(isSeekdataError(error) && error.code, String(error)).toBe('CORRUPT_DATA');
    expect(String(error)).toContain(`byte ${bad.at}`);
    await damaged.close();
    // The whole run, decoded whole (prefixReads: false), fails: the damage is real.
    const whole = await open(path, { ifStale: 'error', prefixReads: false });
    const wholeError = await whole.read(good.dStart + 10, 100).catch((e: unknown) => e);
    expect(isSeekdataError(wholeError) && wholeError.code).toBe('CORRUPT_DATA');
    await whole.close();
  });

  it('a run whose blocks do not agree with the chunk map (a crafted members count) is decoded whole', async () => {
    const path = fixture();
    await (await open(path)).close();
    const opening = await openIndexFile(`${path}.sdx`);
    if (opening.kind !== 'index') throw new Error('not an index');
    const sections = await opening.file.loadPrefix('');
    await opening.file.close();
    const members = sections.get('units.col.members') as Float64Array;
    members[1] += 1;
    members[2] -= 1;
    await writeIndexFile(`${path}.sdx`, sections);
    // The counts are no part of the load's checks (decoding a run does not use them): the index loads.
    const r = await open(path, { ifStale: 'error' });
    expect(r.indexStatus).toBe('loaded');
    await expectRead(r, text, r.units.dStart[1] + 10, 100);
    await expectRead(r, text, r.units.dStart[2] + 10, 100);
    expect(r.stats.prefixReads).toBe(0);
    await r.close();
  });

  it('bgzfBlocksPart: undefined for the whole run or a range outside it', () => {
    const blocks = blocksOf(packed);
    const run = blocks.slice(0, 3);
    const data = packed.subarray(0, run[2].at + run[2].size);
    const dLength = run.reduce((n, b) => n + b.isize, 0);
    const info = { file: 'f', offset: 0, dLength, members: 3 };
    expect(bgzfBlocksPart(data, info, 0, dLength)).toBeUndefined();
    expect(bgzfBlocksPart(data, info, 5, dLength + 1)).toBeUndefined();
    expect(bgzfBlocksPart(data, { ...info, members: 4 }, 5, 10)).toBeUndefined();
    const part = bgzfBlocksPart(data, info, run[1].dStart + 3, run[1].dStart + 9);
    expect(part?.at).toBe(run[1].dStart);
    expect(Buffer.from(part?.bytes ?? []).equals(text.subarray(run[1].dStart, run[1].dStart + run[1].isize))).toBe(true);
  });
});
