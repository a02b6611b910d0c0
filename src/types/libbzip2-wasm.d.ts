// Typings for libbzip2-wasm 0.0.4 (libbzip2 1.0.x compiled by emscripten with embind, for CyberChef): the
// module factory and the one function seekdata calls. See src/readers/write/bzip2.ts.
declare module 'libbzip2-wasm' {
  export interface CompressResult {
    /** libbzip2's return code: 0 (BZ_OK) on success. */
    error: number;
    /** The compressed stream: a view into the module's heap, valid until its next call. */
    output: Uint8Array;
  }
  export interface LibBzip2 {
    compressBZ2(input: Uint8Array, blockSize100k: number, workFactor: number): CompressResult;
  }
  /** What the factory returns: the module, with emscripten's "ready" hook (awaiting it directly never settles). */
  export interface LibBzip2Module extends LibBzip2 {
    then?: (ready: (module: LibBzip2Module) => void) => unknown;
  }
  const factory: (overrides?: Record<string, unknown>) => LibBzip2Module;
  export default factory;
}
