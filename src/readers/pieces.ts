/**
 * Big units (an xz file written as one huge block) are read in fixed-size pieces by streaming through the
 * unit from its start (the format's `stream`), keeping a few live streams so that sequential reads stay
 * linear.
 *
 * A unit's check comes only at its end, so a piece decoded on the way there has not been checked. With
 * `verify: 'full'` no piece is handed out unchecked: the first time a unit's pieces are needed, one pass
 * streams the whole unit to its check, recording the CRC32 of every piece (and holding some pieces for the
 * cache, never the whole unit); from then on a piece decoded on its own is handed out only when its CRC32
 * matches. With `'lazy'` pieces are handed out as they are decoded, for callers that drop everything when
 * a later piece of the unit fails (the indexing pass, which fails as a whole).
 */
import { crc32 } from 'node:zlib';
import { SeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import type { ChunkLayout } from './chunks.js';
import type { StreamingFormat, StreamOptions, UnitStream } from './format.js';
import type { PieceCrcTable, UnitTable } from './units.js';

/** Whether bytes are handed out only after their unit's integrity check ('full') or as decoded ('lazy'). */
export type VerifyMode = 'full' | 'lazy';

export interface PieceDecoderOptions {
  verify: VerifyMode;
  /** Receives every piece decoded on the way to the one asked for (once it may be handed out), to cache it. */
  onPiece: (chunk: number, bytes: Uint8Array) => void;
  /** A piece already at hand (the reader's cache), so that it is not decoded again. */
  cached: (chunk: number) => Uint8Array | undefined;
  /** Bytes of pieces a verification pass may hold for the cache, besides the one asked for. */
  holdBytes: number;
}

/** Compressed bytes fed to a streaming decoder per step, and its output pieces. */
const STEPS: StreamOptions = { feedBytes: 256 << 10, outputBytes: 1 << 20 };
const MAX_CURSORS = 2;

interface Cursor {
  unit: number;
  stream: UnitStream;
  /** Decoded bytes of the unit handed out so far (the next byte's offset within the unit). */
  out: number;
  /** Output not yet handed out. */
  pending: Uint8Array[];
  pendingBytes: number;
  /** Whether the stream has ended (the unit's check has passed). */
  finished: boolean;
  /** CRC32 of each piece passed so far, from the unit's first. */
  crcs: number[];
  lock: Promise<unknown>;
  /** Reads queued on or running on this cursor: a busy cursor is not dropped to make room. */
  busy: number;
}

/** The unit table's piece CRC32s when they are for `layout` (loaded from an index, or recorded by a scan). */
export function crcsFor(units: UnitTable, layout: ChunkLayout): PieceCrcTable | undefined {
  const have = units.pieceCrc;
  return have !== undefined && have.bigUnitBytes === layout.big && have.pieceBytes === layout.piece && have.crc.length === layout.count ? have : undefined;
}

/** The CRC table for a layout: the unit table's own when it matches (loaded from an index), else a new one. */
export function pieceCrcTable(units: UnitTable, layout: ChunkLayout): PieceCrcTable {
  const have = units.pieceCrc;
  const same = crcsFor(units, layout);
  if (same !== undefined) return same;
  const table: PieceCrcTable = { bigUnitBytes: layout.big, pieceBytes: layout.piece, crc: new Float64Array(layout.count).fill(-1) };
  // Kept with the chunk map so that an index saved from it keeps them (unless another layout got there first).
  if (have === undefined) units.pieceCrc = table;
  return table;
}

export class PieceDecoder {
  /** The CRC32 of every piece of the units verified so far. */
  readonly crcs: PieceCrcTable;
  private cursors: Cursor[] = [];
  private readonly verifying = new Map<number, Promise<Map<number, Uint8Array>>>();

  constructor(
    private readonly source: ByteSource,
    private readonly units: UnitTable,
    private readonly layout: ChunkLayout,
    private readonly format: StreamingFormat,
    private readonly options: PieceDecoderOptions,
  ) {
    this.crcs = pieceCrcTable(units, layout);
  }

  /** Whether the pieces of unit `u` have known CRCs (the unit passed its block check once). */
  known(u: number): boolean {
    for (let c = this.layout.firstChunk[u]; c <= this.lastPiece(u); c++) if (this.crcs.crc[c] < 0) return false;
    return true;
  }

  /** The bytes of piece `chunk`. */
  async decode(chunk: number): Promise<Uint8Array> {
    const u = this.layout.unit[chunk];
    if (this.options.verify === 'full' && !this.known(u)) {
      const held = await this.verifyUnit(u, chunk);
      const bytes = held.get(chunk);
      if (bytes !== undefined) return bytes;
    }
    return this.options.cached(chunk) ?? this.fromCursor(chunk);
  }

  /** One pass per unit at a time: concurrent reads of its pieces share it. */
  private verifyUnit(u: number, wanted: number): Promise<Map<number, Uint8Array>> {
    const running = this.verifying.get(u);
    if (running !== undefined) return running;
    const pass = this.verifyPass(u, wanted).finally(() => this.verifying.delete(u));
    this.verifying.set(u, pass);
    return pass;
  }

  /**
   * Streams unit `u` to its block check, recording piece CRCs. Holds the wanted piece and, within
   * `holdBytes`, the pieces after it (what a sequential reader asks for next); they go to the cache only
   * once the check has passed.
   */
  private async verifyPass(u: number, wanted: number): Promise<Map<number, Uint8Array>> {
    const held = new Map<number, Uint8Array>();
    let heldBytes = 0;
    await this.advance(this.makeCursor(u), this.lastPiece(u), (piece, bytes) => {
      if (piece === wanted) held.set(piece, bytes);
      else if (piece > wanted && heldBytes + bytes.length <= this.options.holdBytes) {
        held.set(piece, bytes);
        heldBytes += bytes.length;
      }
    });
    for (const [piece, bytes] of held) this.options.onPiece(piece, bytes);
    return held;
  }

  private lastPiece(u: number): number {
    return (u + 1 < this.units.count ? this.layout.firstChunk[u + 1] : this.layout.count) - 1;
  }

  /** Decodes a piece with a live cursor of its unit that has not passed it yet (or a new one). */
  private fromCursor(chunk: number): Promise<Uint8Array> {
    const u = this.layout.unit[chunk];
    const pieceStart = this.layout.start[chunk] - this.units.dStart[u];
    const chosen = this.cursors.find((c) => c.unit === u && c.out <= pieceStart) ?? this.newCursor(u);
    chosen.busy++;
    const run = chosen.lock
      .then(() => {
        // Another read may have moved or dropped this cursor while we waited for it.
        if (!this.cursors.includes(chosen) || chosen.out > pieceStart) return this.fromCursor(chunk);
        return this.advance(chosen, chunk, this.options.onPiece);
      })
      .finally(() => {
        chosen.busy--;
      });
    chosen.lock = run.catch(() => undefined);
    return run;
  }

  private makeCursor(u: number): Cursor {
    const stream = this.format.stream(this.source, this.units, u, STEPS);
    return { unit: u, stream, out: 0, pending: [], pendingBytes: 0, finished: false, crcs: [], lock: Promise.resolve(), busy: 0 };
  }

  private newCursor(u: number): Cursor {
    const cursor = this.makeCursor(u);
    this.cursors.push(cursor);
    for (const c of [...this.cursors]) {
      if (this.cursors.length <= MAX_CURSORS) break;
      if (c.busy === 0 && c !== cursor) this.drop(c);
    }
    return cursor;
  }

  /**
   * Streams the cursor forward until piece `until` is complete. Every piece passed is checked against its
   * known CRC (when known), and the unit's last piece only after the block check; then given to `sink`.
   */
  private async advance(cursor: Cursor, until: number, sink: (chunk: number, bytes: Uint8Array) => void): Promise<Uint8Array> {
    const u = cursor.unit;
    const unitStart = this.units.dStart[u];
    const first = this.layout.firstChunk[u];
    const last = this.lastPiece(u);
    let result: Uint8Array | undefined;
    try {
      while (result === undefined) {
        const piece = first + cursor.crcs.length;
        const pieceEnd = this.layout.start[piece + 1] - unitStart;
        while (cursor.out + cursor.pendingBytes < pieceEnd) await this.step(cursor, true);
        const bytes = takeBytes(cursor, pieceEnd - cursor.out);
        cursor.out = pieceEnd;
        // The block check comes after the last byte: the last piece waits for it.
        if (piece === last) while (!cursor.finished) await this.step(cursor, false);
        const crc = crc32(bytes);
        this.checkPiece(u, piece, crc);
        cursor.crcs.push(crc);
        if (piece === last && !this.known(u)) this.crcs.crc.set(cursor.crcs, first);
        sink(piece, bytes);
        if (piece === until) result = bytes;
        if (piece === last) break;
      }
    } catch (error) {
      this.drop(cursor);
      throw error;
    }
    if (cursor.finished) this.drop(cursor);
    if (result === undefined) throw new Error(`internal: piece ${until} is not in unit ${u}`);
    return result;
  }

  /** Runs the next step of the cursor's stream; at its end (the unit verified), output still wanted is damage. */
  private async step(cursor: Cursor, wantOutput: boolean): Promise<void> {
    const at = this.units.cStart[cursor.unit];
    const parts = cursor.finished ? null : await cursor.stream.step();
    if (parts === null) {
      cursor.finished = true;
      if (!wantOutput) return;
      throw new SeekdataError('CORRUPT_DATA', `${this.source.name}: ${this.format.unitName} at byte ${at} ended early`, { file: this.source.name, compressedOffset: at });
    }
    for (const p of parts) {
      cursor.pending.push(p);
      cursor.pendingBytes += p.length;
    }
  }

  private checkPiece(u: number, piece: number, crc: number): void {
    const want = this.crcs.crc[piece];
    if (want < 0 || want === crc) return;
    const units = this.units;
    const from = this.layout.start[piece];
    throw new SeekdataError(
      'CORRUPT_DATA',
      `${this.source.name}: ${this.format.unitName} at byte ${units.cStart[u]}: decompressed bytes ${from}..${this.layout.start[piece + 1]} do not match the CRC32 recorded when the ${this.format.unitName} was verified (file changed or damaged?)`,
      { file: this.source.name, compressedOffset: units.cStart[u], offset: from },
    );
  }

  private drop(cursor: Cursor): void {
    cursor.stream.dispose();
    this.cursors = this.cursors.filter((c) => c !== cursor);
  }

  close(): void {
    for (const c of this.cursors) c.stream.dispose();
    this.cursors = [];
  }
}

function takeBytes(cursor: Cursor, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let pos = 0;
  while (pos < n) {
    const head = cursor.pending[0];
    const take = Math.min(head.length, n - pos);
    out.set(head.subarray(0, take), pos);
    pos += take;
    if (take === head.length) cursor.pending.shift();
    else cursor.pending[0] = head.subarray(take);
  }
  cursor.pendingBytes -= n;
  return out;
}
