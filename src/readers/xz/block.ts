/**
 * Decoding one xz block with liblzma (lzma-native). The block is wrapped in a synthetic single-block
 * stream (stream header + the block as stored + a one-record index + stream footer), the technique of
 * python-xz, so liblzma itself checks the block header, the filters, the block's integrity check and that
 * the block's sizes agree with the index.
 */
import lzma, { type LzmaNativeError } from 'lzma-native';
import { SeekdataError, type SeekdataErrorCode } from '../../errors.js';
import { padded4 } from './container.js';
import { xzIndexAndFooter, xzStreamHeader } from './synthetic.js';

/** A Buffer over the same bytes (no copy), as lzma-native's stream takes. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface XzBlockMeta {
  /** Byte offset of the block header in the file (for error messages). */
  offset: number;
  unpaddedSize: number;
  uncompressedSize: number;
  checkType: number;
  file: string;
}

export interface XzBlockTask extends XzBlockMeta {
  /** The stored block: header, compressed data, padding and check (padded size bytes). */
  data: Uint8Array;
  /**
   * A block without a check (`--check=none`) whose sub-span CRC-32s the index holds (recorded by the pass
   * that decoded it, sub-crcs.ts): its only check, so every whole decode of it must match them.
   */
  subCrcs?: { span: number; crcs: Uint8Array } | undefined;
}

/** The SeekdataError code of a liblzma failure, by its lzma_ret name. */
export function errorCode(name: string): SeekdataErrorCode {
  if (name === 'LZMA_OPTIONS_ERROR' || name === 'LZMA_UNSUPPORTED_CHECK') return 'UNSUPPORTED_FORMAT';
  if (name === 'LZMA_BUF_ERROR') return 'TRUNCATED';
  return 'CORRUPT_DATA';
}

/** An incremental decoder for one block: feed the stored block bytes in slices, collect the output. */
export interface XzBlockStream {
  /** Decoded bytes produced so far. */
  produced: number;
  /** Stored block bytes fed so far. */
  consumed: number;
  /**
   * Feeds stored block bytes; returns the output they produced. With `until`, a decoder may stop once it has
   * produced that many bytes in all, leaving the rest of the slice unread: it is then fed no more (a prefix).
   */
  feed(slice: Uint8Array, until?: number): Uint8Array[];
  /** Ends the block (index and footer), letting liblzma verify sizes and check; returns the rest of the output. */
  finish(): Uint8Array[];
  /** Stops early (no verification); frees liblzma's memory. */
  dispose(): void;
}

/**
 * The block streamed by lzma-native (liblzma 5.2): used whole for blocks the fast backends refuse (to give the
 * exact typed error), and slice by slice for blocks too large to decode at once where node-liblzma is not
 * there (liblzma-stream.ts).
 */
export class XzBlockDecoder implements XzBlockStream {
  private readonly stream = new lzma.Stream();
  private error: LzmaNativeError | null = null;
  private pending: Buffer[] = [];
  /** Decoded bytes produced so far. */
  produced = 0;
  /** Stored block bytes fed so far. */
  consumed = 0;

  constructor(
    private readonly meta: XzBlockMeta,
    outputChunk = 1 << 20,
  ) {
    this.stream.streamDecoder({});
    this.stream.setBufsize(Math.max(4096, Math.min(outputChunk, meta.uncompressedSize || 4096)));
    this.stream.bufferHandler = (buf, _processed, err) => {
      if (err) this.error = err;
      else if (buf !== null && buf !== undefined && buf.length > 0) {
        this.pending.push(buf);
        this.produced += buf.length;
      }
    };
    this.code(asBuffer(xzStreamHeader(meta.checkType)));
  }

  private code(input: Buffer | null): void {
    try {
      this.stream.code(input, false);
    } catch (error) {
      this.error = error as LzmaNativeError;
    }
    if (this.error !== null) {
      const name = this.error.name;
      const desc =
        name === 'LZMA_OPTIONS_ERROR'
          ? `uses a filter or option that the bundled liblzma (${String(lzma.versionString?.() ?? 'unknown')}) does not support`
          : (this.error.desc ?? this.error.message);
      const at = this.meta.offset;
      this.stream.resetUnderlying();
      throw new SeekdataError(errorCode(name), `${this.meta.file}: xz block at byte ${at}: ${desc} (${name})`, {
        file: this.meta.file,
        compressedOffset: at,
      });
    }
    if (this.produced > this.meta.uncompressedSize) {
      this.stream.resetUnderlying();
      throw new SeekdataError('CORRUPT_DATA', `${this.meta.file}: xz block at byte ${this.meta.offset} decodes to more than the ${this.meta.uncompressedSize} bytes its index records`, {
        file: this.meta.file,
        compressedOffset: this.meta.offset,
      });
    }
  }

  /** Feeds stored block bytes; returns the output they produced. */
  feed(slice: Uint8Array): Buffer[] {
    this.consumed += slice.length;
    this.code(Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength));
    return this.take();
  }

  /** Ends the block (index and footer), letting liblzma verify sizes and check; returns the rest of the output. */
  finish(): Buffer[] {
    this.code(asBuffer(xzIndexAndFooter(this.meta)));
    this.code(null);
    if (this.produced !== this.meta.uncompressedSize) {
      throw new SeekdataError('CORRUPT_DATA', `${this.meta.file}: xz block at byte ${this.meta.offset} decoded to ${this.produced} bytes, index says ${this.meta.uncompressedSize}`, {
        file: this.meta.file,
        compressedOffset: this.meta.offset,
      });
    }
    return this.take();
  }

  /** Stops early (no verification); frees liblzma's memory. */
  dispose(): void {
    this.stream.resetUnderlying();
  }

  private take(): Buffer[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

/** Decodes a whole block into one array of exactly `uncompressedSize` bytes. */
export function decodeXzBlock(task: XzBlockTask): Uint8Array {
  if (task.data.length !== padded4(task.unpaddedSize)) {
    throw new SeekdataError('TRUNCATED', `${task.file}: xz block at byte ${task.offset} is cut short`, {
      file: task.file,
      compressedOffset: task.offset,
    });
  }
  const out = new Uint8Array(task.uncompressedSize);
  let pos = 0;
  const decoder = new XzBlockDecoder(task, 4 << 20);
  for (const parts of [decoder.feed(task.data), decoder.finish()]) {
    for (const part of parts) {
      out.set(part, pos);
      pos += part.length;
    }
  }
  return out;
}
