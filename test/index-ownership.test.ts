/**
 * Index files are never lost or mixed up. An index records the data file it belongs to (`meta.owner`): an
 * index of another file at an explicit `index` path is never overwritten (INDEX_CONFLICT naming both files),
 * nor is a file there that is not an index; an index directory, the cache directory, URLs and s3 objects
 * give two data files of the same name two index files, across alternating opens and two processes at once.
 * Truth: the plain text each fixture was compressed from, the line counts, and the bytes of index files
 * that must stay untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { closeSharedPool, openCollection, openIndexed, openReader, type SeekableReader } from '../src/index.js';
import { writeIndexFile, type SectionValue } from '../src/index/index-file.js';
import { openIndexFile } from '../src/index/index-reader.js';
import { bzip2, makeText, type RangeServer, startRangeServer, tempDir, useCacheDir, xz } from './support/fixtures.js';
import { cli } from './support/cli.js';
import { runTsx } from './support/process.js';
import { startS3, useTestCredentials, type S3Server } from './support/s3.js';

const tmp = tempDir('seekdata-ownership-');

const FORMATS = {
  bzip2: (t: Uint8Array) => bzip2(t, 1),
  xz: (t: Uint8Array) => xz(t, '--block-size=100000'),
  gzip: (t: Uint8Array) => gzipSync(t),
} as const;
type FormatName = keyof typeof FORMATS;

const texts = [makeText(250_000, 1), makeText(230_000, 2), makeText(260_000, 3)];
const lines = (t: Uint8Array): number => t.filter((b) => b === 0x0a).length;

/** A data file of text `k` in format `f` at `dir/name`. */
function dataFile(dir: string, name: string, k: number, f: FormatName = 'bzip2'): string {
  const path = join(dir, name);
  writeFileSync(path, FORMATS[f](texts[k]));
  return path;
}

async function expectReads(reader: SeekableReader, k: number): Promise<void> {
  const text = texts[k];
  expect(reader.size).toBe(text.length);
  for (const at of [0, 99_999, text.length - 500]) expect(Buffer.from(await reader.read(at, 500)).equals(text.subarray(at, at + 500))).toBe(true);
}

async function opened(path: string, k: number, options: Parameters<typeof openReader>[1]): Promise<SeekableReader['indexStatus']> {
  const reader = await openReader(path, { parallelism: 1, ...options });
  try {
    await expectReads(reader, k);
    return reader.indexStatus;
  } finally {
    await reader.close();
  }
}

/** The `owner` an index file records in its metadata. */
async function ownerRecorded(index: string): Promise<unknown> {
  const opening = await openIndexFile(index);
  if (opening.kind !== 'index') throw new Error(`${index}: expected an index, got ${opening.kind}`);
  try {
    const meta = (await opening.file.load(['meta'])).get('meta') as { json: { owner?: unknown } };
    return meta.json.owner;
  } finally {
    await opening.file.close();
  }
}

useCacheDir(join(tmp.dir, 'cache'));
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

describe('an explicit index path', () => {
  for (const f of Object.keys(FORMATS) as FormatName[]) {
    it(`holding another file's index (${f}): INDEX_CONFLICT naming both files and the option; the other index untouched`, async () => {
      const a = dataFile(tmp.sub('a'), `a.csv.${f}`, 0, f);
      const b = dataFile(tmp.sub('b'), `b.csv.${f}`, 1, f);
      const shared = join(tmp.sub('idx'), 'shared.sdx');
      expect(await opened(a, 0, { index: shared })).toBe('built');
      const before = readFileSync(shared);
      for (const extra of [{}, { ifStale: 'error' as const }, { rebuild: true }]) {
        const error = await openReader(b, { index: shared, parallelism: 1, ...extra }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'INDEX_CONFLICT', file: shared });
        const message = (error as Error).message;
        expect(message).toContain(shared);
        expect(message).toContain(a);
        expect(message).toContain(b);
        expect(message).toMatch(/`index`/);
        await expect(openIndexed(b, { index: shared, records: 'csv', header: false, parallelism: 1, ...extra })).rejects.toMatchObject({ code: 'INDEX_CONFLICT' });
        expect(readFileSync(shared).equals(before)).toBe(true);
      }
      // A still has its index.
      expect(await opened(a, 0, { index: shared, ifStale: 'error' })).toBe('loaded');
    });
  }

  it("the same file's index, data changed: rebuilt and replaced with a warning; the same file by a relative path or a symlink is the same owner", async () => {
    const dir = tmp.sub('same');
    const a = dataFile(dir, 'a.csv.bz2', 0);
    const index = join(tmp.sub('idx'), 'a.sdx');
    expect(await opened(a, 0, { index })).toBe('built');
    symlinkSync(a, join(dir, 'link.csv.bz2'));
    expect(await opened(relative(process.cwd(), a), 0, { index, ifStale: 'error' })).toBe('loaded');
    expect(await opened(join(dir, 'link.csv.bz2'), 0, { index, ifStale: 'error' })).toBe('loaded');
    dataFile(dir, 'a.csv.bz2', 1);
    const warnings: string[] = [];
    expect(await opened(a, 1, { index, onWarning: (m) => warnings.push(m) })).toBe('rebuilt');
    expect(warnings.join('\n')).toMatch(/stale/);
    expect(await opened(join(dir, 'link.csv.bz2'), 1, { index, ifStale: 'error' })).toBe('loaded');
    // The record layer too (openIndexed), through the symlink.
    dataFile(dir, 'a.csv.bz2', 2);
    const file = await openIndexed(join(dir, 'link.csv.bz2'), { index, records: 'lines', parallelism: 1 });
    expect(file.report.status).toBe('rebuilt');
    expect(file.report.records).toBe(lines(texts[2]));
    await file.close();
  });

  it('holding a file that is not an index: never overwritten (INDEX_CONFLICT), also on the command line; an empty file is used', async () => {
    const a = dataFile(tmp.sub('a'), 'a.csv.bz2', 0);
    const notes = join(tmp.sub('idx'), 'notes.csv');
    const text = 'id,name\n1,precious\n';
    writeFileSync(notes, text);
    await expect(openReader(a, { index: notes, parallelism: 1 })).rejects.toMatchObject({ code: 'INDEX_CONFLICT', message: expect.stringMatching(/is not an index file/) });
    await expect(openIndexed(a, { index: notes, records: 'csv', parallelism: 1, ifStale: 'error' })).rejects.toMatchObject({ code: 'INDEX_CONFLICT' });
    const result = await cli('index', a, '--index', notes);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(notes);
    expect(readFileSync(notes, 'utf8')).toBe(text);
    const empty = join(tmp.sub('idx'), 'empty.sdx');
    writeFileSync(empty, '');
    expect(await opened(a, 0, { index: empty })).toBe('built');
    expect(await opened(a, 0, { index: empty, ifStale: 'error' })).toBe('loaded');
  });

  it("the command line: `seekdata index B --index P` where P is A's index fails naming both and leaves P alone", async () => {
    const a = dataFile(tmp.sub('a'), 'a.csv.xz', 0, 'xz');
    const b = dataFile(tmp.sub('b'), 'b.csv.xz', 1, 'xz');
    const shared = join(tmp.sub('idx'), 'shared.sdx');
    expect((await cli('index', a, '--index', shared, '--records', 'lines')).code).toBe(0);
    const before = readFileSync(shared);
    const result = await cli('index', b, '--index', shared, '--records', 'lines');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(a);
    expect(result.stderr).toContain(b);
    expect(readFileSync(shared).equals(before)).toBe(true);
  });

  it('two processes at once, two data files, one index path: one keeps it, the other is refused or saves none; nothing mixed', async () => {
    const a = dataFile(tmp.sub('a'), 'a.csv.bz2', 0);
    const b = dataFile(tmp.sub('b'), 'b.csv.bz2', 1);
    const index = join(tmp.sub('idx'), 'shared.sdx');
    const child = (path: string): Promise<{ code: number | null; stdout: Buffer; stderr: string }> =>
      runTsx([new URL('./support/ownership-child.ts', import.meta.url).pathname, path, index, '1', 'reader']);
    const results = await Promise.all([child(a), child(b)]);
    const outs = results.map((r) => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout.toString()) as { status: string | null; code: string | null; warnings: string[]; bytes: number };
    });
    // The index now at the path belongs to one of them, and loads for it.
    const recorded = await ownerRecorded(index);
    expect([a, b]).toContain(recorded);
    const owner = recorded === a ? 0 : 1;
    expect(await opened([a, b][owner], owner, { index, ifStale: 'error' })).toBe('loaded');
    const loser = outs[1 - owner];
    const refused = loser.code === 'INDEX_CONFLICT';
    const unsaved = loser.code === null && loser.warnings.some((w) => /could not save index to .*belongs to/.test(w));
    expect(refused || unsaved, JSON.stringify(loser)).toBe(true);
    if (!refused) expect(loser.bytes).toBe(texts[1 - owner].length);
    expect(outs[owner]).toMatchObject({ code: null, bytes: texts[owner].length });
  });

  it('a damaged index is nobody\'s: rebuilt with a warning (ifStale rebuild) or CORRUPT_INDEX (ifStale error), as before', async () => {
    const a = dataFile(tmp.sub('a'), 'a.csv.bz2', 0);
    const b = dataFile(tmp.sub('b'), 'b.csv.bz2', 1);
    const index = join(tmp.sub('idx'), 'x.sdx');
    expect(await opened(a, 0, { index })).toBe('built');
    const bytes = readFileSync(index);
    bytes[29] ^= 0xff; // the header's checksum: nothing of the file can be trusted, not even its owner
    writeFileSync(index, bytes);
    await expect(openReader(b, { index, ifStale: 'error', parallelism: 1 })).rejects.toMatchObject({ code: 'CORRUPT_INDEX' });
    const warnings: string[] = [];
    expect(await opened(b, 1, { index, onWarning: (m) => warnings.push(m) })).toBe('rebuilt');
    expect(warnings.join('\n')).toMatch(/corrupt index file/);
    expect(await opened(b, 1, { index, ifStale: 'error' })).toBe('loaded');
  });

  it('an index written before indexes recorded their owner stays readable; one of another file is not overwritten', async () => {
    const a = dataFile(tmp.sub('a'), 'a.csv.bz2', 0);
    const b = dataFile(tmp.sub('b'), 'b.csv.bz2', 1);
    const index = join(tmp.sub('idx'), 'old.sdx');
    expect(await opened(a, 0, { index })).toBe('built');
    // Rewrite it as an older seekdata did: the same sections, `meta` without `owner`, `source` the path as given.
    const opening = await openIndexFile(index);
    if (opening.kind !== 'index') throw new Error(`expected an index, got ${opening.kind}`);
    const sections = await opening.file.loadPrefix('');
    await opening.file.close();
    const meta = sections.get('meta') as { json: Record<string, unknown> };
    expect(meta.json.owner).toBe(a);
    delete meta.json.owner;
    await writeIndexFile(index, new Map<string, SectionValue>([...sections]));
    const before = readFileSync(index);
    expect(await opened(a, 0, { index, ifStale: 'error' })).toBe('loaded');
    await expect(openReader(b, { index, parallelism: 1 })).rejects.toMatchObject({ code: 'INDEX_CONFLICT' });
    expect(readFileSync(index).equals(before)).toBe(true);
  });

  it("an identical copy of the data (same bytes and mtime) may use the index, but does not take it over", async () => {
    const a = dataFile(tmp.sub('a'), 'a.csv.bz2', 0);
    const copy = join(tmp.sub('copy'), 'copy.csv.bz2');
    writeFileSync(copy, readFileSync(a));
    const stamp = new Date(Date.now() - 60_000);
    utimesSync(a, stamp, stamp);
    utimesSync(copy, stamp, stamp);
    const index = join(tmp.sub('idx'), 'a.sdx');
    expect(await opened(a, 0, { index })).toBe('built');
    expect(await opened(copy, 0, { index, ifStale: 'error' })).toBe('loaded');
    const before = readFileSync(index);
    // The copy asks for a record layer the index lacks: building it would replace A's index.
    await expect(openIndexed(copy, { index, records: 'lines', parallelism: 1 })).rejects.toMatchObject({ code: 'INDEX_CONFLICT' });
    expect(readFileSync(index).equals(before)).toBe(true);
  });
});

describe('derived paths', () => {
  it('a file that is no index at <file>.sdx is left alone: the index goes to the cache directory, with a warning', async () => {
    const a = dataFile(tmp.sub('a'), 'a.csv.bz2', 0);
    const text = 'my notes, not an index\n';
    writeFileSync(`${a}.sdx`, text);
    const warnings: string[] = [];
    const reader = await openReader(a, { parallelism: 1, onWarning: (m) => warnings.push(m) });
    await expectReads(reader, 0);
    expect(reader.indexPath?.startsWith(join(tmp.dir, 'cache'))).toBe(true);
    await reader.close();
    expect(warnings.join('\n')).toMatch(/a\.csv\.bz2\.sdx is not an index file: it is left as it is; the index goes to the cache directory/);
    expect(readFileSync(`${a}.sdx`, 'utf8')).toBe(text);
    expect(await opened(a, 0, {})).toBe('loaded');
    expect(readFileSync(`${a}.sdx`, 'utf8')).toBe(text);
  });

  it("a file that is no manifest at a collection manifest's path is left alone (a warning), the collection opens right", async () => {
    const dir = tmp.sub('coll');
    const parts = [dataFile(dir, 'p0.csv.bz2', 0), dataFile(dir, 'p1.csv.bz2', 1)];
    const first = await openCollection(parts, { records: 'lines', parallelism: 1 });
    const manifest = first.report.manifestWritten;
    await first.close();
    expect(manifest).toBeDefined();
    if (manifest === undefined) return;
    const text = 'not a manifest\n';
    writeFileSync(manifest, text);
    const warnings: string[] = [];
    const again = await openCollection(parts, { records: 'lines', parallelism: 1, manifest: 'refresh', onWarning: (m) => warnings.push(m) });
    expect(again.report.records).toBe(lines(texts[0]) + lines(texts[1]));
    expect(again.report.manifestWritten).toBeUndefined();
    await again.close();
    expect(warnings.join('\n')).toContain(`${manifest} is not a collection manifest`);
    expect(readFileSync(manifest, 'utf8')).toBe(text);
  });
});

describe('two data files of the same name', () => {
  it('in one index directory: each keeps its own index across alternating opens (readers and record indexes)', async () => {
    const x = dataFile(tmp.sub('x'), 'data.csv.bz2', 0);
    const y = dataFile(tmp.sub('y'), 'data.csv.bz2', 1);
    const dir = tmp.sub('indexes');
    const paths = new Set<string>();
    for (let round = 0; round < 3; round++) {
      for (const [path, k] of [[x, 0], [y, 1]] as const) {
        const file = await openIndexed(path, { index: dir, records: 'lines', parallelism: 1 });
        expect(file.report.status).toBe(round === 0 ? 'built' : 'loaded');
        expect(file.report.records).toBe(lines(texts[k]));
        await expectReads(file.reader, k);
        if (file.report.indexPath !== undefined) paths.add(file.report.indexPath);
        await file.close();
        expect(await opened(path, k, { index: dir, ifStale: 'error' })).toBe('loaded');
      }
    }
    expect(paths.size).toBe(2);
    expect(readdirSync(dir).sort()).toHaveLength(2);
    // The first keeps the documented name; the second gets one with a hash of its full path.
    expect(readdirSync(dir)).toContain('data.csv.bz2.sdx');
    expect(readdirSync(dir).some((name) => /^data\.csv\.bz2-[0-9a-f]{16}\.sdx$/.test(name))).toBe(true);
  });

  it('in one index directory, opened by two processes at once: each keeps its own index', async () => {
    const x = dataFile(tmp.sub('x'), 'data.csv.xz', 0, 'xz');
    const y = dataFile(tmp.sub('y'), 'data.csv.xz', 1, 'xz');
    const dir = tmp.sub('indexes');
    const child = (path: string): Promise<{ code: number | null; stdout: Buffer; stderr: string }> =>
      runTsx([new URL('./support/ownership-child.ts', import.meta.url).pathname, path, dir, '4', 'records']);
    const [one, two] = await Promise.all([child(x), child(y)]);
    expect(one.stderr).toBe('');
    expect(two.stderr).toBe('');
    expect([one.code, two.code]).toEqual([0, 0]);
    expect(JSON.parse(one.stdout.toString())).toEqual({ records: Array(4).fill(lines(texts[0])) });
    expect(JSON.parse(two.stdout.toString())).toEqual({ records: Array(4).fill(lines(texts[1])) });
    for (const [path, k] of [[x, 0], [y, 1]] as const) {
      const file = await openIndexed(path, { index: dir, records: 'lines', parallelism: 1, ifStale: 'error' });
      expect(file.report.status).toBe('loaded');
      expect(file.report.records).toBe(lines(texts[k]));
      await file.close();
    }
  });

  it('in one collection with an index directory: each file keeps its own index', async () => {
    const x = dataFile(tmp.sub('x'), 'part.csv.gz', 0, 'gzip');
    const y = dataFile(tmp.sub('y'), 'part.csv.gz', 1, 'gzip');
    const dir = tmp.sub('indexes');
    for (let round = 0; round < 2; round++) {
      const collection = await openCollection([x, y], { index: dir, records: 'lines', parallelism: 1, manifest: false });
      expect(collection.report.records).toBe(lines(texts[0]) + lines(texts[1]));
      expect(collection.report.indexes).toMatchObject(round === 0 ? { built: 2 } : { loaded: 2 });
      await collection.close();
    }
    for (const [path, k] of [[x, 0], [y, 1]] as const) expect(await opened(path, k, { index: dir, ifStale: 'error' })).toBe('loaded');
  });

  describe('remote', () => {
    let http: RangeServer;
    let s3: S3Server;
    const compressed = [bzip2(texts[0], 1), bzip2(texts[1], 1)];
    beforeAll(async () => {
      useTestCredentials();
      http = await startRangeServer({ 'a/data.csv.bz2': compressed[0], 'b/data.csv.bz2': compressed[1] });
      s3 = await startS3();
      for (const [k, bucket] of ['seekdata-own-one', 'seekdata-own-two'].entries()) {
        await s3.createBucket(bucket);
        await s3.put(bucket, 'data.csv.bz2', compressed[k]);
      }
    });
    afterAll(async () => {
      await http.close();
      await s3.close();
    });

    it('URLs with the same last path segment: each keeps its own index in the cache directory', async () => {
      for (let round = 0; round < 2; round++) {
        expect(await opened(http.url('a/data.csv.bz2'), 0, {})).toBe(round === 0 ? 'built' : 'loaded');
        expect(await opened(http.url('b/data.csv.bz2'), 1, {})).toBe(round === 0 ? 'built' : 'loaded');
      }
    });

    it('s3 objects with the same key in two buckets: each keeps its own index; an explicit path of one is refused to the other', async () => {
      const endpoint = s3.endpoint;
      for (let round = 0; round < 2; round++) {
        expect(await opened('s3://seekdata-own-one/data.csv.bz2', 0, { endpoint })).toBe(round === 0 ? 'built' : 'loaded');
        expect(await opened('s3://seekdata-own-two/data.csv.bz2', 1, { endpoint })).toBe(round === 0 ? 'built' : 'loaded');
      }
      const index = join(tmp.sub('idx'), 'one.sdx');
      expect(await opened('s3://seekdata-own-one/data.csv.bz2', 0, { endpoint, index })).toBe('built');
      await expect(openReader('s3://seekdata-own-two/data.csv.bz2', { endpoint, index, parallelism: 1 })).rejects.toMatchObject({
        code: 'INDEX_CONFLICT',
        message: expect.stringContaining('s3://seekdata-own-one/data.csv.bz2'),
      });
      expect(await opened('s3://seekdata-own-one/data.csv.bz2', 0, { endpoint, index, ifStale: 'error' })).toBe('loaded');
    });
  });
});
