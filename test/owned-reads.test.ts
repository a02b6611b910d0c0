/**
 * A FileSource's reads are new arrays nobody else holds (`ownsReads`), so the readers move a unit's
 * compressed bytes to the worker that decodes it instead of posting a copy (which kept a copy per unit
 * alive on the calling thread until its next collection). Sources that share their arrays (MemorySource, a
 * wrapper with a cache of its own) must keep them: their arrays are posted as copies and stay intact, so a
 * second pass over the same arrays still decodes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSharedPool, openIndexed } from '../src/index.js';
import { FileSource } from '../src/sources/file-source.js';
import { MemorySource, type ByteSource } from '../src/sources/source.js';
import { bzip2, makeText, run, tempDir, writeFixture, xz } from './support/fixtures.js';
import { readAllDigest, recordingPool, sha, uncopied } from './support/owned-reads.js';

const { dir, cleanup } = tempDir('seekdata-owned-reads-');
afterAll(async () => {
  cleanup();
  await closeSharedPool();
});

const text = makeText(3 << 20, 7);
const half = text.length >> 1;
const cut = text.indexOf(0x0a, half) + 1;
const both = (f: (b: Uint8Array) => Buffer): Buffer => Buffer.concat([f(text.subarray(0, cut)), f(text.subarray(cut))]);
const fixtures: Record<string, Buffer> = {
  'data.txt': text,
  'data.txt.xz': xz(text, '--block-size=524288'),
  'data.txt.bz2': bzip2(text, 1),
  'data.txt.gz': both((b) => run('gzip', ['-c'], b)),
  'data.txt.zst': both((b) => run('zstd', ['-q', '-c'], b)),
};
/** A source over a file with a cache of its own: every read of a range returns the same array. */
function caching(file: FileSource): ByteSource & { arrays: Uint8Array[] } {
  const cache = new Map<string, Uint8Array>();
  const arrays: Uint8Array[] = [];
  return {
    ...file,
    name: file.name,
    size: file.size,
    version: file.version,
    arrays,
    async read(offset: number, length: number) {
      const key = `${offset}:${length}`;
      let bytes = cache.get(key);
      if (bytes === undefined) {
        bytes = await file.read(offset, length);
        cache.set(key, bytes);
        arrays.push(bytes);
      }
      return bytes;
    },
    // The file stays open across passes (each reader closes its source); the test closes it.
    close: async () => undefined,
  };
}

describe('owned reads move to the workers', () => {
  it('FileSource says its reads are owned; an object spread from it, and MemorySource, do not', async () => {
    const file = await FileSource.open(writeFixture(dir, 'plain.txt', text));
    try {
      expect(file.ownsReads).toBe(true);
      expect((({ ...file }) as ByteSource).ownsReads).toBeUndefined();
      expect(caching(file).ownsReads).toBeUndefined();
      expect((new MemorySource(text) as ByteSource).ownsReads).toBeUndefined();
    } finally {
      await file.close();
    }
  });

  for (const [name, bytes] of Object.entries(fixtures)) {
    if (name === 'data.txt') continue;
    it(`${name}: a file's units are moved to the workers, and the bytes are right`, async () => {
      const path = writeFixture(dir, name, bytes);
      const { runner, jobs } = recordingPool();
      expect(await readAllDigest(await FileSource.open(path), runner)).toBe(sha(text));
      expect(jobs.length).toBeGreaterThan(1);
      expect(jobs.filter((j) => !uncopied(j))).toEqual([]);
      // Moved: the calling thread's array is empty now. Shared (bzip2's scan windows): the same memory.
      for (const j of jobs) expect(j.input.byteLength === 0 || j.shared).toBe(true);
      if (name.endsWith('.bz2')) expect(jobs.some((j) => j.shared)).toBe(true);
    });

    it(`${name}: shared arrays (MemorySource, a caching wrapper) are copied, stay intact, and decode again`, async () => {
      // One array shared by every pass (each reader closes its source at the end: a new MemorySource over it).
      const shared = new Uint8Array(bytes);
      for (let pass = 0; pass < 2; pass++) {
        const { runner, jobs } = recordingPool();
        expect(await readAllDigest(new MemorySource(shared, name), runner)).toBe(sha(text));
        expect(jobs.length).toBeGreaterThan(1);
        expect(jobs.filter((j) => j.moved && j.input.buffer === shared.buffer)).toEqual([]);
      }
      expect(sha(shared)).toBe(sha(bytes));

      const file = await FileSource.open(writeFixture(dir, `cached-${name}`, bytes));
      const wrapper = caching(file);
      for (let pass = 0; pass < 2; pass++) {
        const { runner } = recordingPool();
        expect(await readAllDigest(wrapper, runner)).toBe(sha(text));
      }
      expect(wrapper.arrays.length).toBeGreaterThan(1);
      for (const a of wrapper.arrays) expect(a.byteLength).toBeGreaterThan(0);
      await file.close();
    });
  }

  it('plain text: the index pass moves each span it reads to the worker that analyses it; a caching wrapper keeps its spans', async () => {
    const rows = 700_000;
    const csv = Buffer.from(`a,b\n${Array.from({ length: rows }, (_, i) => `${i},${i % 7}`).join('\n')}\n`);
    const path = writeFixture(dir, 'plain.csv', csv);
    const { runner, jobs } = recordingPool();
    const f = await openIndexed(path, { records: 'csv', index: false, parallelism: 2, pool: runner });
    try {
      expect(f.records.count).toBe(rows);
      expect(f.stats.find((s) => s.name === 'a')?.max).toBe(rows - 1);
      expect(jobs).toHaveLength(f.reader.layout.count);
    } finally {
      await f.close();
    }
    // The spans read for the header (the first, and the one beside it) were read before the pass and are
    // posted as copies; every span the pass reads itself is moved.
    expect(jobs.length).toBeGreaterThan(4);
    expect(jobs.filter((j) => !j.moved).length).toBeLessThanOrEqual(2);
    for (const j of jobs.filter((k) => k.moved)) expect(j.input.byteLength).toBe(0);

    const file = await FileSource.open(path);
    const wrapper = caching(file);
    const spans = recordingPool();
    const g = await openIndexed(wrapper, { records: 'csv', index: false, parallelism: 2, pool: spans.runner });
    try {
      expect(g.records.count).toBe(rows);
    } finally {
      await g.close();
      await file.close();
    }
    expect(spans.jobs.filter((j) => j.moved)).toEqual([]);
    expect(wrapper.arrays.length).toBeGreaterThan(4);
    for (const a of wrapper.arrays) expect(a.byteLength).toBeGreaterThan(0);
  });
});
