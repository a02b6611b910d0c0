/**
 * Decompression bombs and memory, item 3 of the security issue: indexing and reading stay within the
 * configured budgets whatever the ratio. Peak RSS is measured in a child process (test/support/bomb-child.ts)
 * on 2 GiB of zeros, against a generous bound (1 GiB: the whole file would not fit); the full four-format
 * measurement is `npm run bench:bombs`. Each case here failed before its fix: the gzip index pass kept
 * every decoded span (2.3 GB RSS), and one 256 KiB slice of an xz bomb decoded to 1.7 GB in one step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '../src/readers/format.js';
import { formatOf } from '../src/readers/formats.js';
import { unitsWithoutScan } from '../src/readers/discover.js';
import { openSource } from '../src/readers/input.js';
import { makeBomb } from './support/bombs.js';
import { tempDir } from './support/fixtures.js';
import { runTsx } from './support/process.js';

const GIB = 2 ** 30;
const MIB = 2 ** 20;
const BOUND = GIB;

interface ChildReport {
  size: number;
  bytes: number;
  maxRssBytes: number;
  seconds: number;
  error?: string;
}

async function measure(file: string, mode: 'index' | 'read' | 'cat', extra: string[] = [], limit?: number): Promise<ChildReport> {
  const env = { ...process.env, ...(limit === undefined ? {} : { MAX_DECODED_BYTES: String(limit) }) };
  const result = await runTsx(['test/support/bomb-child.ts', file, mode, ...extra], env);
  if (result.code !== 0) throw new Error(`bomb child failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout.toString()) as ChildReport;
}

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir('seekdata-bomb-memory-')));
afterAll(() => cleanup());

describe('2 GiB of zeros: peak RSS stays bounded', () => {
  it('zstd (one frame without a size): the whole index pass, and a limit that stops it early', async () => {
    const file = await makeBomb(dir, 'zstd', 2 * GIB);
    const full = await measure(file, 'index');
    expect(full.error).toBeUndefined();
    expect(full.size).toBe(2 * GIB);
    expect(full.maxRssBytes).toBeLessThan(BOUND);
    const stopped = await measure(file, 'index', [], 64 * MIB);
    expect(stopped.error).toMatch(/^LIMIT_EXCEEDED: .*maxDecodedBytes = 67108864 bytes/);
    expect(stopped.maxRssBytes).toBeLessThan(BOUND);
  }, 300_000);

  it('gzip (one member): the whole checkpoint pass keeps no decoded span', async () => {
    const file = await makeBomb(dir, 'gzip', 2 * GIB);
    const full = await measure(file, 'index');
    expect(full.error).toBeUndefined();
    expect(full.size).toBe(2 * GIB);
    expect(full.maxRssBytes).toBeLessThan(BOUND);
  }, 300_000);
});

describe('one huge xz block streams in pieces whatever its ratio', () => {
  it('no step of the stream yields more than a few MiB, though 256 KiB of input holds the whole block', async () => {
    const size = 256 * MIB;
    const file = await makeBomb(dir, 'xz', size);
    const source = await openSource(file);
    try {
      const units = await unitsWithoutScan(source, 'xz');
      const format = formatOf('xz');
      if (units === undefined || !streams(format)) throw new Error('xz units and stream expected');
      expect(units.count).toBe(1);
      expect(source.size).toBeLessThan(256 << 10);
      const stream = format.stream(source, units, 0, { feedBytes: 256 << 10, outputBytes: MIB });
      let total = 0;
      let largestStep = 0;
      for (let out = await stream.step(); out !== null; out = await stream.step()) {
        const n = out.reduce((sum, piece) => sum + piece.length, 0);
        largestStep = Math.max(largestStep, n);
        total += n;
      }
      expect(total).toBe(size);
      expect(largestStep).toBeLessThanOrEqual(16 * MIB);
    } finally {
      await source.close();
    }
  }, 120_000);
});

describe('a zstd frame whose size only a seek table or index states', () => {
  it('decodes into a buffer of that size and stops past it, whatever the engine asked for', async () => {
    const { decodeZstdFrame } = await import('../src/readers/zstd/decode.js');
    const { readFileSync } = await import('node:fs');
    // 256 MiB of zeros from a pipe: one frame that does not say its size; a lying table says 1 MiB.
    const data = new Uint8Array(readFileSync(await makeBomb(dir, 'zstd', 256 * MIB)));
    for (const engine of ['native', 'wasm'] as const) {
      const error = await decodeZstdFrame({ data, expectedLength: MIB, file: 'bomb.zst', offset: 0, engine }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CORRUPT_DATA' });
      // Stopped past the expected length, rather than decoding all 256 MiB first and comparing.
      expect(String(error)).toContain(`decodes to more than the ${MIB} bytes expected`);
    }
  }, 120_000);
});
