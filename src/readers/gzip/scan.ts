/**
 * The sequential index pass of an ordinary gzip file (one member from gzip / pigz, or many from
 * `cat a.gz b.gz`): inflates the whole file once with pako's low-level inflate called with Z_BLOCK, which
 * returns at every deflate block end and tells the bit position there (total_in * 8 - (data_type & 7);
 * +128 in data_type at a boundary, +64 when the block was the member's last). At the first block boundary
 * after every `spacing` decoded bytes of a member it records a checkpoint (bit offset + the 32 KiB window
 * before it), the technique of zlib's zran.c behind indexed_gzip and gztool. Members that end without a
 * checkpoint are grouped whole into runs of about `spacing` bytes. Each unit is yielded with its decoded
 * bytes as soon as it is complete, so the caller analyses the file in the same single decode.
 * Memory: one read piece, one unit (about `spacing`) and one pending run.
 */
import { ZStream, Z_BLOCK, Z_BUF_ERROR, Z_OK, Z_STREAM_END, zlibInflate, zlibInflateInit2, zlibInflateReset } from 'pako';
import type { ByteSource } from '../../sources/source.js';
import { crc32, crc32Combine, crc32Pieces } from './crc.js';
import { checkPositiveInteger, DEFAULT_READ_SIZE, reportTrailing, SourceCursor, trailingIsZeros, type GzipWarning } from './cursor.js';
import { gzipError, parseGzipHeader, readU32, TRAILER_BYTES, type GzipHeader } from './header.js';
import { SUB_SPAN_BYTES } from '../sub-crcs.js';
import { KIND_MEMBERS, KIND_SPAN, WINDOW_BYTES, type GzipUnit } from './units.js';

export interface GzipScanOptions {
  /** Decoded bytes between checkpoints inside a member, and the size of a run of small members. Default 1 MiB. */
  spacing?: number;
  /** Bytes per read from the source. Default 4 MiB. */
  readSize?: number;
  /** Called for trailing zeros / garbage after the last member (ignored, as gzip does). */
  onWarning?: (warning: GzipWarning) => void;
  /**
   * Called before the output buffer grows (a deflate block longer than `spacing`: one block can decode to
   * gigabytes) with the decoded bytes so far and the compressed byte reached; may throw to stop the scan.
   */
  onGrow?: (decoded: number, compressedAt: number) => void;
}

export interface GzipScannedUnit extends GzipUnit {
  /** Decompressed offset of the unit's first byte. */
  dStart: number;
  /** The unit's decoded bytes (owned: the caller may keep or transfer them). */
  data: Uint8Array;
  /**
   * True when every byte has been checked against its member's CRC32 / ISIZE. A span yielded before its
   * member ends is checked when the member ends: if that fails, the generator throws CORRUPT_DATA instead
   * of yielding more, and the caller must drop what it derived from the member's spans.
   */
  verified: boolean;
}

export interface GzipScanSummary {
  members: number;
  units: number;
  /** Units that start at a checkpoint inside a member (with a window). */
  checkpoints: number;
  decompressedSize: number;
  /** Byte offset just past the last member's trailer. */
  dataEnd: number;
  /** True when every member carries a BGZF `BC` subfield naming its own size. */
  bgzf: boolean;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** The last 32 KiB of `window` followed by `data`. */
function nextWindow(window: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length >= WINDOW_BYTES) return data.slice(data.length - WINDOW_BYTES);
  const keep = Math.min(window.length, WINDOW_BYTES - data.length);
  const out = new Uint8Array(keep + data.length);
  out.set(window.subarray(window.length - keep), 0);
  out.set(data, keep);
  return out;
}

/** Whole members waiting to be yielded together as one kind-1 unit. */
class MemberRun {
  parts: Uint8Array[] = [];
  length = 0;
  crc = 0;
  members = 0;
  cStart = 0;
  cEnd = 0;

  add(data: Uint8Array, crc: number, memberStart: number, memberEnd: number): void {
    if (this.members === 0) this.cStart = memberStart * 8;
    this.parts.push(data);
    this.crc = crc32Combine(this.crc, crc, data.length);
    this.length += data.length;
    this.members++;
    this.cEnd = memberEnd * 8;
  }

  take(dStart: number): GzipScannedUnit {
    const data = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      data.set(p, at);
      at += p.length;
    }
    const unit = { cStart: this.cStart, cEnd: this.cEnd, dLength: this.length, crc: this.crc, kind: KIND_MEMBERS, window: EMPTY, members: this.members, dStart, data, verified: true };
    this.parts = [];
    this.length = this.crc = this.members = 0;
    return unit;
  }
}

async function readHeader(cursor: SourceCursor, pos: number, file: string): Promise<GzipHeader> {
  for (let want = 64; ; want *= 2) {
    const bytes = await cursor.at(pos, want);
    const header = parseGzipHeader(bytes, file, pos);
    if (header !== undefined) return header;
    if (pos + bytes.length >= cursor.size) throw gzipError('TRUNCATED', file, cursor.size, `file ends inside the gzip header of the member at compressed byte ${pos}`);
  }
}

/**
 * Inflates `source` once and yields its units in file order, each with its decoded bytes. Verifies every
 * member's CRC32 and ISIZE; throws TRUNCATED / CORRUPT_DATA (with the compressed offset and file name)
 * for truncated or damaged data and UNSUPPORTED_FORMAT when the file is not gzip. Returns a summary.
 */
export async function* scanGzip(source: ByteSource, options: GzipScanOptions = {}): AsyncGenerator<GzipScannedUnit, GzipScanSummary, undefined> {
  const run = new MemberRun();
  const summary: GzipScanSummary = { members: 0, units: 0, checkpoints: 0, decompressedSize: 0, dataEnd: 0, bgzf: true };
  try {
    return yield* scanMembers(source, options, run, summary);
  } catch (error) {
    // Whole members that passed their check and wait in a run are intact: yielded before the error, so a
    // reader of the intact part (allowDamage) keeps them.
    if (run.members > 0) yield run.take(summary.decompressedSize);
    throw error;
  }
}

async function* scanMembers(
  source: ByteSource,
  options: GzipScanOptions,
  run: MemberRun,
  summary: GzipScanSummary,
): AsyncGenerator<GzipScannedUnit, GzipScanSummary, undefined> {
  const spacing = checkPositiveInteger('spacing', options.spacing ?? 1 << 20);
  const cursor = new SourceCursor(source, checkPositiveInteger('readSize', options.readSize ?? DEFAULT_READ_SIZE));
  const file = source.name;
  if (source.size === 0) throw gzipError('TRUNCATED', file, 0, 'empty file, no gzip member');
  const head = await cursor.at(0, 2);
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) throw gzipError('UNSUPPORTED_FORMAT', file, 0, 'not a gzip file (no 1f 8b magic)');

  const strm = new ZStream();
  zlibInflateInit2(strm, -15);
  let buf = new Uint8Array(spacing + (256 << 10));
  const emit = (unit: GzipScannedUnit): GzipScannedUnit => {
    summary.units++;
    if (unit.window.length > 0) summary.checkpoints++;
    summary.decompressedSize += unit.dLength;
    return unit;
  };

  let pos = 0;
  while (pos < source.size) {
    if (summary.members > 0) {
      const next = await cursor.at(pos, 2);
      // One last byte that is not zero: gzip reads it as the start of a member's magic ("unexpected end of file").
      if (next.length === 1 && next[0] !== 0) throw gzipError('TRUNCATED', file, pos, 'file ends inside a gzip member header');
      if (next.length < 2 || next[0] !== 0x1f || next[1] !== 0x8b) {
        reportTrailing(source.size, pos, await trailingIsZeros(cursor, pos), file, options.onWarning);
        break;
      }
    }
    const header = await readHeader(cursor, pos, file);
    const memberStart = pos;
    const deflateStart = pos + header.length;
    zlibInflateReset(strm);
    strm.next_in = 0; // input is taken afresh from the cursor at deflateStart
    strm.avail_in = 0;
    strm.output = buf;
    strm.next_out = 0;
    strm.avail_out = buf.length;
    let pieceStart = deflateStart;
    let spanStart = deflateStart * 8;
    let finalEnd = -1;
    let window: Uint8Array = EMPTY;
    let memberLength = 0;
    let memberCrc = 0;
    let spans = 0;
    for (;;) {
      if (strm.avail_in === 0) {
        const at = pieceStart + strm.next_in;
        const piece = await cursor.at(at, 1);
        if (piece.length === 0) throw gzipError('TRUNCATED', file, at, `file ends inside the deflate data of the gzip member at compressed byte ${memberStart}`);
        strm.input = piece;
        strm.next_in = 0;
        strm.avail_in = piece.length;
        pieceStart = at;
      }
      const ret = zlibInflate(strm, Z_BLOCK);
      if (ret === Z_STREAM_END) break;
      if (ret !== Z_OK && (ret !== Z_BUF_ERROR || (strm.avail_in > 0 && strm.avail_out > 0))) {
        throw gzipError('CORRUPT_DATA', file, deflateStart + strm.total_in, `invalid deflate data in the gzip member at compressed byte ${memberStart}: ${strm.msg || `inflate returned ${ret}`}`);
      }
      const boundary = (strm.data_type & 128) !== 0;
      if (boundary && (strm.data_type & 64) !== 0) {
        finalEnd = deflateStart * 8 + strm.total_in * 8 - (strm.data_type & 7);
      } else if (boundary && strm.next_out >= spacing) {
        const bit = deflateStart * 8 + strm.total_in * 8 - (strm.data_type & 7);
        const data = buf.slice(0, strm.next_out);
        // The CRC-32 of every sub-span, combined into the span's: a read may then decode a prefix only.
        const { crc, pieces: subCrc } = crc32Pieces(data, SUB_SPAN_BYTES);
        if (spans === 0 && run.members > 0) yield emit(run.take(summary.decompressedSize));
        // Everything taken from `data` before it is yielded: the caller may move it to a worker.
        const spanWindow = window;
        memberCrc = crc32Combine(memberCrc, crc, data.length);
        memberLength += data.length;
        window = nextWindow(window, data);
        yield emit({ cStart: spanStart, cEnd: bit, dLength: data.length, crc, kind: KIND_SPAN, window: spanWindow, members: 0, subCrc, dStart: summary.decompressedSize, data, verified: false });
        spanStart = bit;
        spans++;
        strm.next_out = 0;
        strm.avail_out = buf.length;
      }
      if (strm.avail_out === 0) {
        options.onGrow?.(summary.decompressedSize + run.length + strm.next_out, deflateStart + strm.total_in);
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
        strm.output = buf;
        strm.avail_out = buf.length - strm.next_out;
      }
    }
    // The member's deflate data ended (byte-aligned) at deflateStart + total_in; the trailer follows.
    const trailerAt = deflateStart + strm.total_in;
    const trailer = await cursor.at(trailerAt, TRAILER_BYTES);
    if (trailer.length < TRAILER_BYTES) throw gzipError('TRUNCATED', file, source.size, `file ends inside the trailer of the gzip member at compressed byte ${memberStart}`);
    const memberEnd = trailerAt + TRAILER_BYTES;
    const last = buf.subarray(0, strm.next_out);
    // A member's last span gets sub-span CRC-32s too; a member without checkpoints is a whole unit.
    const lastPieces = spans > 0 ? crc32Pieces(last, SUB_SPAN_BYTES) : undefined;
    const lastCrc = lastPieces?.crc ?? crc32(last);
    memberCrc = crc32Combine(memberCrc, lastCrc, last.length);
    memberLength += last.length;
    if (memberCrc !== readU32(trailer, 0)) throw gzipError('CORRUPT_DATA', file, trailerAt, `CRC-32 mismatch in the gzip member at compressed byte ${memberStart}`);
    if (memberLength % 2 ** 32 !== readU32(trailer, 4)) throw gzipError('CORRUPT_DATA', file, trailerAt + 4, `length (ISIZE) mismatch in the gzip member at compressed byte ${memberStart}`);
    summary.members++;
    if (header.bgzfSize !== memberEnd - memberStart) summary.bgzf = false;
    if (spans > 0) {
      const cEnd = finalEnd >= 0 ? finalEnd : trailerAt * 8;
      yield emit({ cStart: spanStart, cEnd, dLength: last.length, crc: lastCrc, kind: KIND_SPAN, window, members: 1, subCrc: lastPieces?.pieces, dStart: summary.decompressedSize, data: last.slice(), verified: true });
    } else {
      // A whole member: it joins the pending run, which is yielded first if it is full and this one has data.
      if (run.members > 0 && run.length >= spacing && last.length > 0) yield emit(run.take(summary.decompressedSize));
      run.add(last.slice(), lastCrc, memberStart, memberEnd);
    }
    pos = memberEnd;
    summary.dataEnd = memberEnd;
  }
  if (run.members > 0) yield emit(run.take(summary.decompressedSize));
  return summary;
}
