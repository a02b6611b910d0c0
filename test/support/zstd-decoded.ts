/**
 * A count of the bytes the WebAssembly zstd decoder puts out in this thread (the scan, the pieces of big
 * frames), for tests that check how often a file is decoded. Call at a test file's top level: it spies on the
 * decoder before each test (the caller's afterEach restores the mocks).
 */
import { beforeEach, vi } from 'vitest';
import { WasmFrameDecoder } from '../../src/readers/zstd/wasm-stream.js';

/** Returns `countDecoded()`: a counter of the bytes decoded from the call on. */
export function spyZstdDecoded(): () => () => number {
  let decodedBytes = 0;
  beforeEach(() => {
    decodedBytes = 0;
    const step = WasmFrameDecoder.prototype.step;
    vi.spyOn(WasmFrameDecoder.prototype, 'step').mockImplementation(function (this: WasmFrameDecoder) {
      const out = step.call(this);
      if (out !== null) decodedBytes += out.length;
      return out;
    });
  });
  return () => {
    const from = decodedBytes;
    return () => decodedBytes - from;
  };
}
