/**
 * Findings of the hostile gzip/zstd test report (notes/hostile-gz-report.md), each pinned against an
 * independent truth: the plain bytes, or what `gzip -dc` / `zstd -dc` make of the same file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { utimesSync, writeFileSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import { cli } from './support/cli.js';
import { makeText, prng, run, tempDir, writeFixture } from './support/fixtures.js';
import { bgzip, gunzipTruth, gzip, mixedData } from './support/gzip-fixtures.js';
import { handSeekTable, zstdPipe } from './support/zstd.js';
import { closeSharedPool, openReader } from '../src/index.js';
import { wasmZstdInstances } from '../src/readers/zstd/wasm-stream.js';

const { dir, cleanup } = tempDir('seekdata-hostile-');
afterAll(async () => {
  await closeSharedPool();
  cleanup();
});

/** A gzip member of `plain` whose trailer CRC-32 is wrong (its deflate data is intact). */
function badCrcMember(plain: Uint8Array): Buffer {
  const member = Buffer.from(gzip(plain));
  member[member.length - 8] ^= 0xff;
  return member;
}

async function readAll(file: string, options: Parameters<typeof openReader>[1] = {}): Promise<Buffer> {
  const reader = await openReader(file, { index: false, parallelism: 1, onWarning: () => undefined, ...options });
  try {
    const parts: Uint8Array[] = [];
    for await (const chunk of reader.stream()) parts.push(chunk);
    return Buffer.concat(parts);
  } finally {
    await reader.close();
  }
}

describe('zstd WebAssembly decoder after damaged frames', () => {
  it('a damaged frame frees its decoder: many failed opens later, a valid frame still decodes', async () => {
    // From a pipe (no content size) with a 128 MiB window: decoded by the WebAssembly stream decoder,
    // and each decoder left behind by a failed frame held its whole window (the heap filled in ~15).
    const plain = makeText(400_000, 7);
    const good = run('zstd', ['-q', '--long=27', '-c'], plain);
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0x55;
    const goodFile = writeFixture(dir, 'good.zst', good);
    const badFile = writeFixture(dir, 'bad.zst', bad);
    const before = wasmZstdInstances();
    for (let i = 0; i < 30; i++) {
      await expect(readAll(badFile)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
    }
    expect(wasmZstdInstances()).toBeGreaterThan(before); // a failed frame retires its instance
    expect((await readAll(goodFile)).equals(plain)).toBe(true);
  }, 120_000);
});

describe('gzip allowDamage keeps every verified member before the damage', () => {
  const piece = (i: number): Buffer => makeText(100_000, 100 + i);
  const goodParts = Array.from({ length: 19 }, (_, i) => piece(i));
  const members = Buffer.concat([...goodParts.map((p) => gzip(p)), badCrcMember(piece(19))]);
  const big = [makeText(1_000_000, 31), makeText(1_000_000, 32)];
  const two = Buffer.concat([gzip(big[0] ?? Buffer.alloc(0)), badCrcMember(big[1] ?? Buffer.alloc(0))]);

  it('19 intact small members (grouped in runs) and a bad one: all 19 are read', async () => {
    const file = writeFixture(dir, 'members.gz', members);
    const reader = await openReader(file, { index: false, allowDamage: true });
    try {
      expect(reader.damage?.code).toBe('CORRUPT_DATA');
      expect(reader.size).toBe(1_900_000);
      expect(Buffer.from(await reader.read(0, reader.size)).equals(Buffer.concat(goodParts))).toBe(true);
    } finally {
      await reader.close();
    }
  });

  it('an intact 1 MB member before a bad one is read; cat says so and exits 1', async () => {
    const file = writeFixture(dir, 'two.gz', two);
    expect((await readAll(file, { allowDamage: true })).equals(big[0] ?? Buffer.alloc(0))).toBe(true);
    const out = await cli('cat', '--no-index', '--allow-damage', file);
    expect(out.stdout.equals(big[0] ?? Buffer.alloc(0))).toBe(true);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`${file} is damaged at compressed byte `);
    expect(out.stderr).toContain('1000000 decompressed bytes');
    // Without the flag: the error, with the hint (there is an intact part).
    const refused = await cli('cat', '--no-index', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('can be read with the allowDamage option');
  });

  it('no hint about an intact part when nothing before the damage is intact', async () => {
    const file = writeFixture(dir, 'one-bad.gz', badCrcMember(big[0] ?? Buffer.alloc(0)));
    const error = await readAll(file).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'CORRUPT_DATA' });
    expect((error as Error).message).not.toContain('allowDamage');
    const out = await cli('cat', '--no-index', '--allow-damage', file);
    expect(out.stdout.length).toBe(0);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`${file} is damaged`);
  });
});

describe('seekdata index records the CRC-32 of zstd frames written with --no-check', () => {
  const plain = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `${i},x\n`).join(''));
  const recorded = async (file: string): Promise<unknown> => {
    const reader = await openReader(file, { parallelism: 1, onWarning: () => undefined });
    try {
      expect((await readAll(file)).equals(plain)).toBe(true);
      return reader.info().details?.facts.crcRecorded;
    } finally {
      await reader.close();
    }
  };

  it('plain `index` (no --records) records them, also into a fresh index built without them', async () => {
    const file = writeFixture(dir, 'nc.zst', run('zstd', ['-q', '--no-check', '-c', writeFixture(dir, 'nc.csv', plain)]));
    const built = await cli('index', file);
    expect(built.code, built.stderr).toBe(0);
    expect(await recorded(file)).toBe(1);

    const other = writeFixture(dir, 'nc2.zst', run('zstd', ['-q', '--no-check', '-c', writeFixture(dir, 'nc2.csv', plain)]));
    const api = await openReader(other, { parallelism: 1, onWarning: () => undefined });
    await api.close(); // an index without the CRC-32 (the API does not decode on open)
    expect(await recorded(other)).toBe(0);
    const again = await cli('index', other);
    expect(again.code, again.stderr).toBe(0);
    expect(await recorded(other)).toBe(1);
  });
});

describe('info hints', () => {
  it('the recompress command a one-frame zstd file is pointed to runs as written', async () => {
    const plain = makeText(200_000, 5);
    const file = writeFixture(dir, 'one.zst', run('zstd', ['-q', '-c', writeFixture(dir, 'one.csv', plain)]));
    const info = await cli('info', '--no-index', file);
    expect(info.code, info.stderr).toBe(0);
    const hint = /`(seekdata recompress [^`]*)`/.exec(info.stdout.toString())?.[1];
    expect(hint).toBeDefined();
    const out = `${dir}/one.seekable.zst`;
    const args = (hint ?? '').split(' ').slice(1).map((a) => (a === 'IN' ? file : a === 'OUT' ? out : a));
    const recompressed = await cli(...args);
    expect(recompressed.code, recompressed.stderr).toBe(0);
    expect(run('zstd', ['-dc', out]).equals(plain)).toBe(true);
  });
});

describe('gzip headers with a BGZF size field that does not hold', () => {
  /** One ordinary gzip member whose header carries a `BC` subfield saying BSIZE - 1 = `field`. */
  function bcMember(data: Uint8Array, field: number): Buffer {
    const header = Buffer.from([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 0xff, 6, 0, 0x42, 0x43, 2, 0, field & 0xff, field >> 8]);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc32(data), 0);
    trailer.writeUInt32LE(data.length, 4);
    return Buffer.concat([header, deflateRawSync(data), trailer]);
  }
  const plain = mixedData(600_000, 77);
  const real = bgzip(plain);
  /** Byte offsets of the BGZF blocks of `real` (walked by their BSIZE, which bgzip wrote right). */
  const blocks: number[] = [];
  for (let at = 0; at < real.length; at += real.readUInt16LE(at + 16) + 1) blocks.push(at);

  async function readWithWarnings(name: string, bytes: Buffer): Promise<{ data: Buffer; warnings: string[] }> {
    const file = writeFixture(dir, name, bytes);
    const warnings: string[] = [];
    return { data: await readAll(file, { onWarning: (m) => warnings.push(m) }), warnings };
  }

  it.each([
    ['an ordinary member (over 64 KiB) with BC = 0xffff', () => bcMember(plain, 0xffff)],
    ['an ordinary small member whose BC points past the end of the file', () => bcMember(plain.subarray(0, 5000), 0xffff)],
    ['real BGZF with a data block BSIZE one too big', () => {
      const b = Buffer.from(real);
      b.writeUInt16LE(b.readUInt16LE((blocks[1] ?? 0) + 16) + 1, (blocks[1] ?? 0) + 16);
      return b;
    }],
    ['real BGZF with a damaged BSIZE in its end-of-file block', () => {
      const b = Buffer.from(real);
      b[b.length - 28 + 16] = 0x40;
      return b;
    }],
  ])('%s: read as gzip -dc reads it, with a warning', async (name, make) => {
    const bytes = make();
    const truth = gunzipTruth(bytes);
    expect(truth.length).toBeGreaterThan(0);
    const { data, warnings } = await readWithWarnings(`bc-${name.length}.gz`, bytes);
    expect(data.equals(truth)).toBe(true);
    expect(warnings.join('\n')).toContain('read by the sequential pass instead');
  });

  it('real BGZF with damaged deflate data is still a typed error', async () => {
    expect(blocks.length).toBeGreaterThan(3);
    const b = Buffer.from(real);
    const at = (blocks[2] ?? 0) + 100;
    b[at] = (b[at] ?? 0) ^ 0xff;
    const file = writeFixture(dir, 'bgzf-bad-deflate.gz', b);
    await expect(readAll(file)).rejects.toMatchObject({ code: 'CORRUPT_DATA' });
  });
});

describe('info kind of unusual gzip files', () => {
  it('two empty members are not called single-member', async () => {
    const empty = gzip(Buffer.alloc(0));
    const file = writeFixture(dir, 'empties.gz', Buffer.concat([empty, empty]));
    const reader = await openReader(file, { index: false });
    try {
      expect(reader.size).toBe(0);
      expect(reader.info().details?.kind).toBe('empty');
    } finally {
      await reader.close();
    }
  });

  it('a file opened with --allow-damage: info says its numbers are of the intact part, names the damage, exits 1', async () => {
    const first = makeText(300_000, 41);
    const file = writeFixture(dir, 'info-two.gz', Buffer.concat([gzip(first), badCrcMember(makeText(300_000, 42))]));
    const out = await cli('info', '--no-index', '--allow-damage', file);
    expect(out.code).toBe(1);
    const text = out.stdout.toString();
    expect(text).toMatch(/^decompressed .*\(300000 bytes, .*\), of the intact part before the damage$/m);
    expect(text).toMatch(/^kind +single-member, of the intact part before the damage$/m);
    expect(text).toMatch(/^damage .*CRC-32 mismatch/m);
  });
});

describe('messages say which side disagrees', () => {
  it('a seek table lying about a frame size: "the seek table says", not "the index" (no index used)', async () => {
    const parts = [makeText(200_000, 51), makeText(200_000, 52)];
    const frames = parts.map((p) => zstdPipe(p, '--no-check'));
    const entries = frames.map((f, i) => ({ compressedSize: f.length, decompressedSize: (parts[i]?.length ?? 0) + (i === 1 ? 10 : 0) }));
    const file = writeFixture(dir, 'lying-table.zst', Buffer.concat([...frames, handSeekTable(entries, false)]));
    const error = await readAll(file).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'CORRUPT_DATA' });
    expect((error as Error).message).toContain(`decodes to ${parts[1]?.length ?? 0} bytes, the seek table says ${(parts[1]?.length ?? 0) + 10}`);
    expect((error as Error).message).not.toContain('the index');
  });

  it('data changed under a fresh-looking index (same size, mtime, head and tail): the index and the data disagree', async () => {
    const rand = prng(9);
    const noise = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    const head = makeText(300_000, 61);
    const tail = makeText(300_000, 62);
    // A middle member of random bytes: stored blocks, so another one of the same length has the same size.
    const member = (middle: Buffer): Buffer => Buffer.concat([gzip(head, '-n'), gzip(middle, '-n'), gzip(tail, '-n')]);
    const a = member(noise(2_500_000));
    const middleB = noise(2_500_000);
    const b = member(middleB);
    expect(b.length).toBe(a.length);
    const file = writeFixture(dir, 'swapped.gz', a);
    const when = new Date('2025-01-01T00:00:00Z');
    utimesSync(file, when, when);
    await (await openReader(file, { parallelism: 1 })).close(); // builds swapped.gz.sdx
    writeFileSync(file, b);
    utimesSync(file, when, when);
    const warnings: string[] = [];
    const reader = await openReader(file, { parallelism: 1, onWarning: (m) => warnings.push(m) });
    try {
      expect(Buffer.from(await reader.read(0, reader.size)).equals(Buffer.concat([head, middleB, tail]))).toBe(true);
    } finally {
      await reader.close();
    }
    expect(warnings.join('\n')).toContain('the index and the data disagree (the data changed, or the index file is damaged)');
    expect(warnings.join('\n')).not.toContain('corrupt index file');
  });
});
