/**
 * XXH64, the checksum of zstd frames and of seek-table entries (the low 32 bits of the digest with seed
 * 0). xxhash-wasm computes it in WebAssembly at several GB/s; a JavaScript version over 32-bit halves
 * measured ~40x slower here, which would cost more than decoding the frame.
 */
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

let api: XXHashAPI | undefined;
let loading: Promise<XXHashAPI> | undefined;

/** Loads the WebAssembly module once per thread. */
export async function xxh64Ready(): Promise<void> {
  if (api !== undefined) return;
  loading ??= xxhash();
  api = await loading;
}

function loaded(): XXHashAPI {
  if (api === undefined) throw new Error('xxh64: await xxh64Ready() first');
  return api;
}

/** Low 32 bits of XXH64(bytes, seed 0), as zstd stores it. Call `xxh64Ready()` first. */
export function xxh64Low32(bytes: Uint8Array): number {
  return Number(loaded().h64Raw(bytes) & 0xffffffffn);
}

/** Incremental form, for frames decoded in pieces. */
export class Xxh64Stream {
  private readonly state = loaded().create64();

  update(bytes: Uint8Array): void {
    this.state.update(bytes);
  }

  low32(): number {
    return Number(this.state.digest() & 0xffffffffn);
  }
}
