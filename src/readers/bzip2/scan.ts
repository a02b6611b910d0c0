/**
 * The one sequential pass over a bzip2 file that finds every block of every stream. Candidate block magics
 * are found with a byte-wise search (magic.ts); blocks are decoded speculatively and in parallel at each
 * candidate; then a walk in file order keeps only the chain that really is the file: each stream starts
 * with "BZh" + level, each block ends exactly where the next block or end-of-stream marker starts (the
 * end-of-stream magic is checked there, not searched for), and the stream CRC matches the combined block
 * CRCs. A candidate off that chain (a false positive inside a block's data) is ignored; a block cut short
 * by one is decoded again over a longer range.
 */
import { SeekdataError, isSeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import type { Bzip2BlockTask } from './block.js';
import { CandidateFinder, WINDOW_BYTES } from './candidates.js';
import { postable } from '../post.js';

/** Level used for speculative decodes: the largest block size, so any real block fits. */
const DECODE_LEVEL = 9;
/** Bytes past the next candidate given to a decode, so a block ending mid-byte is whole. */
export const MARGIN_BYTES = 8;
/**
 * No decode is given more bytes than this from its block's start: more than any block can take (at most
 * 900,000 symbols of at most 20 bits, ~2.25 MB, plus ~35 kB of tables and selectors). Without a bound, the
 * last block of a file followed by megabytes of other bytes (zeros, garbage) with no block magic in them
 * would be copied whole to a worker.
 */
const MAX_BLOCK_BYTES = 3 << 20;

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
  /** The decoded bytes, and their length when the job kept them (the bytes then empty). */
  bytes: Uint8Array;
  length?: number | undefined;
  endBit: number;
  crc: number;
}

export interface Bzip2ScanOptions<R extends Bzip2DecodeOutcome> {
  source: ByteSource;
  /** Decodes a task; `transfer` lists the buffers of its bytes that may be moved to a worker (nobody else holds them). */
  decode: (task: Bzip2BlockTask, transfer: ArrayBuffer[]) => Promise<R>;
  /** Decodes in flight ahead of the walk. */
  lookahead: number;
  signal?: AbortSignal | undefined;
  onWarning?: ((message: string) => void) | undefined;
  /**
   * Called (before the error is thrown) when a stream's CRC does not match its blocks: each block passed
   * its own CRC, but together they are not the stream (reordered, missing or foreign blocks).
   */
  onBadStream?: ((streamStart: number) => void) | undefined;
  /** Bytes the magic search reads at a time (default 4 MiB; tests take small ones to pass many windows). */
  windowBytes?: number | undefined;
}

/** A decode to start: its task, the buffers moved with it, and the hold on the window it views (if any). */
interface Planned {
  task: Bzip2BlockTask;
  transfer: ArrayBuffer[];
  capped: boolean;
  /** Lets go of the window the task views (finder.hold's answer). */
  unhold: (() => void) | undefined;
}

/** A decode's outcome; `capped`: its bytes were cut at MAX_BLOCK_BYTES (a longer range is no use). */
type Settled<R> = ({ ok: true; value: R } | { ok: false; error: unknown }) & { task: Bzip2BlockTask; capped: boolean };

function settle<R>(task: Bzip2BlockTask, capped: boolean, promise: Promise<R>): Promise<Settled<R>> {
  return promise.then(
    (value) => ({ ok: true as const, value, task, capped }),
    (error: unknown) => ({ ok: false as const, error, task, capped }),
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
  const finder = new CandidateFinder(source, options.windowBytes ?? WINDOW_BYTES);
  const inflight = new Map<number, Promise<Settled<R>>>();

  /** A decode of the block at startBit over the bytes up to the candidate endHit (-1: the end of the file). */
  const makeTask = async (startBit: number, endHit: number): Promise<Planned> => {
    const first = Math.floor(startBit / 8);
    const wanted = endHit < 0 ? size : Math.min(size, Math.ceil(finder.hits[endHit] / 8) + MARGIN_BYTES);
    const endByte = Math.min(wanted, first + MAX_BLOCK_BYTES);
    // A view into a window is posted as it is (the window's memory is shared with the workers), and the
    // window held until the decode has settled; bytes spanning two windows are a fresh array, moved.
    const part = await finder.bytes(first, endByte);
    const unhold = part.window === undefined ? undefined : finder.hold(part.window);
    const { bytes, transfer } = postable(part.bytes, part.owned);
    const task = { data: bytes, bitOffset: startBit - first * 8, level: DECODE_LEVEL, base: first, atEnd: endByte >= size, file };
    return { task, transfer, capped: endByte < wanted, unhold };
  };
  const start = ({ task, transfer, capped, unhold }: Planned): Promise<Settled<R>> => {
    const settled = settle(task, capped, options.decode(task, transfer));
    if (unhold !== undefined) void settled.then(unhold);
    return settled;
  };

  const dispatch = async (hitIndex: number): Promise<void> => {
    const bit = finder.hits[hitIndex];
    if (inflight.has(bit)) return;
    inflight.set(bit, start(await makeTask(bit, await finder.next(bit))));
  };

  /** Keeps `lookahead` speculative decodes going at the candidates from `fromBit` on. */
  const prefetch = async (fromBit: number): Promise<void> => {
    let i = await finder.next(fromBit, true);
    for (let ahead = 0; i >= 0 && ahead < options.lookahead; ahead++) {
      await dispatch(i);
      i = await finder.next(finder.hits[i]);
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
      if (at < 0 || finder.hits[at] !== pos) {
        if ((await finder.magicAt(pos)) === 'eos') break;
        if (pos + 48 > size * 8) {
          throw new SeekdataError('TRUNCATED', `${file}: bzip2 stream ends early, expected a block or end-of-stream marker at byte ${Math.floor(pos / 8)}`, {
            file,
            compressedOffset: Math.floor(pos / 8),
          });
        }
        throw corrupt('no bzip2 block or end-of-stream marker where one must start', pos);
      }
      let settled = inflight.get(pos);
      if (settled === undefined) {
        await dispatch(at);
        settled = inflight.get(pos);
      }
      let outcome = settled === undefined ? undefined : await settled;
      // Cut short by a false candidate inside the block: decode again over a longer range.
      let endHit = await finder.next(pos);
      while (outcome !== undefined && !outcome.ok && isSeekdataError(outcome.error, 'TRUNCATED') && !outcome.task.atEnd) {
        if (outcome.capped) throw corrupt(`bzip2 block runs past ${MAX_BLOCK_BYTES} bytes, longer than any block can be`, pos);
        endHit = endHit < 0 ? -1 : await finder.next(finder.hits[endHit]);
        outcome = await start(await makeTask(pos, endHit));
      }
      if (outcome === undefined) throw corrupt('internal: no decode for block', pos);
      if (!outcome.ok) throw outcome.error;
      const endBit = outcome.task.base * 8 + outcome.value.endBit;
      const nextAt = await finder.next(endBit, true);
      if ((nextAt < 0 || finder.hits[nextAt] !== endBit) && (await finder.magicAt(endBit)) !== 'eos') {
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
      yield { unit: { streamStart, cStartBit: pos, cEndBit: endBit, dLength: outcome.value.length ?? outcome.value.bytes.length, crc: outcome.value.crc, level }, result: outcome.value };
      pos = endBit;
    }
    // End-of-stream marker at pos: a 32-bit stream CRC follows, then padding to a byte boundary.
    const crcEnd = pos + 80;
    if (crcEnd > size * 8) {
      throw new SeekdataError('TRUNCATED', `${file}: bzip2 stream CRC cut off at byte ${Math.floor(pos / 8)}`, { file, compressedOffset: Math.floor(pos / 8) });
    }
    const first = Math.floor((pos + 48) / 8);
    const crcBytes = (await finder.bytes(first, Math.ceil(crcEnd / 8))).bytes;
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
