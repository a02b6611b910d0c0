/**
 * Short reads inside an xz block without decoding all of it (`verify: 'lazy'` only): liblzma decodes from
 * the block's start, so a read needs only the prefix up to its last byte (on average half the block). The
 * bytes returned have NOT passed the block check, which comes after the block's last byte. A few live
 * decoders are kept so that later reads further into the same block continue where the last one stopped,
 * the way python-xz keeps its decompressors; a decoder that reaches the block's end verifies its check and
 * hands over the whole block for caching.
 */
import type { ByteSource } from '../../sources/source.js';
import type { UnitTable } from '../units.js';
import { XzBlockDecoder } from './block.js';
import { padded4 } from './container.js';

/** Compressed bytes fed per step: small, so a read stops soon after its last byte is decoded. */
const STEP_BYTES = 16 << 10;
const MAX_CURSORS = 4;

interface PrefixCursor {
  unit: number;
  decoder: XzBlockDecoder;
  out: Uint8Array;
  produced: number;
  lock: Promise<unknown>;
  /** Reads queued or running on this cursor: a busy cursor is never dropped by trimming. */
  busy: number;
}

export class XzPrefixDecoder {
  private cursors: PrefixCursor[] = [];

  constructor(
    private readonly source: ByteSource,
    private readonly units: UnitTable,
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
      const units = this.units;
      const length = units.dStart[u + 1] - units.dStart[u];
      cursor = {
        unit: u,
        decoder: new XzBlockDecoder(
          { offset: units.cStart[u], unpaddedSize: units.param[u], uncompressedSize: length, checkType: units.kind[u], file: this.source.name },
          64 << 10,
        ),
        out: new Uint8Array(length),
        produced: 0,
        lock: Promise.resolve(),
        busy: 0,
      };
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
    const units = this.units;
    const u = cursor.unit;
    const stored = padded4(units.param[u]);
    const take = (parts: Buffer[]): void => {
      for (const part of parts) {
        cursor.out.set(part, cursor.produced);
        cursor.produced += part.length;
      }
    };
    const feedStep = async (): Promise<void> => {
      const fed = cursor.decoder.consumed;
      take(cursor.decoder.feed(await this.source.read(units.cStart[u] + fed, Math.min(STEP_BYTES, stored - fed))));
    };
    let finished = false;
    try {
      while (cursor.produced < to && cursor.decoder.consumed < stored) await feedStep();
      if (cursor.produced === cursor.out.length || cursor.decoder.consumed >= stored) {
        // All output is in: feed the rest (the check) and end the stream so liblzma verifies the block.
        while (cursor.decoder.consumed < stored) await feedStep();
        take(cursor.decoder.finish());
        finished = true;
      }
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

  private drop(cursor: PrefixCursor): void {
    cursor.decoder.dispose();
    this.cursors = this.cursors.filter((c) => c !== cursor);
  }

  close(): void {
    for (const c of this.cursors) c.decoder.dispose();
    this.cursors = [];
  }
}
