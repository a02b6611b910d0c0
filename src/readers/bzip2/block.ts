/** Decoding one bzip2 block at a bit position, with errors that name the file and the offset. */
import { SeekdataError } from '../../errors.js';
import { BlockError, decodeBlock, NeedMoreInput } from './decoder.js';

export interface Bzip2BlockTask {
  /** Compressed bytes holding the block; `data[0]` is byte `base` of the file. */
  data: Uint8Array;
  /** Bit position of the block magic, relative to `data[0]`. */
  bitOffset: number;
  /** Block-size level (1..9) of the stream the block belongs to. */
  level: number;
  /** Byte offset of `data[0]` in the file (for error messages). */
  base: number;
  /** Whether `data` reaches the end of the file (running out of it then means truncation). */
  atEnd: boolean;
  /** File name (for error messages). */
  file: string;
  /**
   * What the chunk map says of the block, when known (reads through a loaded or built chunk map; not
   * during discovery): the bit (relative to `data[0]`) where it ends, its stored CRC and decoded length.
   * The WebAssembly decoder (wasm.ts) needs the end, and checks the block against all three.
   */
  endBit?: number | undefined;
  expectedCrc?: number | undefined;
  expectedLength?: number | undefined;
}

export interface Bzip2BlockResult {
  bytes: Uint8Array;
  /** Bit position (relative to `data[0]`) just past the block: where the next magic starts. */
  endBit: number;
  /** The block CRC stored in the block header (verified against the decoded bytes). */
  crc: number;
}

export function decodeBzip2Block(task: Bzip2BlockTask): Bzip2BlockResult {
  const at = task.base + Math.floor(task.bitOffset / 8);
  try {
    return decodeBlock(task.data, task.bitOffset, task.level);
  } catch (error) {
    if (error instanceof NeedMoreInput) {
      // Running out of input is truncation only when the input was the rest of the file; otherwise the
      // scan gave too short a range (a false block magic inside the block) and tries a longer one.
      throw new SeekdataError('TRUNCATED', `${task.file}: bzip2 data ends inside the block at byte ${at}${task.atEnd ? ' (file truncated?)' : ''}`, {
        file: task.file,
        compressedOffset: at,
      });
    }
    const detail = error instanceof BlockError ? error.message : String(error);
    throw new SeekdataError('CORRUPT_DATA', `${task.file}: corrupt bzip2 block at byte ${at}: ${detail}`, {
      file: task.file,
      compressedOffset: at,
      cause: error,
    });
  }
}
