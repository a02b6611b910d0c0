/**
 * Issue 8, item 5: a compressed file cut to a few bytes is TRUNCATED (naming the file), never plain text
 * and never "unsupported": by its name (.bz2, .xz, .gz, ... too short for the format's header) or by its
 * content (a proper prefix of a format's magic). Real tiny text files still read as plain.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { closeSharedPool, detectFormat, isSeekdataError, openIndexed, openReader, type SeekdataError } from '../src/index.js';
import { bzip2, makeText, run, tempDir, writeFixture, xz } from './support/fixtures.js';

const tmp = tempDir('seekdata-detect-');
afterAll(async () => {
  await closeSharedPool();
  tmp.cleanup();
});

const text = makeText(20_000, 5);
const compressed: Record<string, Buffer> = {
  bz2: bzip2(text),
  xz: xz(text),
  gz: run('gzip', ['-c'], text),
  zst: run('zstd', ['-c', '-q'], text),
};

async function openError(path: string): Promise<SeekdataError> {
  const error = await openReader(path, { index: false }).then(
    async (reader) => {
      await reader.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!isSeekdataError(error)) throw new Error(`${path}: expected a SeekdataError, got ${String(error)}`);
  return error;
}

async function readAll(path: string): Promise<Buffer> {
  const reader = await openReader(path, { index: false });
  const bytes = Buffer.from(await reader.read(0, reader.size));
  await reader.close();
  return bytes;
}

function sink(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString() };
}

describe.each(['bz2', 'xz'])('.%s cut to 0-3 bytes', (ext) => {
  it.each([0, 1, 2, 3])('%i bytes, named .' + ext + ': TRUNCATED naming the file (reader, indexed, CLI cat)', async (n) => {
    const path = writeFixture(tmp.dir, `cut-${n}.${ext}`, compressed[ext].subarray(0, n));
    const error = await openError(path);
    expect(error.code).toBe('TRUNCATED');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(ext === 'bz2' ? /bzip2/ : /xz/);
    await expect(openIndexed(path, { index: false, records: 'lines' })).rejects.toMatchObject({ code: 'TRUNCATED' });
    const out = sink();
    const err = sink();
    expect(await runCli(['cat', path, '--no-index'], { stdout: out.stream, stderr: err.stream })).toBe(1);
    expect(out.text()).toBe('');
    expect(err.text()).toMatch(/truncated/);
  });

  it.each([1, 2, 3])('%i bytes renamed .txt: TRUNCATED where the bytes are telling, plain for a lone text byte', async (n) => {
    const path = writeFixture(tmp.dir, `cut-${ext}-${n}.txt`, compressed[ext].subarray(0, n));
    if (ext === 'bz2' && n === 1) {
      // "B" alone is a one-letter text file as much as a cut bzip2 file: read as text (documented).
      expect((await readAll(path)).toString()).toBe('B');
      return;
    }
    const error = await openError(path);
    expect(error.code).toBe('TRUNCATED');
    expect(error.message).toContain(path);
  });
});

it('the first 4..40 bytes of an xz or bzip2 file are TRUNCATED too (by the container parsers), not CORRUPT_DATA', async () => {
  for (const ext of ['xz', 'bz2']) {
    for (let n = 4; n <= 40; n++) {
      const path = writeFixture(tmp.dir, `head-${n}.${ext}.data`, compressed[ext].subarray(0, n));
      const error = await openError(path);
      expect([n, error.code]).toEqual([n, 'TRUNCATED']);
    }
  }
});

it('real tiny text files still read as plain', async () => {
  for (const [name, content] of [
    ['b.txt', 'B\n'],
    ['empty.txt', ''],
    ['x.csv', 'x'],
    ['open-paren.txt', '('],
    ['bz.txt', 'BZIP2 is a compressor\n'],
  ] as const) {
    const path = writeFixture(tmp.dir, name, Buffer.from(content));
    expect((await readAll(path)).toString()).toBe(content);
  }
});

it('gzip and zstd: cut by name or magic is TRUNCATED; whole files are read (other formats: see below)', async () => {
  for (const ext of ['gz', 'zst']) {
    for (const n of [0, 1, 3, 5]) {
      const path = writeFixture(tmp.dir, `cut-${n}.${ext}`, compressed[ext].subarray(0, n));
      expect([ext, n, (await openError(path)).code]).toEqual([ext, n, 'TRUNCATED']);
    }
    const whole = writeFixture(tmp.dir, `whole.${ext}`, compressed[ext]);
    expect((await readAll(whole)).equals(text)).toBe(true);
  }
  // The whole 2-byte gzip magic under another name: cut short, not "unsupported".
  const magic = writeFixture(tmp.dir, 'gzip-magic.dat', compressed.gz.subarray(0, 2));
  expect((await openError(magic)).code).toBe('TRUNCATED');
  for (const ext of ['lz', 'lzma', 'lz4', 'zip', 'tbz2', 'txz']) {
    const path = writeFixture(tmp.dir, `empty.${ext}`, Buffer.alloc(0));
    expect([ext, (await openError(path)).code]).toEqual([ext, 'TRUNCATED']);
  }
});

it('in-memory data and URLs: truncation by content, and by the URL path ignoring the query', () => {
  expect(detectFormat(Buffer.from('BZh'))).toMatchObject({ format: 'bzip2', truncated: true, by: 'content' });
  expect(detectFormat(Buffer.from('B\n'))).toEqual({ format: 'plain' });
  expect(detectFormat(Buffer.alloc(0))).toEqual({ format: 'plain' });
  expect(detectFormat(Buffer.from([0xfd]))).toMatchObject({ format: 'xz', truncated: true });
  expect(detectFormat(Buffer.from('ab'), { name: 'https://example.org/data.csv.xz?sig=1' })).toMatchObject({ format: 'xz', truncated: true, by: 'name' });
  expect(detectFormat(Buffer.from('ab'), { name: 'https://example.org/data.csv?name=x.xz' })).toEqual({ format: 'plain' });
  // A head shorter than the file is not the whole file: no verdict from its length.
  expect(detectFormat(Buffer.from('BZ'), { size: 1000 })).toEqual({ format: 'plain' });
});
