// Minimal typings for the parts of lzma-native 8 that seekdata uses: the native stream in synchronous
// mode (decoding, and raw LZMA2 encoding for recompress), the constants of LZMA2 options and the native CRC32.
declare module 'lzma-native' {
  export interface LzmaNativeError extends Error {
    code: number;
    name: string;
    desc: string;
  }
  export type BufferHandler = (
    buf: Buffer | null | undefined,
    processedChunks: number | undefined,
    err: LzmaNativeError | null,
    totalIn: number | null,
    totalOut: number | null,
  ) => void;
  export class Stream {
    bufferHandler: BufferHandler;
    streamDecoder(options: { memlimit?: number; flags?: number }): void;
    rawEncoder(options: { filters: Array<{ id: string; options?: Record<string, number> }> }): void;
    setBufsize(size: number): number;
    code(input: Buffer | null, async: boolean): void;
    resetUnderlying(): void;
  }
  export function crc32(input: Buffer, presetCRC32?: number): number;
  export function versionString(): string;
  const lzma: {
    Stream: typeof Stream;
    crc32: typeof crc32;
    versionString?: typeof versionString;
    FILTER_LZMA2: string;
    MODE_FAST: number;
    MODE_NORMAL: number;
    MF_HC3: number;
    MF_HC4: number;
    MF_BT4: number;
  };
  export default lzma;
}
