/**
 * Loading a decoder must not change how the user's process treats its own errors. The emscripten glue of
 * @foxglove/wasm-bz2 (and of libbzip2-wasm, the bzip2 writer's) adds an `uncaughtException` listener that
 * rethrows and an `unhandledRejection` one that throws: an application whose own handler logs a rejection and
 * carries on would die, and a rethrow that lands inside a native call aborts the process (FATAL napi_throw).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadBzip2Wasm } from '../src/readers/bzip2/wasm.js';
import { loadBzip2Encoder } from '../src/readers/write/bzip2.js';
import { withoutProcessListeners } from '../src/util.js';
import { bzip2, makeText, tempDir, writeFixture } from './support/fixtures.js';
import { runTsx } from './support/process.js';

const tmp = tempDir('seekdata-listeners-');
afterAll(() => tmp.cleanup());

const counts = (): number[] => [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];

describe('process-wide error listeners', () => {
  it('loading libbzip2 (WebAssembly) for reading adds none', async () => {
    const before = counts();
    const wasm = await loadBzip2Wasm();
    expect(typeof wasm.decompress).toBe('function');
    expect(counts()).toEqual(before);
  });

  it('loading libbzip2 (WebAssembly) for writing adds none', async () => {
    const before = counts();
    await loadBzip2Encoder();
    expect(counts()).toEqual(before);
  });

  it('withoutProcessListeners removes only what its function added, also when it throws', () => {
    const mine = (): void => {};
    process.on('unhandledRejection', mine);
    const before = counts();
    expect(() => withoutProcessListeners(() => {
      process.on('uncaughtException', () => {});
      process.on('unhandledRejection', () => {});
      throw new Error('boom');
    })).toThrow('boom');
    expect(counts()).toEqual(before);
    expect(process.listeners('unhandledRejection')).toContain(mine);
    process.removeListener('unhandledRejection', mine);
  });

  it("an application's own unhandledRejection handler still decides, after seekdata decoded bzip2 in its thread", async () => {
    const data = makeText(300_000, 5);
    const file = writeFixture(tmp.dir, 'listeners.csv.bz2', bzip2(data));
    const child = await runTsx(['test/support/listeners-child.ts', file]);
    expect(child.stderr).not.toMatch(/FATAL|left unhandled/);
    expect(child.code).toBe(0);
    const out = JSON.parse(child.stdout.toString()) as { text: string; decoders: Record<string, number>; seen: string[]; before: number[]; after: number[] };
    expect(out.text).toBe(data.subarray(0, 20).toString());
    expect(out.decoders.wasm).toBeGreaterThan(0);
    expect(out.seen).toEqual(['left unhandled by the application']);
    expect(out.after).toEqual(out.before);
  }, 60_000);
});
