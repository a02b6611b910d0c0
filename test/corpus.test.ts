/**
 * The public conformance corpus (../shared/corpus): bzip2's reference samples and XZ Utils' decoder test
 * files. Good files decode to their reference (bzip2's .ref files, `xz -dc` for xz), bad files fail fast
 * with a typed error, unsupported files and formats fail with UNSUPPORTED_FORMAT.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedPool, isSeekdataError, openReader, type SeekableReader } from '../src/index.js';
import { corpusDir, run } from './support/fixtures.js';

const corpus = corpusDir();
if (corpus === undefined) console.warn('seekdata: ../shared/corpus not found (set SEEKDATA_CORPUS); corpus tests skipped');
const files = (sub: string): string[] => (corpus === undefined ? [] : readdirSync(join(corpus, sub)).sort());

afterAll(closeSharedPool);

async function decodeAll(path: string, parallelism = 2): Promise<Buffer> {
  const reader: SeekableReader = await openReader(path, { index: false, parallelism });
  try {
    const parts: Uint8Array[] = [];
    for await (const part of reader.stream()) parts.push(part);
    const all = Buffer.concat(parts);
    // Random access agrees with the stream too.
    if (all.length > 0) expect(Buffer.from(await reader.read(all.length - 1, 1))).toEqual(all.subarray(-1));
    return all;
  } finally {
    await reader.close();
  }
}

describe.skipIf(corpus === undefined)('bzip2 reference samples', () => {
  it.each(files('bzip2').filter((f) => f.endsWith('.bz2')))('%s decodes to its .ref', async (name) => {
    const dir = join(corpus ?? '', 'bzip2');
    const expected = readFileSync(join(dir, name.replace(/\.bz2$/, '.ref')));
    for (const parallelism of [1, 2]) expect((await decodeAll(join(dir, name), parallelism)).equals(expected)).toBe(true);
  });
});

describe.skipIf(corpus === undefined)('xz test files', () => {
  const dir = join(corpus ?? '', 'xz');

  // The ARM64 filter came with XZ Utils 5.4: node-liblzma (liblzma 5.8) decodes it; lzma-native (liblzma
  // 5.2.3), the decoder without node-liblzma, lacks it.
  const needsNewerLiblzma = (name: string): boolean => name.includes('arm64');

  it.each(files('xz').filter((f) => f.startsWith('good-') && f.endsWith('.xz') && !needsNewerLiblzma(f)))('%s decodes like xz -dc', async (name) => {
    const expected = run('xz', ['-dc', join(dir, name)]);
    expect((await decodeAll(join(dir, name))).equals(expected)).toBe(true);
  });

  it.each(files('xz').filter((f) => f.startsWith('good-') && needsNewerLiblzma(f)))(
    '%s: decodes like xz -dc through node-liblzma, else UNSUPPORTED_FORMAT naming liblzma',
    async (name) => {
      const reader = await openReader(join(dir, name), { index: false, parallelism: 1 });
      const liblzma58 = reader.info().decoder.startsWith('node-liblzma');
      await reader.close();
      const result = await decodeAll(join(dir, name)).catch((e: unknown) => e);
      if (liblzma58) {
        expect(result).toEqual(run('xz', ['-dc', join(dir, name)]));
      } else {
        expect(result).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
        expect(String(result)).toMatch(/liblzma/);
      }
    },
  );

  it.each(files('xz').filter((f) => f.startsWith('bad-') && f.endsWith('.xz')))('%s fails fast with a typed error', async (name) => {
    const started = Date.now();
    const error = await decodeAll(join(dir, name)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(isSeekdataError(error), String(error)).toBe(true);
    expect(['CORRUPT_DATA', 'TRUNCATED']).toContain((error as { code: string }).code);
    expect(String(error)).toContain(name);
  });

  it.each(files('xz').filter((f) => f.startsWith('unsupported-')))('%s fails with UNSUPPORTED_FORMAT', async (name) => {
    await expect(decodeAll(join(dir, name))).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
  });

  it.each(files('xz').filter((f) => f.endsWith('.lz') || f.endsWith('.lzma')))('%s is rejected as an unsupported format', async (name) => {
    const error = await openReader(join(dir, name), { index: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    expect(String(error)).toMatch(/lzip|lzma-alone|unknown binary format/);
  });
});
