/**
 * Finding the frames of a zstd file without decoding: from the first byte, read a frame header, hop over
 * its blocks by the sizes in their 3-byte headers, step over the checksum, and go on with the next frame;
 * skippable frames are stepped over by the size in their header. Reads go through a small window, so a
 * run of small blocks costs one read.
 */
import { SeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import { FRAME_HEADER_MAX, frameHeaderSize, magicKind, parseBlockHeader, parseFrameHeader, u32le, type FrameHeader } from './container.js';

/** Bytes read at a time while walking headers. */
const WINDOW_BYTES = 16 << 10;

/** Positional reads through one small window. */
export class HeaderReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;

  constructor(private readonly source: ByteSource) {}

  /**
   * A buffer and the index in it of `offset`, holding at least `n` bytes from there, or every byte up to the
   * end of the source when fewer remain (callers check `available`).
   */
  async at(offset: number, n: number): Promise<{ bytes: Uint8Array; at: number; available: number }> {
    const inside = offset >= this.bufStart && offset - this.bufStart + n <= this.buf.length;
    const reachesEnd = offset >= this.bufStart && this.bufStart + this.buf.length === this.source.size;
    if (!inside && !reachesEnd) {
      const length = Math.min(this.source.size - offset, Math.max(n, WINDOW_BYTES));
      this.buf = await this.source.read(offset, length);
      this.bufStart = offset;
    }
    const at = offset - this.bufStart;
    return { bytes: this.buf, at, available: this.buf.length - at };
  }
}

export type WalkedFrame =
  | { kind: 'frame'; start: number; end: number; header: FrameHeader }
  | { kind: 'skippable'; start: number; end: number };

/** Every frame of the source in order; typed errors for truncated, damaged or foreign bytes. */
export async function* walkFrames(source: ByteSource, from = 0): AsyncGenerator<WalkedFrame> {
  const reader = new HeaderReader(source);
  const file = source.name;
  const truncated = (what: string, at: number): SeekdataError =>
    new SeekdataError('TRUNCATED', `${file}: ${what} at byte ${at} is truncated (the file ends at byte ${source.size})`, {
      file,
      compressedOffset: at,
    });
  if (source.size === 0) throw truncated('zstd file', 0);
  let pos = from;
  while (pos < source.size) {
    const head = await reader.at(pos, 8);
    if (head.available < 4) throw truncated('zstd frame', pos);
    const kind = magicKind(u32le(head.bytes, head.at));
    if (kind === 'skippable') {
      if (head.available < 8) throw truncated('zstd skippable frame', pos);
      const end = pos + 8 + u32le(head.bytes, head.at + 4);
      if (end > source.size) throw truncated('zstd skippable frame', pos);
      yield { kind: 'skippable', start: pos, end };
      pos = end;
      continue;
    }
    if (kind !== 'frame') throw notAFrame(file, pos, kind);
    const hb = await reader.at(pos, FRAME_HEADER_MAX);
    if (hb.available < 5 || hb.available < frameHeaderSize(hb.bytes[hb.at + 4])) throw truncated('zstd frame header', pos);
    const header = parseFrameHeader(hb.bytes, hb.at, file, pos);
    let p = pos + header.headerSize;
    for (;;) {
      const b = await reader.at(p, 3);
      if (b.available < 3) throw truncated('zstd frame', pos);
      const block = parseBlockHeader(b.bytes, b.at, file, p);
      p += 3 + block.stored;
      if (p > source.size) throw truncated('zstd frame', pos);
      if (block.last) break;
    }
    if (header.hasChecksum) {
      p += 4;
      if (p > source.size) throw truncated('zstd frame', pos);
    }
    yield { kind: 'frame', start: pos, end: p, header };
    pos = p;
  }
}

function notAFrame(file: string, pos: number, kind: string): SeekdataError {
  if (kind === 'legacy') {
    return new SeekdataError('UNSUPPORTED_FORMAT', `${file}: byte ${pos} starts a frame of a pre-1.0 zstd format (v0.x), which is not supported`, {
      file,
      compressedOffset: pos,
    });
  }
  if (pos === 0) {
    return new SeekdataError('UNSUPPORTED_FORMAT', `${file}: not a zstd file (no zstd magic number at byte 0)`, { file, compressedOffset: 0 });
  }
  return new SeekdataError('CORRUPT_DATA', `${file}: bytes at ${pos} are not a zstd frame (damaged data or trailing garbage after the last frame)`, {
    file,
    compressedOffset: pos,
  });
}
