/**
 * The baseline of the bzip2 decoder benchmark: one block decoded with seek-bzip (the pure-JS bzip2
 * decoder seekdata started with), driven through its Bunzip internals to decode at a bit position.
 * Benchmark code only: seekdata decodes with src/readers/bzip2/decoder.ts.
 */
import Bunzip from 'seek-bzip';
import CRC32 from 'seek-bzip/lib/crc32.js';
import { SeekdataError } from '../src/errors.js';
import type { Bzip2BlockResult, Bzip2BlockTask } from '../src/readers/bzip2/block.js';

/** Thrown when the decoder needs more input than the task supplied. */
export class NeedMoreInput extends Error {}

class BlockInput {
  pos = 0;
  constructor(
    private readonly data: Uint8Array,
    private readonly level: number,
  ) {}
  readByte(): number {
    if (this.pos >= this.data.length) throw new NeedMoreInput('bzip2 block runs past the supplied input');
    return this.data[this.pos++];
  }
  seek(bytePosition: number): void {
    this.pos = bytePosition;
  }
  /** Only used by Bunzip's constructor to read the stream header: give it a synthetic one. */
  read(buffer: Uint8Array, offset: number, length: number): number {
    const header = [0x42, 0x5a, 0x68, 0x30 + this.level];
    for (let i = 0; i < length; i++) buffer[offset + i] = header[i] ?? 0;
    return length;
  }
}

class GrowableOutput {
  pos = 0;
  constructor(public buffer: Uint8Array) {}
  writeByte(byte: number): void {
    if (this.pos === this.buffer.length) {
      const bigger = new Uint8Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.pos++] = byte;
  }
}

export function decodeWithSeekBzip(task: Bzip2BlockTask): Bzip2BlockResult {
  const input = new BlockInput(task.data, task.level);
  // A block holds at most level * 100 kB before the initial run-length stage; typical text expands little.
  const output = new GrowableOutput(new Uint8Array(task.level * 100_000 + 1024));
  const bz = new Bunzip(input, output);
  const at = task.base + Math.floor(task.bitOffset / 8);
  try {
    bz.reader.seek(task.bitOffset);
    if (!bz._get_next_block()) {
      throw new SeekdataError('CORRUPT_DATA', `${task.file}: expected a bzip2 block at byte ${at}, found an end-of-stream marker`, {
        file: task.file,
        compressedOffset: at,
      });
    }
    const endBit = bz.reader.hasByte ? (input.pos - 1) * 8 + bz.reader.bitOffset : input.pos * 8;
    bz.blockCRC = new CRC32();
    bz.writeCopies = 0;
    bz._read_bunzip();
    return { bytes: output.buffer.subarray(0, output.pos), endBit, crc: bz.targetBlockCRC >>> 0 };
  } catch (error) {
    if (error instanceof SeekdataError) throw error;
    if (error instanceof NeedMoreInput) {
      if (!task.atEnd) throw error;
      throw new SeekdataError('TRUNCATED', `${task.file}: bzip2 data ends inside the block at byte ${at} (file truncated?)`, {
        file: task.file,
        compressedOffset: at,
      });
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new SeekdataError('CORRUPT_DATA', `${task.file}: corrupt bzip2 block at byte ${at}: ${detail}`, {
      file: task.file,
      compressedOffset: at,
      cause: error,
    });
  }
}
