/**
 * An xz block streamed front to back by node-liblzma's native engine (a newer liblzma than lzma-native's 5.2,
 * 1.6-1.8× its speed on a streamed block: bench/xz-one-block.ts), for the blocks read in pieces (over `bigUnitBytes`: a file written by plain `xz` is one block),
 * prefixes and 'lazy' reads. The same synthetic single-block stream as block.ts's lzma-native decoder
 * (stream header, the block as stored, a one-record index, stream footer), so liblzma checks the block
 * header, its integrity check and its sizes against the index; the same interface and the same typed errors.
 * The engine decodes synchronously into buffers of `outputChunk` bytes handed out as they fill.
 */
import { Buffer } from 'node:buffer';
import { SeekdataError } from '../../errors.js';
import { errorCode, type XzBlockMeta, type XzBlockStream } from './block.js';
import type { Engine, LiblzmaEngine } from './liblzma-into.js';
import { xzIndexAndFooter, xzStreamHeader } from './synthetic.js';

/** liblzma's lzma_ret values past LZMA_STREAM_END, with lzma-native's names and descriptions (from liblzma's base.h). */
const RETURNS: Record<number, [string, string]> = {
  2: ['LZMA_NO_CHECK', 'Input stream has no integrity check'],
  3: ['LZMA_UNSUPPORTED_CHECK', 'Cannot calculate the integrity check'],
  4: ['LZMA_GET_CHECK', 'Integrity check type is now available'],
  5: ['LZMA_MEM_ERROR', 'Cannot allocate memory'],
  6: ['LZMA_MEMLIMIT_ERROR', 'Memory usage limit was reached'],
  7: ['LZMA_FORMAT_ERROR', 'File format not recognized'],
  8: ['LZMA_OPTIONS_ERROR', 'Invalid or unsupported options'],
  9: ['LZMA_DATA_ERROR', 'Data is corrupt'],
  10: ['LZMA_BUF_ERROR', 'No progress is possible'],
  11: ['LZMA_PROG_ERROR', 'Programming error'],
};

export class LiblzmaBlockDecoder implements XzBlockStream {
  private engine: Engine | undefined;
  /** The buffer being filled, and how much of it is filled (a buffer handed out is never written again). */
  private out: Buffer;
  private filled = 0;
  private pending: Buffer[] = [];
  produced = 0;
  consumed = 0;

  constructor(
    private readonly lib: LiblzmaEngine,
    private readonly meta: XzBlockMeta,
    private readonly outputChunk = 1 << 20,
  ) {
    this.engine = lib.create();
    this.out = this.fresh();
    this.code(xzStreamHeader(meta.checkType), lib.run);
  }

  private fresh(): Buffer {
    const left = this.meta.uncompressedSize - this.produced;
    // Room past the block's recorded size, so a block that decodes to more is seen (and refused). At least
    // 4 KiB: such a Buffer owns its memory (smaller ones may share Node's pool), so a consumer may move it.
    return Buffer.allocUnsafe(Math.max(4096, Math.min(this.outputChunk, left + 64)));
  }

  /**
   * Runs liblzma over `input` (null: none) with `action` until it has taken all of it and has room left
   * for output, or the stream ended, or (with `until`) it has produced that many bytes in all; returns the
   * last status. Throws the typed error of a failure.
   */
  private code(input: Uint8Array | null, action: number, until = Infinity): number {
    const engine = this.engine;
    if (engine === undefined) throw new Error('internal: xz block decoder used after it was disposed');
    const inBuffer = input === null ? null : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const length = input?.length ?? 0;
    let at = 0;
    for (;;) {
      const [status, inLeft, outLeft] = engine.codeSync(action, inBuffer as Buffer, at, length - at, this.out, this.filled);
      const took = length - inLeft - at;
      at = length - inLeft;
      const made = this.out.length - outLeft - this.filled;
      this.filled += made;
      this.produced += made;
      if (status !== this.lib.ok && status !== this.lib.streamEnd) this.fail(status);
      if (this.produced > this.meta.uncompressedSize) {
        this.dispose();
        throw new SeekdataError('CORRUPT_DATA', `${this.meta.file}: xz block at byte ${this.meta.offset} decodes to more than the ${this.meta.uncompressedSize} bytes its index records`, {
          file: this.meta.file,
          compressedOffset: this.meta.offset,
        });
      }
      if (outLeft === 0) this.handOut();
      if (status === this.lib.streamEnd || this.produced >= until) return status;
      if (outLeft > 0 && inLeft === 0 && action === this.lib.run) return status;
      // liblzma took nothing and made nothing: it cannot go on (what its LZMA_BUF_ERROR says).
      if (took === 0 && made === 0) this.fail(10);
    }
  }

  private fail(status: number): never {
    const [name, desc] = RETURNS[status] ?? ['LZMA_UNKNOWN_ERROR', 'Unknown error code'];
    const text = name === 'LZMA_OPTIONS_ERROR' ? `uses a filter or option that the bundled liblzma (${this.lib.version}) does not support` : desc;
    this.dispose();
    throw new SeekdataError(errorCode(name), `${this.meta.file}: xz block at byte ${this.meta.offset}: ${text} (${name})`, {
      file: this.meta.file,
      compressedOffset: this.meta.offset,
    });
  }

  /** Hands out the filled bytes (a view) and starts a fresh buffer. */
  private handOut(): void {
    if (this.filled === 0) return;
    this.pending.push(this.out.subarray(0, this.filled));
    this.out = this.fresh();
    this.filled = 0;
  }

  private take(): Buffer[] {
    this.handOut();
    const out = this.pending;
    this.pending = [];
    return out;
  }

  feed(slice: Uint8Array, until?: number): Buffer[] {
    this.consumed += slice.length;
    this.code(slice, this.lib.run, until);
    return this.take();
  }

  finish(): Buffer[] {
    this.code(xzIndexAndFooter(this.meta), this.lib.run);
    if (this.code(null, this.lib.finish) !== this.lib.streamEnd) this.fail(10);
    if (this.produced !== this.meta.uncompressedSize) {
      this.dispose();
      throw new SeekdataError('CORRUPT_DATA', `${this.meta.file}: xz block at byte ${this.meta.offset} decoded to ${this.produced} bytes, index says ${this.meta.uncompressedSize}`, {
        file: this.meta.file,
        compressedOffset: this.meta.offset,
      });
    }
    const out = this.take();
    this.dispose();
    return out;
  }

  dispose(): void {
    this.engine?.close();
    this.engine = undefined;
  }
}
