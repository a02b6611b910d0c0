/**
 * Findings of the hostile gzip/zstd test report (notes/hostile-gz-report.md), each pinned against an
 * independent truth: the plain bytes, or what `gzip -dc` / `zstd -dc` make of the same file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { makeText, run, tempDir, writeFixture } from './support/fixtures.js';
import { openReader } from '../src/index.js';
import { wasmZstdInstances } from '../src/readers/zstd/wasm-stream.js';

const { dir, cleanup } = tempDir('seekdata-hostile-');
afterAll(cleanup);

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
