/**
 * The index file: save → load round trip of the chunk map, stale detection when the data changes,
 * damage detection, atomic writes that survive a crash, and the cache-directory fallback.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, openReader, type SeekableReader } from '../src/index.js';
import { IO_PIECE, writeIndexFile, writeParts, type SectionValue, type WritableSection } from '../src/index/index-file.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { bzip2, concatTyped, makeText, startRangeServer, tempDir, writeFixture, xz } from './support/fixtures.js';
import { entries } from './support/sdx.js';
import { runTsx } from './support/process.js';

const text = makeText(600_000, 21);
const tmp = tempDir();
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

function sameMap(a: SeekableReader, b: SeekableReader): void {
  expect(b.units.count).toBe(a.units.count);
  for (const key of ['dStart', 'cStart', 'cEnd', 'param', 'kind'] as const) expect(Array.from(b.units[key])).toEqual(Array.from(a.units[key]));
}

describe.each([
  ['bz2', () => bzip2(text, 1)],
  ['xz', () => xz(text, '--block-size=50KiB')],
  ['csv', () => text],
] as const)('%s index file', (ext, make) => {
  it('is saved beside the data, then loaded with the same chunk map', async () => {
    const path = writeFixture(tmp.dir, `data.${ext}`, make());
    const built = await openReader(path);
    expect(built.indexStatus).toBe('built');
    expect(built.indexPath).toBe(`${path}.sdx`);
    const loaded = await openReader(path);
    expect(loaded.indexStatus).toBe('loaded');
    sameMap(built, loaded);
    expect(Buffer.from(await loaded.read(1000, 5000)).equals(text.subarray(1000, 6000))).toBe(true);
    await built.close();
    await loaded.close();
  });

  it('is detected as stale when the data file changes, and rebuilt (or refused)', async () => {
    const path = writeFixture(tmp.dir, `change.${ext}`, make());
    await (await openReader(path)).close();
    // Same size and same first/last 64 KiB would still differ in mtime; here the content changes too.
    const other = ext === 'bz2' ? bzip2(makeText(600_000, 22), 1) : ext === 'xz' ? xz(makeText(600_000, 22)) : makeText(600_000, 22);
    writeFileSync(path, other);
    await expect(openReader(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'STALE_INDEX' });
    const warnings: string[] = [];
    const reader = await openReader(path, { onWarning: (m) => warnings.push(m) });
    expect(reader.indexStatus).toBe('rebuilt');
    expect(warnings.join()).toMatch(/stale/);
    expect(reader.size).toBe(ext === 'csv' ? other.length : 600_000);
    await reader.close();
    // Touching the file (same bytes, new mtime) also makes the index stale.
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    await expect(openReader(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'STALE_INDEX' });
  });

  it('is detected as corrupt when damaged, and rebuilt (or refused)', async () => {
    const path = writeFixture(tmp.dir, `damaged.${ext}`, make());
    await (await openReader(path)).close();
    const index = readFileSync(`${path}.sdx`);
    // The header, the directory, and the last byte of the last section's payload (padding is unused).
    const last = entries(index).at(-1);
    for (const at of [3, 40, (last?.offset ?? 0) + (last?.length ?? 0) - 1]) {
      const bad = Buffer.from(index);
      bad[at] ^= 1;
      writeFileSync(`${path}.sdx`, bad);
      await expect(openReader(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    }
    writeFileSync(`${path}.sdx`, index.subarray(0, index.length - 100));
    await expect(openReader(path, { ifStale: 'error' })).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    const reader = await openReader(path);
    expect(reader.indexStatus).toBe('rebuilt');
    await reader.close();
    const again = await openReader(path, { ifStale: 'error' });
    expect(again.indexStatus).toBe('loaded');
    await again.close();
  });
});

describe('index file format and writing', () => {
  it('round-trips typed arrays and JSON sections as aligned views', async () => {
    const sections = new Map<string, SectionValue>([
      ['meta', { json: { a: 1, b: 'x' } }],
      ['odd', new Uint8Array([1, 2, 3])],
      ['f', new Float64Array([1.5, -2, 2 ** 52 + 1])],
      ['u', new Uint32Array([0, 4294967295])],
      ['e', new Int32Array(0)],
    ]);
    const path = join(tmp.dir, 'roundtrip.sdx');
    await writeIndexFile(path, sections);
    const opened = await openIndexFile(path);
    if (opened.kind !== 'index') throw new Error(`not an index: ${opened.kind}`);
    const decoded = await opened.file.load(['meta', 'odd', 'f', 'u', 'e']);
    await opened.file.close();
    expect(decoded.get('meta')).toEqual({ json: { a: 1, b: 'x' } });
    expect(Array.from(decoded.get('odd') as Uint8Array)).toEqual([1, 2, 3]);
    expect(Array.from(decoded.get('f') as Float64Array)).toEqual([1.5, -2, 2 ** 52 + 1]);
    expect(Array.from(decoded.get('u') as Uint32Array)).toEqual([0, 4294967295]);
    expect((decoded.get('e') as Int32Array).length).toBe(0);
  });

  it('sections given as parts: the same file byte for byte as from the joined arrays (over 1,024 parts, over one 8 MiB write, none)', async () => {
    // 2,500 parts of 1..1,200 values: more than one writev's 1,024 buffers; the f64 section passes IO_PIECE.
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0);
    const u32: Uint32Array[] = [];
    const f64: Float64Array[] = [];
    for (let k = 0; k < 2500; k++) {
      u32.push(Uint32Array.from({ length: 1 + (next() % 1200) }, () => next()));
      f64.push(Float64Array.from({ length: 1 + (next() % 1200) }, () => next() / 7));
    }
    const joinedF64 = concatTyped(f64, (n) => new Float64Array(n));
    expect(joinedF64.byteLength).toBeGreaterThan(IO_PIECE);
    // A part that is a view into a larger buffer is written from its own bytes only.
    const inner = new Uint32Array([9, 8, 7, 6, 5]).subarray(1, 4);
    const parts = new Map<string, WritableSection>([
      ['meta', { json: { a: 1 } }],
      ['u', { kind: 'u32', parts: [...u32, inner] }],
      ['none', { kind: 'f64', parts: [] }],
      ['f', { kind: 'f64', parts: f64 }],
    ]);
    const whole = new Map<string, WritableSection>([
      ['meta', { json: { a: 1 } }],
      ['u', concatTyped([...u32, inner], (n) => new Uint32Array(n))],
      ['none', new Float64Array(0)],
      ['f', joinedF64],
    ]);
    const a = join(tmp.dir, 'parts.sdx');
    const b = join(tmp.dir, 'whole.sdx');
    await writeIndexFile(a, parts);
    await writeIndexFile(b, whole);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const opened = await openIndexFile(a);
    if (opened.kind !== 'index') throw new Error(`not an index: ${opened.kind}`);
    const decoded = await opened.file.load(['u', 'none', 'f']);
    await opened.file.close();
    expect(Array.from((decoded.get('u') as Uint32Array).subarray(-3))).toEqual([8, 7, 6]);
    expect((decoded.get('none') as Float64Array).length).toBe(0);
    expect((decoded.get('f') as Float64Array).length).toBe(joinedF64.length);
  });

  it('parts after a short write: the rest of each batch is written where it belongs', async () => {
    const file = new Uint8Array(40_000);
    const parts = Array.from({ length: 2100 }, (_, k) => Uint8Array.from({ length: 1 + (k % 17) }, (_, i) => (k * 31 + i) & 0xff));
    const expected = Buffer.concat(parts);
    // A handle whose writev writes at most 1,000 bytes (of any batch), and whose write at most 333.
    const handle = {
      writev: async (buffers: Uint8Array[], position: number) => {
        const all = Buffer.concat(buffers).subarray(0, 1000);
        file.set(all, position);
        return { bytesWritten: all.length, buffers };
      },
      write: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
        const n = Math.min(length, 333);
        file.set(buffer.subarray(offset, offset + n), position);
        return { bytesWritten: n, buffer };
      },
    } as unknown as Parameters<typeof writeParts>[0];
    await writeParts(handle, parts, 100);
    expect(Buffer.from(file.subarray(100, 100 + expected.length)).equals(expected)).toBe(true);
    expect(file.subarray(0, 100).every((b) => b === 0)).toBe(true);
  });

  it('a write that writes no bytes is an error, not a loop without end', async () => {
    const parts = [new Uint8Array(10), new Uint8Array(20)];
    const handle = {
      writev: async (buffers: Uint8Array[]) => ({ bytesWritten: 4, buffers }),
      write: async (buffer: Uint8Array) => ({ bytesWritten: 0, buffer }),
    } as unknown as Parameters<typeof writeParts>[0];
    await expect(writeParts(handle, parts, 0)).rejects.toThrow(/a write of 26 bytes at 4 wrote none/);
    await expect(writeParts(handle, [new Uint8Array(5)], 7)).rejects.toThrow(/a write of 5 bytes at 7 wrote none/);
  });

  it.each(['before-rename', 'mid-write'])('a process killed %s leaves the previous index intact', async (when) => {
    const path = writeFixture(tmp.dir, `crash-${when}.bz2`, bzip2(text, 1));
    const first = await openReader(path);
    await first.close();
    const before = readFileSync(`${path}.sdx`);
    const child = await runTsx(['test/support/crash-writer.ts', `${path}.sdx`, when]);
    expect(child.signal).toBe('SIGKILL');
    expect(readFileSync(`${path}.sdx`).equals(before)).toBe(true);
    const reader = await openReader(path, { ifStale: 'error' });
    expect(reader.indexStatus).toBe('loaded');
    sameMap(first, reader);
    await reader.close();
  });

  it('a process killed while writing the first index leaves no index at all', async () => {
    const target = join(tmp.dir, 'never.sdx');
    expect((await runTsx(['test/support/crash-writer.ts', target, 'mid-write'])).signal).toBe('SIGKILL');
    expect(existsSync(target)).toBe(false);
  });

  it('HTTP sources keep their index in the cache directory; an explicit path wins', async () => {
    const cache = join(tmp.dir, 'cache');
    process.env.SEEKDATA_CACHE_DIR = cache;
    const server = await startRangeServer({ 'remote.bz2': bzip2(text, 1) });
    try {
      const built = await openReader(server.url('remote.bz2'));
      expect(built.indexStatus).toBe('built');
      expect(built.indexPath?.startsWith(cache)).toBe(true);
      await built.close();
      const loaded = await openReader(server.url('remote.bz2'));
      expect(loaded.indexStatus).toBe('loaded');
      await loaded.close();
      const explicit = join(tmp.dir, 'explicit.sdx');
      const reader = await openReader(server.url('remote.bz2'), { index: explicit });
      expect(reader.indexPath).toBe(explicit);
      await reader.close();
      expect(readdirSync(cache).filter((f) => f.endsWith('.sdx'))).toHaveLength(1);
    } finally {
      delete process.env.SEEKDATA_CACHE_DIR;
      await server.close();
    }
  });

  it('index: false neither reads nor writes an index', async () => {
    const path = writeFixture(tmp.dir, 'noindex.bz2', bzip2(text, 1));
    const reader = await openReader(path, { index: false });
    expect(reader.indexStatus).toBe('none');
    await reader.close();
    expect(existsSync(`${path}.sdx`)).toBe(false);
  });
});
