/**
 * Decoding one gzip unit with Node's native zlib: a pure synchronous function over plain data, safe in
 * worker threads. Every output is verified before it is returned.
 *
 * A span (kind 0) starts at a deflate block boundary at any bit. Node has no inflatePrime, and shifting
 * the bits would break the byte alignment that stored blocks inside the span rely on. So the span's own
 * bytes are kept where they are and the first `shift` bits of its first byte are replaced by a prefix of
 * empty deflate blocks exactly `shift` bits long modulo 8 (fixed-Huffman empty blocks are 10 bits; one
 * 95-bit dynamic empty block makes the odd lengths). They produce no output, so the window given as the
 * dictionary stays right before the span. After the span's last block comes an empty final fixed block,
 * so the stream ends exactly where the span ends and zlib reports anything else as damage.
 * A run of whole members (kind 1) goes through `gunzipSync`, which checks each member's CRC32 and ISIZE.
 */
import zlib from 'node:zlib';
import { SeekdataError } from '../../errors.js';
import { crc32 } from './crc.js';
import { gzipError } from './header.js';
import { KIND_MEMBERS, KIND_SPAN, unpackWindow, WINDOW_BYTES, type GzipUnitTable, unitByteRange, packedWindowOf } from './units.js';

export interface GzipDecodeTask {
  /** The compressed bytes covering the unit: from byte floor(cStart / 8) to ceil(cEnd / 8). */
  data: Uint8Array;
  /** cStart mod 8: the bit of data[0] where the unit starts (0 for kind 1). */
  shift: number;
  /** cEnd - cStart: the unit's length in bits. */
  bitLength: number;
  /** Kind 0: the window (output of the member before the span), raw or as `packWindow` stored it. */
  window: Uint8Array;
  /** True when `window` is deflateRaw-compressed (as in the table); it is then inflated here. */
  windowPacked: boolean;
  /** 0 span, 1 run of whole members. */
  kind: number;
  /** Decompressed bytes the unit must decode to. */
  dLength: number;
  /** CRC-32 the decoded bytes must have. */
  crc: number;
  /** File name for messages. */
  file: string;
  /** Compressed byte offset of data[0] in the file, for messages. */
  offset: number;
  /**
   * True when decoded in the thread that asked (nothing is posted): the output may then be a view into a
   * slightly larger buffer, which spares zlib a second output buffer of `dLength` bytes. Default false:
   * the output owns its buffer exactly, so a worker moves it instead of copying it.
   */
  inThread?: boolean | undefined;
}

class BitWriter {
  readonly bytes: number[] = [];
  bit = 0;
  put(value: number, n: number): void {
    for (let i = 0; i < n; i++, this.bit++) {
      if (this.bit >> 3 === this.bytes.length) this.bytes.push(0);
      this.bytes[this.bit >> 3] |= ((value >>> i) & 1) << (this.bit & 7);
    }
  }
  /** A Huffman code: most significant bit first. */
  code(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.put((value >>> i) & 1, 1);
  }
}

/** Non-final empty fixed-Huffman block: BFINAL 0, BTYPE 01, end-of-block (7 zero bits). 10 bits. */
function emptyFixed(w: BitWriter): void {
  w.put(0, 1);
  w.put(1, 2);
  w.code(0, 7);
}

/**
 * Non-final empty dynamic block, 95 bits: 257 literal/length codes of which only end-of-block has a
 * length (1), one distance code of length 0, 19 code-length codes of which 18 (length 1), 0 and 1
 * (length 2) are used; the lengths are sent as 18 x 138 zeros, 18 x 118 zeros, "1", "0".
 */
function emptyDynamic(w: BitWriter): void {
  w.put(0, 1);
  w.put(2, 2);
  w.put(0, 5); // HLIT: 257
  w.put(0, 5); // HDIST: 1
  w.put(15, 4); // HCLEN: 19
  const lengths: Record<number, number> = { 18: 1, 0: 2, 1: 2 };
  for (const s of [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]) w.put(lengths[s] ?? 0, 3);
  // Canonical codes: 18 -> 0, 0 -> 10, 1 -> 11.
  w.code(0, 1);
  w.put(138 - 11, 7);
  w.code(0, 1);
  w.put(118 - 11, 7);
  w.code(3, 2);
  w.code(2, 2);
  w.code(0, 1); // end of block
}

/** PREFIX[s]: empty blocks totalling s bits modulo 8; the last byte holds the prefix's low s bits. */
const PREFIX: Uint8Array[] = Array.from({ length: 8 }, (_, s) => {
  const w = new BitWriter();
  if (s & 1) emptyDynamic(w);
  while ((w.bit & 7) !== s) emptyFixed(w);
  return Uint8Array.from(w.bytes);
});

/** Exposed for tests: the prefix bit lengths. */
export const prefixBits = (s: number): number => (s === 0 ? 0 : (PREFIX[s].length - 1) * 8 + s);

export function zlibFailure(task: GzipDecodeTask, cause: unknown): SeekdataError {
  const message = cause instanceof Error ? cause.message : String(cause);
  const end = task.offset + task.data.length;
  // The caller's bytes cover the whole unit (checked before), so even "unexpected end" is damage here.
  const what = /larger than|too large|maxOutputLength/i.test(message) ? `decodes to more than the ${task.dLength} bytes indexed` : message;
  return gzipError('CORRUPT_DATA', task.file, task.offset, `gzip unit at compressed bytes ${task.offset}..${end} is damaged: ${what}`, cause);
}

/** Bytes that own their ArrayBuffer exactly, so a worker can transfer them. */
function owned(out: Uint8Array): Uint8Array {
  if (out.byteOffset === 0 && out.buffer.byteLength === out.byteLength && out.buffer instanceof ArrayBuffer) return out;
  // A copy: zlib's output is a Buffer, whose `slice` would be another view of the same memory.
  return new Uint8Array(out);
}

function spanInput(task: GzipDecodeTask): Uint8Array {
  const { data, shift, bitLength } = task;
  const prefix = PREFIX[shift];
  const base = shift === 0 ? 0 : prefix.length - 1;
  // The span's bits end at endBit (same residue mod 8 as in the file, since the prefix keeps alignment).
  const endBit = base * 8 + shift + bitLength;
  const buf = new Uint8Array((endBit + 10 + 7) >> 3);
  buf.set(data.subarray(0, Math.min(data.length, ((shift + bitLength + 7) >> 3))), base);
  if (shift !== 0) {
    buf.set(prefix.subarray(0, base), 0);
    const low = (1 << shift) - 1;
    buf[base] = (buf[base] & ~low) | (prefix[base] & low);
  }
  // Clear any bits after the span in its last byte, then append BFINAL 1, BTYPE 01, end-of-block.
  const e = endBit & 7;
  const last = endBit >> 3;
  buf[last] = (buf[last] & ((1 << e) - 1)) | ((3 << e) & 0xff);
  if (last + 1 < buf.length) buf[last + 1] = (3 << e) >> 8;
  return buf;
}

/**
 * A span's compressed bytes `data` (starting at bit `shift` of data[0]) behind the same empty-block prefix
 * as a whole decode, without the end marker: what a decode that stops before the span's end is fed.
 * Returns `data` itself when the span starts on a byte (no copy).
 */
export function openInput(data: Uint8Array, shift: number): Uint8Array {
  if (shift === 0) return data;
  const prefix = PREFIX[shift];
  const base = prefix.length - 1;
  const input = new Uint8Array(base + data.length);
  input.set(data, base);
  input.set(prefix.subarray(0, base), 0);
  const low = (1 << shift) - 1;
  input[base] = (input[base] & ~low) | (prefix[base] & low);
  return input;
}

/**
 * The first `length` decoded bytes of a unit (fewer when it is shorter), from as much of its compressed
 * data as `task.data` holds (a prefix of it is enough): NOT verified (its CRC covers the whole unit). For
 * comparing with bytes verified before. Damage shows as CORRUPT_DATA or as other bytes.
 */
export function decodeGzipPrefix(task: GzipDecodeTask, length: number): Uint8Array {
  // The bits after the span in its last byte are the next block's start: room for what they might decode to.
  const flush = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: task.dLength + (64 << 10) };
  let out: Uint8Array;
  try {
    if (task.kind === KIND_SPAN) {
      const window = task.windowPacked ? unpackWindow(task.window, task.file) : task.window;
      out = zlib.inflateRawSync(openInput(task.data, task.shift), window.length === 0 ? flush : { ...flush, dictionary: window });
    } else {
      out = task.data.length === 0 ? new Uint8Array(0) : zlib.gunzipSync(task.data, flush);
    }
  } catch (cause) {
    throw zlibFailure(task, cause);
  }
  return out.subarray(0, Math.min(length, out.length));
}

/**
 * Decodes one unit to exactly `task.dLength` bytes, verified against `task.crc` (and, for kind 1, each
 * member's own CRC32 / ISIZE). Throws CORRUPT_DATA or TRUNCATED naming the file and compressed offset.
 * The result owns its ArrayBuffer (transferable).
 */
export function decodeGzipUnit(task: GzipDecodeTask): Uint8Array {
  const need = (task.shift + task.bitLength + 7) >> 3;
  if (task.data.length < need) {
    throw gzipError('TRUNCATED', task.file, task.offset + task.data.length, `gzip unit needs ${need} compressed bytes from ${task.offset}, got ${task.data.length}`);
  }
  // Node's sync inflate allocates another `chunkSize` buffer whenever the output fills, also when only the
  // end-of-stream remains: one spare byte avoids that (1 MiB of garbage per span) where no transfer needs
  // the output to own its buffer exactly.
  const spare = task.inThread === true ? 1 : 0;
  const limits = { chunkSize: Math.max(64, task.dLength + spare), maxOutputLength: Math.max(1, task.dLength) };
  let out: Uint8Array;
  if (task.kind === KIND_SPAN) {
    const window = task.windowPacked ? unpackWindow(task.window, task.file) : task.window;
    if (window.length > WINDOW_BYTES) throw new SeekdataError('INVALID_OPTION', `gzip window of ${window.length} bytes (at most ${WINDOW_BYTES})`);
    const input = spanInput(task);
    try {
      out = zlib.inflateRawSync(input, window.length === 0 ? limits : { ...limits, dictionary: window });
    } catch (cause) {
      throw zlibFailure(task, cause);
    }
  } else if (task.kind === KIND_MEMBERS) {
    if (task.shift !== 0) throw new SeekdataError('INVALID_OPTION', `gzip member run must start on a byte (shift ${task.shift})`);
    try {
      out = task.dLength === 0 && task.bitLength === 0 ? new Uint8Array(0) : zlib.gunzipSync(task.data.subarray(0, need), limits);
    } catch (cause) {
      throw zlibFailure(task, cause);
    }
  } else {
    throw new SeekdataError('INVALID_OPTION', `unknown gzip unit kind ${task.kind}`);
  }
  if (out.length !== task.dLength) {
    throw gzipError('CORRUPT_DATA', task.file, task.offset, `gzip unit at compressed byte ${task.offset} decoded to ${out.length} bytes, the index says ${task.dLength}`);
  }
  if (crc32(out) !== task.crc >>> 0) {
    throw gzipError('CORRUPT_DATA', task.file, task.offset, `gzip unit at compressed byte ${task.offset} fails its CRC-32 check`);
  }
  return task.inThread === true ? out : owned(out);
}

/**
 * The decode task of table unit i, given the bytes `unitByteRange(table, i)` names. The window is copied
 * out of the table: posting a view to a worker would clone the whole windows array with it. Likewise
 * `data` should own its buffer (a FileSource read does; slice a view of a larger buffer) before the task
 * is posted, and can then be transferred.
 */
export function gzipUnitTask(table: GzipUnitTable, i: number, data: Uint8Array, file: string): GzipDecodeTask {
  const { offset } = unitByteRange(table, i);
  return {
    data,
    shift: table.cStart[i] - offset * 8,
    bitLength: table.cEnd[i] - table.cStart[i],
    window: new Uint8Array(packedWindowOf(table, i)),
    windowPacked: true,
    kind: table.kind[i],
    dLength: table.dStart[i + 1] - table.dStart[i],
    crc: table.crc[i],
    file,
    offset,
  };
}
