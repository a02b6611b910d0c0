/**
 * Chunk decoding as plain data in, bytes out: the same function runs inline (parallelism 1) and inside the
 * Piscina workers, so both paths decode identically.
 */
import { decodeBzip2Block, type Bzip2BlockTask } from './bzip2/block.js';
import { decodeXzBlock, type XzBlockTask } from './xz/block.js';

export type DecodeTask = { kind: 'bzip2'; block: Bzip2BlockTask } | { kind: 'xz'; block: XzBlockTask };

export interface DecodeResult {
  bytes: Uint8Array;
  /** bzip2 only: bit position just past the block, relative to the task's data. */
  endBit: number;
  /** bzip2 only: the stored (and verified) block CRC. */
  crc: number;
}

export function runDecodeTask(task: DecodeTask): DecodeResult {
  if (task.kind === 'bzip2') return decodeBzip2Block(task.block);
  return { bytes: decodeXzBlock(task.block), endBit: 0, crc: 0 };
}
