/**
 * Detection of gzip and zstd files, now that they are read: the truncation rules of trust-detect (a file
 * named .gz / .tgz / .zst / .tzst too short for the header, a proper prefix of the magic) still give
 * TRUNCATED, and so does any longer prefix of a real file (by the format's own parsers), never
 * CORRUPT_DATA, plain text or "unsupported". pzstd output (a skippable frame first) is zstd.
 */
import { afterAll, expect, it } from 'vitest';
import { closeSharedPool, detectFormat, isSeekdataError, openReader } from '../src/index.js';
import { makeText, tempDir, writeFixture } from './support/fixtures.js';
import { bgzip, gzip } from './support/gzip-fixtures.js';
import { pzstd, zstdFile } from './support/zstd.js';

const tmp = tempDir('seekdata-formats-detect-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const text = makeText(30_000, 3);
const files: Record<string, Buffer> = { gz: gzip(text), bgz: bgzip(text), zst: zstdFile(text), pzst: pzstd(text) };

async function outcome(path: string): Promise<string> {
  return openReader(path, { index: false, parallelism: 1 })
    .then(async (reader) => {
      try {
        if (reader.size === 0) return 'empty';
        return Buffer.from(await reader.read(0, reader.size)).equals(text) ? 'read' : 'other bytes';
      } finally {
        await reader.close();
      }
    })
    .catch((e: unknown) => (isSeekdataError(e) ? e.code : `untyped: ${String(e)}`));
}

it('whole files are read; pzstd output (a skippable frame first) is zstd', async () => {
  expect(detectFormat(files.pzst)).toEqual({ format: 'zstd' });
  expect(detectFormat(files.bgz)).toEqual({ format: 'gzip' });
  for (const [ext, bytes] of Object.entries(files)) expect([ext, await outcome(writeFixture(tmp.dir, `whole.${ext}`, bytes))]).toEqual([ext, 'read']);
});

it.each(['gz', 'tgz', 'zst', 'tzst'])('an empty or 1-5 byte file named .%s is TRUNCATED', async (ext) => {
  const source = ext.endsWith('gz') ? files.gz : files.zst;
  for (const n of [0, 1, 2, 3, 4, 5]) expect([n, await outcome(writeFixture(tmp.dir, `short-${n}.${ext}`, source.subarray(0, n)))]).toEqual([n, 'TRUNCATED']);
});

it('every prefix of 2..80 bytes of a gzip, BGZF or zstd file (4..80 of pzstd) under a neutral name is TRUNCATED', async () => {
  for (const [ext, bytes] of Object.entries(files)) {
    // pzstd's skippable magic starts with the text "P*M": two or three bytes of it are a text file.
    // Its first 12 bytes are a whole skippable frame: a valid empty zstd file (zstd -dc gives nothing).
    for (let n = ext === 'pzst' ? 4 : 2; n <= 80; n++) {
      const want = ext === 'pzst' && n === 12 ? 'empty' : 'TRUNCATED';
      const got = await outcome(writeFixture(tmp.dir, `head-${ext}-${n}.data`, bytes.subarray(0, n)));
      expect([ext, n, got]).toEqual([ext, n, want]);
    }
  }
});
