/**
 * Verified prefix reads of a gzip span. The zran technique (indexed_gzip, gztool) inflates from a
 * checkpoint only up to the bytes a read needs — on average half a span — but the only check of a span
 * used to be the CRC-32 of all of it. The indexing pass therefore also records the CRC-32 of every
 * sub-span of `span` decoded bytes (64 KiB) of each span (table.ts `subCrc`). A read whose last byte lies
 * in sub-span k inflates the span from its checkpoint (the window as dictionary, the bit shift fed as for
 * a whole decode) through the end of sub-span k only, checks the CRC-32 of every sub-span it decoded, and
 * only then hands anything out.
 *
 * Node's synchronous inflate with `Z_SYNC_FLUSH` stops where its input ends and returns what it decoded,
 * so it is fed an estimate of the compressed bytes needed (the span's own ratio, +2% and 2 KiB; measured
 * on the benchmark's CSV: never short, ~12 KiB decoded past the end asked for); when that decodes too
 * little the caller reads more and decodes again (`undefined`). A streaming inflater was not needed.
 *
 * Damage: zlib stops at the first invalid code and its output is lost with the error. A failing feed is
 * bisected for the longest one that still decodes (about log2(feed) partial decodes, on damage only): if
 * that reaches the sub-spans asked for, they are checked and returned — the damage lies after them, in
 * bytes this read did not need and did not check, so it is not reported; otherwise it lies in them:
 * CORRUPT_DATA naming the file, the span's compressed offset and the decoded range. Bytes decoded wrong
 * without a zlib error fail their sub-span's CRC-32: CORRUPT_DATA as well.
 */
import zlib from 'node:zlib';
import { failingSubSpan, prefixTarget } from '../sub-crcs.js';
import { openInput } from './decode.js';
import { gzipError } from './header.js';

export interface SpanPrefixTask {
  /** The span's compressed bytes from byte floor(cStart / 8): a strict prefix of them (never the whole span). */
  data: Uint8Array;
  /** cStart mod 8. */
  shift: number;
  /** The span's window (raw, at most 32 KiB; empty for a member's first span). */
  window: Uint8Array;
  /** The span's decoded length. */
  dLength: number;
  /** The span's sub-span CRC-32s, 4 bytes little-endian each. */
  crcs: Uint8Array;
  /** Decoded bytes per sub-span. */
  span: number;
  /** Decoded bytes wanted from the span's start (at least 1, less than `dLength`): rounded up to a sub-span end. */
  end: number;
  /** For messages: file name, compressed byte of data[0], decompressed offset of the span. */
  file: string;
  offset: number;
  dStart: number;
}

/** Inflates `input` as far as it goes (Z_SYNC_FLUSH), or throws zlib's error. */
function inflate(task: SpanPrefixTask, input: Uint8Array, target: number): Uint8Array {
  // One output buffer of about the size expected; the fed bytes are a strict prefix of the span, so more
  // than the span plus 64 KiB is damage (zlib then throws).
  const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: target + (32 << 10), maxOutputLength: task.dLength + (64 << 10) };
  return zlib.inflateRawSync(input, task.window.length === 0 ? options : { ...options, dictionary: task.window });
}

/** Checks the CRC-32 of every sub-span of out[0 .. target): CORRUPT_DATA at the first that fails. */
function verify(task: SpanPrefixTask, out: Uint8Array, target: number): Uint8Array {
  const k = failingSubSpan(out, target, task.crcs, task.span);
  if (k >= 0) {
    const at = k * task.span;
    const where = `decompressed bytes ${task.dStart + at}..${task.dStart + Math.min(target, at + task.span)} (sub-span ${k} of the span at compressed byte ${task.offset})`;
    throw gzipError('CORRUPT_DATA', task.file, task.offset, `${where} fail their CRC-32 check`);
  }
  // A view: the caller copies the bytes it hands out.
  return out.subarray(0, target);
}

/**
 * The span's first `prefixTarget(end)` decoded bytes, every sub-span of them verified; undefined when
 * `task.data` decodes to fewer (feed more). CORRUPT_DATA when they are damaged.
 */
export function decodeSpanPrefix(task: SpanPrefixTask): Uint8Array | undefined {
  const target = prefixTarget(task.end, task.span, task.dLength);
  const input = openInput(task.data, task.shift);
  const extra = input.length - task.data.length; // the empty-block prefix before the span's bytes
  let out: Uint8Array;
  try {
    out = inflate(task, input, target);
  } catch (cause) {
    return bisect(task, input, extra, target, cause);
  }
  return out.length < target ? undefined : verify(task, out, target);
}

/** After a failed decode of all of `input`: the longest feed that decodes, if it reaches `target`. */
function bisect(task: SpanPrefixTask, input: Uint8Array, extra: number, target: number, cause: unknown): Uint8Array {
  let lo = extra; // decodes (to nothing but the prefix's empty blocks)
  let hi = input.length; // fails
  let last = cause;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    try {
      const out = inflate(task, input.subarray(0, mid), target);
      if (out.length >= target) return verify(task, out, target);
      lo = mid;
    } catch (error) {
      last = error;
      hi = mid;
    }
  }
  const message = last instanceof Error ? last.message : String(last);
  const damaged = task.offset + hi - extra;
  const where = `decompressed bytes ${task.dStart}..${task.dStart + target} (the span at compressed byte ${task.offset})`;
  throw gzipError('CORRUPT_DATA', task.file, damaged, `${where} cannot be decoded: the deflate data is damaged near compressed byte ${damaged}: ${message}`, last);
}
