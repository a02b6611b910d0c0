/** Small helpers shared across layers. */

/** A promise's outcome as a value: lets work start early without unhandled rejections if nobody waits. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value): Settled<T> => ({ ok: true, value }),
    (error: unknown): Settled<T> => ({ ok: false, error }),
  );
}

/** The value of a settled promise, or its error thrown. */
export function unwrap<T>(settled: Settled<T>): T {
  if (!settled.ok) throw settled.error;
  return settled.value;
}

/** `fn`, acting at its first call only (a late second call does nothing). */
export function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** Byte arrays joined into one (the array itself when there is just one). */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Runs `start` (synchronous) and removes the `uncaughtException` and `unhandledRejection` listeners it added.
 * Old emscripten glue (libbzip2-wasm, @foxglove/wasm-bz2) adds a rethrowing one of each when its module
 * factory runs: loading a decoder must not change how the user's process treats its own errors (their handler
 * that logs and carries on would be overridden, and a rethrow inside a native call aborts the process).
 */
export function withoutProcessListeners<T>(start: () => T): T {
  const exceptions = new Set(process.listeners('uncaughtException'));
  const rejections = new Set(process.listeners('unhandledRejection'));
  try {
    return start();
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!exceptions.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!rejections.has(l)) process.removeListener('unhandledRejection', l);
  }
}

/** The part of the WebAssembly API used to instantiate a module (the project's lib settings leave it out). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

/** The exports of a WebAssembly module without imports, compiled and instantiated from its bytes. */
export function instantiateWasm(bytes: Uint8Array): object {
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) throw new Error('this runtime has no WebAssembly');
  return new api.Instance(new api.Module(bytes), {}).exports;
}
