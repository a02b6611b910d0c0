/**
 * Decompression bombs, item 3 of the security issue: `maxDecodedBytes` (CLI `--max-decoded-mb`) refuses a
 * size the file states before decoding anything, and stops a decoding scan as soon as the decoded bytes
 * pass the limit (never after decoding everything); progress reports decompressed bytes. Fixtures are
 * zeros piped into the compressors (test/support/bombs.ts), far smaller compressed than decoded.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeekdataError, openIndexed, openReader, type SeekdataError } from '../src/index.js';
import { scanGzip } from '../src/readers/gzip/scan.js';
import { openSource } from '../src/readers/input.js';
import { cli } from './support/cli.js';
import { tempDir } from './support/fixtures.js';
import { makeBomb, type BombKind } from './support/bombs.js';

const MIB = 2 ** 20;
const SIZE = 64 * MIB;
const LIMIT = 4 * MIB;

let dir: string;
let cleanup: () => void;
const files = {} as Record<BombKind, string>;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('seekdata-bombs-'));
  for (const kind of ['bzip2', 'xz', 'gzip', 'zstd', 'zstd-sized', 'bgzf'] as const) files[kind] = await makeBomb(dir, kind, SIZE);
}, 120_000);
afterAll(() => cleanup());

async function limitError(promise: Promise<unknown>): Promise<SeekdataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSeekdataError(error)) throw new Error(`expected a SeekdataError, got ${String(error)}`);
  expect(error.code).toBe('LIMIT_EXCEEDED');
  return error;
}

describe('sizes the file states are refused before decoding', () => {
  for (const kind of ['xz', 'bgzf', 'zstd-sized'] as const) {
    it(`${kind}: LIMIT_EXCEEDED naming the file, the limit and the unit, with nothing decoded`, async () => {
      let decoded = 0;
      let chunks = 0;
      const error = await limitError(
        openReader(files[kind], {
          index: false,
          maxDecodedBytes: LIMIT,
          onProgress: (p) => (decoded = Math.max(decoded, p.decodedBytes ?? 0)),
          onScanChunk: () => void chunks++,
        }),
      );
      expect(error.file).toBe(files[kind]);
      expect(error.message).toContain(files[kind]);
      expect(error.message).toContain(`maxDecodedBytes = ${LIMIT} bytes`);
      expect(error.message).toContain(`decodes to ${SIZE} bytes`);
      expect(error.message).toContain('refused before decoding');
      expect(error.compressedOffset).toBeGreaterThanOrEqual(0);
      // BGZF sizes and a one-frame zstd file would otherwise be checked by decoding every unit once.
      expect(decoded).toBe(0);
      expect(chunks).toBe(0);
    });
  }

  it('the index pass (openIndexed) refuses them too', async () => {
    await limitError(openIndexed(files.xz, { index: false, records: 'lines', maxDecodedBytes: LIMIT }));
  });

  it('a chunk map loaded from an index file is refused before any read', async () => {
    const { dir: idx, cleanup: done } = tempDir('seekdata-bombs-idx-');
    try {
      const reader = await openReader(files.bzip2, { index: idx });
      expect(reader.info().index.status).toBe('built');
      await reader.close();
      const error = await limitError(openReader(files.bzip2, { index: idx, maxDecodedBytes: LIMIT, onScanChunk: () => expect.fail('decoded') }));
      expect(error.message).toContain('chunk map');
      // Without the limit the same index is loaded (fresh), not rebuilt.
      const again = await openReader(files.bzip2, { index: idx, maxDecodedBytes: SIZE });
      expect(again.info().index.status).toBe('loaded');
      await again.close();
    } finally {
      done();
    }
  });
});

describe('sizes learnt only by decoding stop the scan at the limit', () => {
  for (const kind of ['bzip2', 'gzip', 'zstd'] as const) {
    it(`${kind}: the scan stops once it passes the limit, having handed out no byte past it`, async () => {
      let decoded = 0;
      let handed = 0;
      const error = await limitError(
        openReader(files[kind], {
          index: false,
          maxDecodedBytes: LIMIT,
          onProgress: (p) => (decoded = Math.max(decoded, p.decodedBytes ?? 0)),
          onScanChunk: (c) => void (handed = Math.max(handed, c.offset + c.bytes.length)),
        }),
      );
      expect(error.message).toContain(files[kind]);
      expect(error.message).toContain(`maxDecodedBytes = ${LIMIT} bytes`);
      expect(error.message).toContain('while scanning');
      expect(error.offset).toBe(LIMIT);
      expect(decoded).toBeLessThanOrEqual(LIMIT);
      expect(handed).toBeLessThanOrEqual(LIMIT);
    });
  }

  it('gzip: the scan stops inside a deflate block that decodes past the limit, not at its end', async () => {
    // gzip -1 writes zeros in deflate blocks of about 8 MB: the first span ends after the first block.
    const source = await openSource(files.gzip);
    const first = (await scanGzip(source).next()).value;
    await source.close();
    if (first === undefined || typeof first !== 'object' || !('cEnd' in first)) throw new Error('no first unit');
    expect(first.dLength).toBeGreaterThan(2 * MIB);
    const error = await limitError(openReader(files.gzip, { index: false, maxDecodedBytes: MIB }));
    expect(error.compressedOffset).toBeLessThan(first.cEnd / 8);
  });

  it('without a limit the same scans report the decoded bytes in their progress, up to the whole size', async () => {
    for (const kind of ['bzip2', 'gzip', 'zstd'] as const) {
      let decoded = 0;
      const reader = await openReader(files[kind], { index: false, onProgress: (p) => (decoded = Math.max(decoded, p.decodedBytes ?? 0)) });
      expect(reader.size).toBe(SIZE);
      expect(decoded).toBe(SIZE);
      await reader.close();
    }
  });

  it('the index pass (openIndexed) of a scanned format stops too', async () => {
    let decoded = 0;
    const error = await limitError(
      openIndexed(files.gzip, { index: false, records: 'lines', maxDecodedBytes: LIMIT, onProgress: (p) => (decoded = Math.max(decoded, p.decodedBytes ?? 0)) }),
    );
    expect(error.message).toContain('while scanning');
    expect(decoded).toBeLessThanOrEqual(LIMIT);
  });

  it('a limit the file fits passes', async () => {
    const reader = await openReader(files.gzip, { index: false, maxDecodedBytes: SIZE });
    expect(reader.size).toBe(SIZE);
    await reader.close();
  });

  it('a bad limit is an INVALID_OPTION naming the field', async () => {
    const error = await openReader(files.gzip, { index: false, maxDecodedBytes: -1 }).catch((e: unknown) => e);
    expect(isSeekdataError(error, 'INVALID_OPTION') && error.option === 'maxDecodedBytes').toBe(true);
  });
});

describe('CLI', () => {
  it('--max-decoded-mb stops cat with the error on stderr (exit 1), and writes nothing past the limit', async () => {
    const result = await cli('cat', files.bzip2, '--no-index', '--max-decoded-mb', '2');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('maxDecodedBytes = 2097152 bytes');
    expect(result.stderr).toContain('--max-decoded-mb');
    expect(result.stdout.length).toBeLessThanOrEqual(2 * MIB);
  });

  it('--max-decoded-mb refuses an xz file before decoding, in every command that decodes', async () => {
    for (const args of [['info'], ['read', '--offset', '0', '--length', '1'], ['records', '--records', 'lines', '--from', '0']]) {
      const [command, ...rest] = args;
      const result = await cli(command, files.xz, ...rest, '--no-index', '--max-decoded-mb', '0.5');
      expect(result.code, `${command}: ${result.stderr}`).toBe(1);
      expect(result.stderr).toContain('refused before decoding');
    }
  });

  it('recompress takes --max-decoded-mb too, and leaves no output', async () => {
    const out = `${dir}/recompressed.zst`;
    const result = await cli('recompress', files.gzip, out, '--max-decoded-mb', '1');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('maxDecodedBytes = 1048576 bytes');
    expect(existsSync(out)).toBe(false);
  });

  it('a malformed --max-decoded-mb is a usage error', async () => {
    const result = await cli('cat', files.xz, '--max-decoded-mb', 'lots');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--max-decoded-mb must be a number of MiB');
  });

  it('the progress line of indexing reports decoded bytes beside compressed ones', async () => {
    const saved = process.env.SEEKDATA_PROGRESS_SECONDS;
    process.env.SEEKDATA_PROGRESS_SECONDS = '0.001';
    try {
      const result = await cli('info', files.zstd, '--no-index');
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/indexing done: .* MB in .*, 67\.1 MB decoded/);
    } finally {
      if (saved === undefined) delete process.env.SEEKDATA_PROGRESS_SECONDS;
      else process.env.SEEKDATA_PROGRESS_SECONDS = saved;
    }
  });
});
