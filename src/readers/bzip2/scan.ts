/**
 * The one sequential pass over a bzip2 file that finds every block of every stream. Candidate magics are
 * found with a byte-wise search (magic.ts); blocks are decoded speculatively and in parallel at each
 * candidate; then a walk in file order keeps only the chain that really is the file: each stream starts
 * with "BZh" + level, each block ends exactly where the next block or end-of-stream marker starts, and the
 * stream CRC matches the combined block CRCs. A candidate off that chain (a false positive inside a
 * block's data) is ignored; a block cut short by one is decoded again over a longer range.
 */
import { SeekdataError, isSeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import type { Bzip2BlockTask } from './block.js';
import { findMagics, type MagicHit } from './magic.js';
import { concatBytes } from '../../util.js';

/** Level used for speculative decodes: the largest block size, so any real block fits. */
const DECODE_LEVEL = 9;
const WINDOW_BYTES = 4 << 20;
/** Bytes past the next candidate given to a decode, so a block ending mid-byte is whole. */
const MARGIN_BYTES = 8;

export interface Bzip2Unit {
  /** Byte offset of the stream the block belongs to. */
  streamStart: number;
  cStartBit: number;
  cEndBit: number;
  dLength: number;
  crc: number;
  level: number;
}

export interface Bzip2DecodeOutcome {
  bytes: Uint8Array;
  endBit: number;
  crc: number;
}

export interface Bzip2ScanOptions<R extends Bzip2DecodeOutcome> {
  source: ByteSource;
  decode: (task: Bzip2BlockTask) => Promise<R>;
  /** Decodes in flight ahead of the walk. */
  lookahead: number;
  signal?: AbortSignal | undefined;
  onWarning?: ((message: string) => void) | undefined;
  /**
   * Called (before the error is thrown) when a stream's CRC does not match its blocks: each block passed
   * its own CRC, but together they are not the stream (reordered, missing or foreign blocks).
   */
  onBadStream?: ((streamStart: number) => void) | undefined;
}

type Settled<R> = { ok: true; value: R; task: Bzip2BlockTask } | { ok: false; error: unknown; task: Bzip2BlockTask };

class CandidateFinder {
  readonly hits: MagicHit[] = [];
  private scanned = 0;
  /**
   * The windows read for the search, kept until the walk has passed them, so block decodes take their
   * bytes from memory instead of reading them again (which for an HTTP source would download twice).
   */
  private windows: Array<{ start: number; bytes: Uint8Array }> = [];
  constructor(private readonly source: ByteSource) {}

  private async scanMore(): Promise<boolean> {
    const size = this.source.size;
    if (this.scanned >= size) return false;
    const start = this.scanned;
    const limit = Math.min(WINDOW_BYTES, size - start);
    const data = await this.source.read(start, Math.min(size - start, limit + 6));
    for (const hit of findMagics(data, limit * 8)) this.hits.push({ bit: hit.bit + start * 8, eos: hit.eos });
    this.windows.push({ start, bytes: data.subarray(0, limit) });
    this.scanned = start + limit;
    return true;
  }

  /** Bytes [from, to) of the file: from the kept windows when they hold them, else read. */
  async bytes(from: number, to: number): Promise<Uint8Array> {
    const first = this.windows[0];
    if (first === undefined || from < first.start || to > this.scanned) return this.source.read(from, to - from);
    const parts: Uint8Array[] = [];
    for (const w of this.windows) {
      const end = w.start + w.bytes.length;
      if (end <= from || w.start >= to) continue;
      parts.push(w.bytes.subarray(Math.max(0, from - w.start), Math.min(w.bytes.length, to - w.start)));
    }
    // A copy: the task's bytes go to a worker, and windows are dropped as the walk moves on. (`new
    // Uint8Array(view)` copies; a Buffer's `slice`, from a MemorySource over a Buffer, would not.)
    return parts.length === 1 ? new Uint8Array(parts[0]) : concatBytes(parts);
  }

  /** Drops the windows that end before byte `at` (the walk will not need them again). */
  release(at: number): void {
    while (this.windows.length > 0 && this.windows[0].start + this.windows[0].bytes.length <= at) this.windows.shift();
  }

  /** Index of the first hit with bit > after (or >= when inclusive), scanning as needed; -1 at end. */
  async next(after: number, inclusive = false): Promise<number> {
    for (;;) {
      let lo = 0;
      let hi = this.hits.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (inclusive ? this.hits[mid].bit < after : this.hits[mid].bit <= after) lo = mid + 1;
        else hi = mid;
      }
      // Windows are scanned in order, so every hit before the scanned limit is already known.
      if (lo < this.hits.length) return lo;
      if (!(await this.scanMore())) return -1;
    }
  }
}

function settle<R>(task: Bzip2BlockTask, promise: Promise<R>): Promise<Settled<R>> {
  return promise.then(
    (value) => ({ ok: true as const, value, task }),
    (error: unknown) => ({ ok: false as const, error, task }),
  );
}

function readBits(bytes: Uint8Array, bit: number, count: number): number {
  let value = 0;
  for (let i = 0; i < count; i++) {
    const b = bit + i;
    value = value * 2 + ((bytes[b >> 3] >> (7 - (b & 7))) & 1);
  }
  return value;
}

/**
 * Yields every block in file order with its decode result. Throws the first damage met (TRUNCATED /
 * CORRUPT_DATA with the compressed offset) after yielding every intact block before it.
 */
export async function* scanBzip2<R extends Bzip2DecodeOutcome>(options: Bzip2ScanOptions<R>): AsyncGenerator<{ unit: Bzip2Unit; result: R }> {
  const { source } = options;
  const file = source.name;
  const size = source.size;
  const finder = new CandidateFinder(source);
  const inflight = new Map<number, Promise<Settled<R>>>();

  const makeTask = async (startBit: number, endHit: number): Promise<Bzip2BlockTask> => {
    const first = Math.floor(startBit / 8);
    const endByte = endHit < 0 ? size : Math.min(size, Math.ceil(finder.hits[endHit].bit / 8) + MARGIN_BYTES);
    const data = await finder.bytes(first, endByte);
    return { data, bitOffset: startBit - first * 8, level: DECODE_LEVEL, base: first, atEnd: endByte >= size, file };
  };

  const dispatch = async (hitIndex: number): Promise<void> => {
    const hit = finder.hits[hitIndex];
    if (hit.eos || inflight.has(hit.bit)) return;
    const task = await makeTask(hit.bit, await finder.next(hit.bit));
    inflight.set(hit.bit, settle(task, options.decode(task)));
  };

  /** Keeps `lookahead` speculative decodes going at the candidates from `fromBit` on. */
  const prefetch = async (fromBit: number): Promise<void> => {
    let i = await finder.next(fromBit, true);
    let ahead = 0;
    while (i >= 0 && ahead < options.lookahead) {
      if (!finder.hits[i].eos) {
        await dispatch(i);
        ahead++;
      }
      i = await finder.next(finder.hits[i].bit);
    }
  };

  const corrupt = (message: string, bit: number): SeekdataError =>
    new SeekdataError('CORRUPT_DATA', `${file}: ${message} at byte ${Math.floor(bit / 8)}`, { file, compressedOffset: Math.floor(bit / 8) });

  let streamStart = 0;
  for (;;) {
    const head = await source.read(streamStart, Math.min(4, size - streamStart));
    const level = head[3] - 0x30;
    let pos = (streamStart + 4) * 8;
    let combined = 0;
    for (;;) {
      if (options.signal?.aborted) throw new SeekdataError('ABORTED', `${file}: scan aborted`, { file, cause: options.signal.reason });
      for (const key of inflight.keys()) if (key < pos) inflight.delete(key);
      finder.release(Math.floor(pos / 8));
      await prefetch(pos);
      const at = await finder.next(pos, true);
      if (at < 0 || finder.hits[at].bit !== pos) {
        if (pos + 48 > size * 8) {
          throw new SeekdataError('TRUNCATED', `${file}: bzip2 stream ends early, expected a block or end-of-stream marker at byte ${Math.floor(pos / 8)}`, {
            file,
            compressedOffset: Math.floor(pos / 8),
          });
        }
        throw corrupt('no bzip2 block or end-of-stream marker where one must start', pos);
      }
      if (finder.hits[at].eos) break;
      let settled = inflight.get(pos);
      if (settled === undefined) {
        await dispatch(at);
        settled = inflight.get(pos);
      }
      let outcome = settled === undefined ? undefined : await settled;
      // Cut short by a false candidate inside the block: decode again over a longer range.
      let endHit = await finder.next(pos);
      while (outcome !== undefined && !outcome.ok && isSeekdataError(outcome.error, 'TRUNCATED') && !outcome.task.atEnd) {
        endHit = endHit < 0 ? -1 : await finder.next(finder.hits[endHit].bit);
        const task = await makeTask(pos, endHit);
        outcome = await settle(task, options.decode(task));
      }
      if (outcome === undefined) throw corrupt('internal: no decode for block', pos);
      if (!outcome.ok) throw outcome.error;
      const endBit = outcome.task.base * 8 + outcome.value.endBit;
      const nextAt = await finder.next(endBit, true);
      if (nextAt < 0 || finder.hits[nextAt].bit !== endBit) {
        if (endBit + 48 > size * 8) {
          throw new SeekdataError('TRUNCATED', `${file}: bzip2 data ends after the block ending at byte ${Math.floor(endBit / 8)}`, {
            file,
            compressedOffset: Math.floor(endBit / 8),
          });
        }
        throw corrupt('bzip2 block is not followed by a block or end-of-stream marker', endBit);
      }
      combined = (((combined << 1) | (combined >>> 31)) ^ outcome.value.crc) >>> 0;
      inflight.delete(pos);
      yield { unit: { streamStart, cStartBit: pos, cEndBit: endBit, dLength: outcome.value.bytes.length, crc: outcome.value.crc, level }, result: outcome.value };
      pos = endBit;
    }
    // End-of-stream marker at pos: a 32-bit stream CRC follows, then padding to a byte boundary.
    const crcEnd = pos + 80;
    if (crcEnd > size * 8) {
      throw new SeekdataError('TRUNCATED', `${file}: bzip2 stream CRC cut off at byte ${Math.floor(pos / 8)}`, { file, compressedOffset: Math.floor(pos / 8) });
    }
    const first = Math.floor((pos + 48) / 8);
    const crcBytes = await source.read(first, Math.ceil(crcEnd / 8) - first);
    const stored = readBits(crcBytes, pos + 48 - first * 8, 32);
    if (stored !== combined) {
      options.onBadStream?.(streamStart);
      throw corrupt(`bzip2 stream CRC mismatch (stored ${stored.toString(16)}, computed ${combined.toString(16)})`, pos + 48);
    }
    streamStart = Math.ceil(crcEnd / 8);
    if (streamStart >= size) return;
    const next = await source.read(streamStart, Math.min(4, size - streamStart));
    const isStream = next.length === 4 && next[0] === 0x42 && next[1] === 0x5a && next[2] === 0x68 && next[3] >= 0x31 && next[3] <= 0x39;
    // "B", "BZ" or "BZh" at the very end: the header of a next stream, cut short (bzip2 says so too).
    const magic = [0x42, 0x5a, 0x68];
    if (next.length < 4 && next.every((b, i) => b === magic[i])) {
      throw new SeekdataError('TRUNCATED', `${file}: bzip2 stream header cut short at byte ${streamStart} (file truncated?)`, { file, compressedOffset: streamStart });
    }
    if (!isStream) {
      options.onWarning?.(`${file}: ignoring ${size - streamStart} bytes of trailing garbage after the last bzip2 stream (byte ${streamStart})`);
      return;
    }
  }
}
