// Minimal typings for the parts of lzma-native 8 that seekdata uses: the native stream in synchronous
// mode and the native CRC32.
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
    setBufsize(size: number): number;
    code(input: Buffer | null, async: boolean): void;
    resetUnderlying(): void;
  }
  export function crc32(input: Buffer, presetCRC32?: number): number;
  export function versionString(): string;
  const lzma: { Stream: typeof Stream; crc32: typeof crc32; versionString?: typeof versionString };
  export default lzma;
}
