/**
 * Fixed-size pieces of frames too large to decode at once (a file written by plain `zstd` is one frame).
 * Piece k of a frame is reached by decoding the frame from its start; a few live cursors continue where
 * the last read stopped, so reading a frame's pieces in order decodes it once, and every piece passed on
 * the way is handed to `onPiece` (to cache). The integrity of pieces is that of `streamZstdFrame`.
 */
import { SeekdataError, invalidOption } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import { streamZstdFrame } from './stream.js';
import { frameOf, type ZstdFrameTable } from './table.js';

export interface ZstdPieceOptions {
  /** Size of each piece in decoded bytes (the last piece of a frame is shorter). Default 8 MiB. */
  pieceBytes?: number;
  /** Live cursors (each holds one decoder: the frame's window plus one piece). Default 2. */
  maxCursors?: number;
  /** Receives every piece decoded, including those passed on the way to the one asked for. */
  onPiece?: (frame: number, piece: number, bytes: Uint8Array) => void;
}

export const DEFAULT_PIECE_BYTES = 8 << 20;

interface Cursor {
  frame: number;
  /** Index of the next piece the stream will produce. */
  next: number;
  stream: AsyncGenerator<Uint8Array, void, undefined>;
  lock: Promise<unknown>;
  lastUse: number;
  /** Reads queued or running on this cursor: a busy cursor is never dropped to make room. */
  busy: number;
}

export class ZstdPieceReader {
  private cursors: Cursor[] = [];
  private clock = 0;
  private closed = false;
  readonly pieceBytes: number;
  private readonly maxCursors: number;
  private readonly onPiece: (frame: number, piece: number, bytes: Uint8Array) => void;

  constructor(
    private readonly source: ByteSource,
    private readonly table: ZstdFrameTable,
    options: ZstdPieceOptions = {},
  ) {
    this.pieceBytes = options.pieceBytes ?? DEFAULT_PIECE_BYTES;
    this.maxCursors = options.maxCursors ?? 2;
    if (!Number.isSafeInteger(this.pieceBytes) || this.pieceBytes <= 0) throw invalidOption('pieceBytes', 'a positive integer', this.pieceBytes);
    if (!Number.isSafeInteger(this.maxCursors) || this.maxCursors < 1) throw invalidOption('maxCursors', 'a positive integer', this.maxCursors);
    this.onPiece = options.onPiece ?? (() => {});
  }

  /** Number of pieces of frame `frame`. */
  pieceCount(frame: number): number {
    return Math.ceil((this.table.dStart[frame + 1] - this.table.dStart[frame]) / this.pieceBytes);
  }

  /** Piece `piece` of frame `frame`: decoded bytes [piece * pieceBytes, (piece + 1) * pieceBytes) of the frame. */
  async read(frame: number, piece: number): Promise<Uint8Array> {
    if (this.closed) throw new SeekdataError('CLOSED', `${this.source.name}: the zstd piece reader is closed`, { file: this.source.name });
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.table.count || !Number.isInteger(piece) || piece < 0 || piece >= this.pieceCount(frame)) {
      throw new SeekdataError('OUT_OF_RANGE', `${this.source.name}: no piece ${piece} in zstd frame ${frame}`, { file: this.source.name });
    }
    let cursor: Cursor | undefined;
    for (const c of this.cursors) if (c.frame === frame && c.next <= piece && (cursor === undefined || c.next > cursor.next)) cursor = c;
    cursor ??= await this.open(frame);
    const chosen = cursor;
    chosen.lastUse = ++this.clock;
    chosen.busy++;
    const run = chosen.lock
      .then(() => {
        // Another read may have moved this cursor past the piece, or dropped it, while this one waited.
        if (!this.cursors.includes(chosen) || chosen.next > piece) return this.read(frame, piece);
        return this.advance(chosen, piece);
      })
      .finally(() => {
        chosen.busy--;
      });
    chosen.lock = run.catch(() => undefined);
    return run;
  }

  private async open(frame: number): Promise<Cursor> {
    const stream = streamZstdFrame(this.source, frameOf(this.table, frame), this.pieceBytes);
    const cursor: Cursor = { frame, next: 0, stream, lock: Promise.resolve(), lastUse: ++this.clock, busy: 0 };
    const idle = this.cursors.filter((c) => c.busy === 0).sort((a, b) => a.lastUse - b.lastUse);
    this.cursors.push(cursor);
    for (const c of idle) {
      if (this.cursors.length <= this.maxCursors) break;
      await this.drop(c);
    }
    return cursor;
  }

  private async advance(cursor: Cursor, piece: number): Promise<Uint8Array> {
    let result: Uint8Array | undefined;
    try {
      while (cursor.next <= piece) {
        const step = await cursor.stream.next();
        if (step.done === true) throw new Error(`zstd stream of frame ${cursor.frame} ended before piece ${cursor.next}`);
        this.onPiece(cursor.frame, cursor.next, step.value);
        if (cursor.next === piece) result = step.value;
        cursor.next++;
      }
    } catch (error) {
      await this.drop(cursor);
      throw error;
    }
    if (cursor.next >= this.pieceCount(cursor.frame)) await this.drop(cursor);
    if (result === undefined) throw new Error('zstd piece reader: no piece');
    return result;
  }

  private async drop(cursor: Cursor): Promise<void> {
    this.cursors = this.cursors.filter((c) => c !== cursor);
    // Ends the stream's generator, which frees its decoder.
    await cursor.stream.return(undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const cursors = this.cursors;
    this.cursors = [];
    for (const c of cursors) await c.stream.return(undefined);
  }
}
