/**
 * Decoding only the start of a unit. A format that streams a unit (`FormatModule.stream`: xz) decodes
 * from the unit's start, so a short read needs only the prefix up to its last byte (on average half the
 * unit). The bytes have NOT passed the unit's check, which comes after its last byte.
 *
 * `PrefixDecoder` serves `verify: 'lazy'` reads: a few live streams are kept so that later reads further
 * into the same unit continue where the last one stopped, the way python-xz keeps its decompressors; a
 * stream that reaches the unit's end verifies its check and hands over the whole unit for caching.
 * `streamPrefix` is the one-shot form, for comparing a prefix with bytes verified before.
 */
import { SeekdataError } from '../errors.js';
import type { ByteSource } from '../sources/source.js';
import type { StreamingFormat, StreamOptions, UnitStream } from './format.js';
import type { UnitTable } from './units.js';

/** Compressed bytes fed per step: small, so a read stops soon after its last byte is decoded. */
const LAZY_STEPS: StreamOptions = { feedBytes: 16 << 10, outputBytes: 64 << 10 };
const MAX_CURSORS = 4;

/** The first `length` decoded bytes of a stream's unit (fewer when the unit is shorter), then the stream is freed. */
export async function streamPrefix(stream: UnitStream, length: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let produced = 0;
  try {
    while (produced < length) {
      const out = await stream.step();
      if (out === null) break;
      for (const part of out) {
        parts.push(part);
        produced += part.length;
      }
    }
  } finally {
    stream.dispose();
  }
  const bytes = new Uint8Array(Math.min(length, produced));
  let at = 0;
  for (const part of parts) {
    if (at === bytes.length) break;
    const take = Math.min(part.length, bytes.length - at);
    bytes.set(part.subarray(0, take), at);
    at += take;
  }
  return bytes;
}

interface PrefixCursor {
  unit: number;
  stream: UnitStream;
  out: Uint8Array;
  produced: number;
  lock: Promise<unknown>;
  /** Reads queued or running on this cursor: a busy cursor is never dropped by trimming. */
  busy: number;
}

export class PrefixDecoder {
  private cursors: PrefixCursor[] = [];

  constructor(
    private readonly source: ByteSource,
    private readonly units: UnitTable,
    private readonly format: StreamingFormat,
    /** Receives a unit's bytes when a cursor has decoded (and verified) all of it. */
    private readonly onComplete: (unit: number, bytes: Uint8Array) => void,
    /** Decoded bytes the live cursors may hold (the reader's cache budget): they are a cache too. */
    private readonly budget: number,
  ) {}

  /** Drops the least recently used cursors beyond the count and byte limits. */
  private trim(): void {
    let bytes = this.cursors.reduce((n, c) => n + c.out.length, 0);
    let count = this.cursors.length;
    for (const cursor of [...this.cursors]) {
      if (count <= MAX_CURSORS && bytes <= this.budget) break;
      if (cursor.busy > 0) continue;
      this.drop(cursor);
      bytes -= cursor.out.length;
      count--;
    }
  }

  /** A copy of bytes [from, to) of unit `u` (offsets within the unit). */
  read(u: number, from: number, to: number): Promise<Uint8Array> {
    let cursor = this.cursors.find((c) => c.unit === u);
    if (cursor === undefined) {
      const length = this.units.dStart[u + 1] - this.units.dStart[u];
      cursor = { unit: u, stream: this.format.stream(this.source, this.units, u, LAZY_STEPS), out: new Uint8Array(length), produced: 0, lock: Promise.resolve(), busy: 0 };
      this.cursors.push(cursor);
    } else {
      // Most recently used last.
      this.cursors = [...this.cursors.filter((c) => c !== cursor), cursor];
    }
    const chosen = cursor;
    chosen.busy++;
    const run = chosen.lock.then(() => this.advance(chosen, from, to)).finally(() => {
      chosen.busy--;
      this.trim();
    });
    chosen.lock = run.catch(() => undefined);
    return run;
  }

  private async advance(cursor: PrefixCursor, from: number, to: number): Promise<Uint8Array> {
    const u = cursor.unit;
    const take = (parts: Uint8Array[]): void => {
      for (const part of parts) {
        if (cursor.produced + part.length > cursor.out.length) throw this.damaged(u, `decodes to more than the ${cursor.out.length} bytes its index records`);
        cursor.out.set(part, cursor.produced);
        cursor.produced += part.length;
      }
    };
    let finished = false;
    try {
      while (cursor.produced < to && !finished) {
        const parts = await cursor.stream.step();
        if (parts === null) finished = true;
        else take(parts);
      }
      // All output is in: run the stream to its end (the check) so the unit is verified.
      while (!finished && cursor.produced === cursor.out.length) {
        const parts = await cursor.stream.step();
        if (parts === null) finished = true;
        else take(parts);
      }
      if (finished && cursor.produced !== cursor.out.length) throw this.damaged(u, `decoded to ${cursor.produced} bytes, index says ${cursor.out.length}`);
    } catch (error) {
      this.drop(cursor);
      throw error;
    }
    const bytes = cursor.out.slice(from, to);
    if (finished) {
      this.drop(cursor);
      this.onComplete(u, cursor.out);
    }
    return bytes;
  }

  private damaged(u: number, what: string): SeekdataError {
    const file = this.source.name;
    const at = this.units.cStart[u];
    return new SeekdataError('CORRUPT_DATA', `${file}: ${this.format.unitName} at byte ${at} ${what}`, { file, compressedOffset: at });
  }

  private drop(cursor: PrefixCursor): void {
    cursor.stream.dispose();
    this.cursors = this.cursors.filter((c) => c !== cursor);
  }

  close(): void {
    for (const c of this.cursors) c.stream.dispose();
    this.cursors = [];
  }
}
