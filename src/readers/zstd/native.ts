/**
 * libzstd through @mongodb-js/zstd 1.2.2 (a Rust napi-rs binding whose prebuilt binaries come as
 * per-platform optional packages, so it installs without install scripts). Both calls run on the libuv
 * thread pool and return Promises. `decompress` decodes every frame of its input, verifying each
 * frame's checksum and content size; `compress` writes frames with neither (see `write.ts`).
 *
 * The package's index.js drops the `level` argument of `compress`, so the binding is loaded directly
 * from its `bindings.js` (present in the published files; the version is pinned exactly).
 */
import { createRequire } from 'node:module';

export interface NativeZstd {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

let binding: NativeZstd | null | undefined;
let loadError: unknown;

/** The binding, or null when it cannot be loaded on this platform (callers fall back to WebAssembly). */
export function nativeZstd(): NativeZstd | null {
  if (binding !== undefined) return binding;
  try {
    const loaded: unknown = createRequire(import.meta.url)('@mongodb-js/zstd/bindings.js');
    binding = isNativeZstd(loaded) ? loaded : null;
    if (binding === null) loadError = new Error('@mongodb-js/zstd/bindings.js has no compress/decompress');
  } catch (error) {
    binding = null;
    loadError = error;
  }
  return binding;
}

/** Why the binding did not load (for messages), when it did not. */
export function nativeLoadError(): unknown {
  return loadError;
}

function isNativeZstd(value: unknown): value is NativeZstd {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { compress?: unknown; decompress?: unknown };
  return typeof v.compress === 'function' && typeof v.decompress === 'function';
}

/** A Buffer over the same memory (the binding takes Buffers only). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
