/**
 * The bzip2 scan's reading of the file (scan.ts): windows read in order for the block-magic search, the
 * magics found in them, and the bytes of any range, taken from the windows while they are kept. A window's
 * bytes live in a SharedArrayBuffer, so a speculative decode is posted a view of them (shared with the
 * worker, neither copied nor moved); the buffer is used again for a later window once the walk has passed
 * it and no decode views it.
 */
import { SeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import { concatBytes, once } from '../../util.js';
import { findBlockMagics, magicAt } from './magic.js';

export const WINDOW_BYTES = 4 << 20;
/** Buffers of passed windows kept for the next ones (the walk keeps about two windows, decodes view a third). */
const MAX_SPARE_WINDOWS = 2;

/**
 * A window of the file read for the search: its bytes live in a SharedArrayBuffer, so a block decode is
 * posted a view of them (shared with the worker, neither copied nor moved). `refs`: decodes in flight that
 * view it; its buffer is used again for a later window once the walk has passed it and none views it.
 */
export interface ScanWindow {
  start: number;
  bytes: Uint8Array;
  buffer: Uint8Array;
  refs: number;
  passed: boolean;
}

export class CandidateFinder {
  /** Bit positions of the block magics found so far, in order. */
  readonly hits: number[] = [];
  private scanned = 0;
  /**
   * The windows read for the search, kept until the walk has passed them, so block decodes take their
   * bytes from memory instead of reading them again (which for an HTTP source would download twice).
   */
  private windows: ScanWindow[] = [];
  /** Buffers of windows passed and no longer viewed, for the next windows (no fresh memory per window). */
  private readonly spare: Uint8Array[] = [];
  constructor(
    private readonly source: ByteSource,
    private readonly windowBytes: number,
  ) {}

  private async scanMore(): Promise<boolean> {
    const size = this.source.size;
    if (this.scanned >= size) return false;
    const start = this.scanned;
    const limit = Math.min(this.windowBytes, size - start);
    const length = Math.min(size - start, limit + 6);
    const buffer = this.spare.pop() ?? new Uint8Array(new SharedArrayBuffer(Math.min(size, this.windowBytes + 6)));
    const data = buffer.subarray(0, length);
    if (this.source.readInto !== undefined) {
      await this.source.readInto(start, data);
    } else {
      const read = await this.source.read(start, length);
      // A reused buffer holds an earlier window's bytes: a source that answers short must not leave them in view.
      if (read.length !== length) {
        throw new SeekdataError('IO_ERROR', `${this.source.name}: read of ${length} bytes at offset ${start} returned ${read.length}`, { file: this.source.name, compressedOffset: start });
      }
      data.set(read);
    }
    for (const bit of findBlockMagics(data, limit * 8)) this.hits.push(bit + start * 8);
    this.windows.push({ start, bytes: data.subarray(0, limit), buffer, refs: 0, passed: false });
    this.scanned = start + limit;
    return true;
  }

  /**
   * Bytes [from, to) of the file: from the kept windows when they hold them (a view into a window, with
   * the window, or a fresh array of ours when they span two), else read. `owned`: a fresh array nobody
   * else holds. A view stays valid while the window is kept, or while it is held (`hold`).
   */
  async bytes(from: number, to: number): Promise<{ bytes: Uint8Array; owned: boolean; window?: ScanWindow | undefined }> {
    const first = this.windows[0];
    if (first === undefined || from < first.start || to > this.scanned) return { bytes: await this.source.read(from, to - from), owned: false };
    const parts: Uint8Array[] = [];
    let window: ScanWindow | undefined;
    for (const w of this.windows) {
      const end = w.start + w.bytes.length;
      if (end <= from || w.start >= to) continue;
      parts.push(w.bytes.subarray(Math.max(0, from - w.start), Math.min(w.bytes.length, to - w.start)));
      window = w;
    }
    return parts.length === 1 ? { bytes: parts[0], owned: false, window } : { bytes: concatBytes(parts), owned: true };
  }

  /** Keeps a window's buffer from being used again until the returned function is called (once). */
  hold(window: ScanWindow): () => void {
    window.refs++;
    return once(() => {
      window.refs--;
      this.recycle(window);
    });
  }

  private recycle(window: ScanWindow): void {
    if (window.passed && window.refs === 0 && this.spare.length < MAX_SPARE_WINDOWS) this.spare.push(window.buffer);
  }

  /** Which magic starts at `bit` of the file (undefined: none, or the file ends before its 48 bits). */
  async magicAt(bit: number): Promise<'block' | 'eos' | undefined> {
    const from = Math.floor(bit / 8);
    const to = Math.min(this.source.size, Math.ceil((bit + 48) / 8));
    return magicAt((await this.bytes(from, to)).bytes, bit - from * 8);
  }

  /** Drops the windows that end before byte `at` (the walk will not need them again). */
  release(at: number): void {
    while (this.windows.length > 0 && this.windows[0].start + this.windows[0].bytes.length <= at) {
      const window = this.windows.shift() as ScanWindow;
      window.passed = true;
      this.recycle(window);
    }
  }

  /** Index of the first hit with bit > after (or >= when inclusive), scanning as needed; -1 at end. */
  async next(after: number, inclusive = false): Promise<number> {
    for (;;) {
      let lo = 0;
      let hi = this.hits.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (inclusive ? this.hits[mid] < after : this.hits[mid] <= after) lo = mid + 1;
        else hi = mid;
      }
      // Windows are scanned in order, so every hit before the scanned limit is already known.
      if (lo < this.hits.length) return lo;
      if (!(await this.scanMore())) return -1;
    }
  }
}
