/**
 * Sequential large reads over a ByteSource for the gzip passes: one piece of `readSize` bytes in memory
 * at a time (never the whole file), handed out as views from any position inside it. Shared with the
 * trailing-data check, which both passes apply after the last member.
 */
import { invalidOption } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';

export const DEFAULT_READ_SIZE = 4 << 20;

export class SourceCursor {
  private piece: Uint8Array = new Uint8Array(0);
  private pieceStart = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly readSize: number,
  ) {}

  get size(): number {
    return this.source.size;
  }

  /**
   * The bytes from `pos` to the end of the piece in memory, at least min(want, size - pos) of them (empty
   * at the end of the source). Reads a new piece from `pos` when the one in memory does not cover that.
   */
  async at(pos: number, want: number): Promise<Uint8Array> {
    const end = Math.min(this.source.size, pos + want);
    const pieceEnd = this.pieceStart + this.piece.length;
    if (pos >= this.pieceStart && end <= pieceEnd && pos < pieceEnd) return this.piece.subarray(pos - this.pieceStart);
    if (pos >= this.source.size) return new Uint8Array(0);
    const length = Math.min(this.source.size - pos, Math.max(this.readSize, want));
    this.piece = await this.source.read(pos, length);
    this.pieceStart = pos;
    return this.piece;
  }
}

export function checkPositiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw invalidOption(name, 'a positive integer', value);
  return value;
}

export type GzipWarningCode = 'TRAILING_ZEROS' | 'TRAILING_GARBAGE' | 'BGZF_NO_EOF';

/** Something gzip itself would warn about and go on: data after the last member, a BGZF file without its end marker. */
export interface GzipWarning {
  code: GzipWarningCode;
  message: string;
  file: string;
  /** Where it starts in the compressed file. */
  compressedOffset: number;
}

/** Whether the bytes from `pos` to the end of the source are all zeros (scanned to the end) or not. */
export async function trailingIsZeros(cursor: SourceCursor, pos: number): Promise<boolean> {
  for (let at = pos; at < cursor.size; ) {
    const piece = await cursor.at(at, 1);
    for (let i = 0; i < piece.length; i++) if (piece[i] !== 0) return false;
    at += piece.length;
  }
  return true;
}

/** Reports the bytes from `pos` to the end (after the last member) as zeros or garbage: gzip ignores both with a warning. */
export function reportTrailing(size: number, pos: number, zeros: boolean, file: string, onWarning: ((w: GzipWarning) => void) | undefined): void {
  const n = size - pos;
  const what = zeros ? `${n} bytes of zeros` : `${n} bytes of trailing garbage`;
  onWarning?.({
    code: zeros ? 'TRAILING_ZEROS' : 'TRAILING_GARBAGE',
    message: `${file}: ${what} after the last gzip member (at compressed byte ${pos}), ignored`,
    file,
    compressedOffset: pos,
  });
}
