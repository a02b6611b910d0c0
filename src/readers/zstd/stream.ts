/**
 * One frame decoded as a stream over a `ByteSource`, with bounded memory: the compressed bytes are read in
 * slices, the decoded bytes handed out in pieces of a fixed size. Used for frames too large to decode at
 * once (a file written by plain `zstd` is one frame) and to learn the size of frames whose header does
 * not hold it.
 *
 * Trust: libzstd checks the frame's checksum (when present) and content size only when it reaches the
 * end of the frame. So every piece but the last is handed out before the frame is verified; the last
 * piece is handed out only after the whole frame passed (checksum, content size, the expected length, and
 * the seek-table checksum). A caller that needs each piece verified on its own checks it against the
 * index (a CRC of each decoded span, recorded by the verified indexing pass).
 */
import { SeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import { FRAME_HAS_TABLE_CHECKSUM, FRAME_HEADER_MAX, frameHeaderSize, magicKind, parseFrameHeader, u32le } from './container.js';
import { WasmFrameDecoder, wasmZstdReady } from './wasm-stream.js';
import { Xxh64Stream, xxh64Ready } from './xxh64.js';

/** Compressed bytes fed to the decoder per step: small, since stopping early decodes the rest of one. */
export const FEED_BYTES = 128 << 10;
/** libzstd's default limit on a frame's window (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). */
export const WINDOW_SIZE_MAX = 2 ** 27;

export interface StreamFrame {
  cStart: number;
  cEnd: number;
  /** Decoded length when known (from the frame header, a seek table or an index), else -1. */
  dLength: number;
  /** FRAME_HAS_TABLE_CHECKSUM set when `tableChecksum` must be checked. */
  flags: number;
  tableChecksum: number;
  /** What gave `dLength`, for messages: 'the seek table' for a seekable file; default 'the index'. */
  sizeFrom?: string | undefined;
}

/** Rejects frames libzstd would refuse for their window size, with a message saying why. */
export function checkWindow(windowSize: number, file: string, offset: number): void {
  if (windowSize > WINDOW_SIZE_MAX) {
    throw new SeekdataError(
      'UNSUPPORTED_FORMAT',
      `${file}: zstd frame at byte ${offset} needs a ${windowSize / 2 ** 20} MiB window, more than the 128 MiB decoders accept by default`,
      { file, compressedOffset: offset },
    );
  }
}

/**
 * The decoded bytes of one frame in order, in pieces of exactly `pieceBytes` (the last one shorter). With
 * `cutBytes`, a piece also ends at each multiple of it from the frame's start (pieces then end at every
 * multiple of either): a scan whose pieces must start wherever a reader's pieces of `cutBytes` do.
 * Abandoning the iteration early (`return()`, `break`) frees the decoder.
 */
export async function* streamZstdFrame(source: ByteSource, frame: StreamFrame, pieceBytes: number, cutBytes?: number): AsyncGenerator<Uint8Array, void, undefined> {
  const file = source.name;
  const offset = frame.cStart;
  const headerBytes = await source.read(offset, Math.min(FRAME_HEADER_MAX, frame.cEnd - offset));
  if (headerBytes.length < 5 || magicKind(u32le(headerBytes, 0)) !== 'frame' || headerBytes.length < frameHeaderSize(headerBytes[4])) {
    throw new SeekdataError('CORRUPT_DATA', `${file}: no zstd frame header at byte ${offset} (file changed?)`, { file, compressedOffset: offset });
  }
  const header = parseFrameHeader(headerBytes, 0, file, offset);
  checkWindow(header.windowSize, file, offset);
  if (header.contentSize >= 0 && frame.dLength >= 0 && header.contentSize !== frame.dLength) {
    throw mismatch(file, offset, `its header declares ${header.contentSize} decoded bytes, ${frame.sizeFrom ?? 'the index'} ${frame.dLength}`, frame.sizeFrom);
  }
  const expected = frame.dLength >= 0 ? frame.dLength : header.contentSize;
  const checkTable = (frame.flags & FRAME_HAS_TABLE_CHECKSUM) !== 0;
  await wasmZstdReady();
  if (checkTable) await xxh64Ready();
  const hash = checkTable ? new Xxh64Stream() : undefined;
  const decoder = new WasmFrameDecoder(file, offset);
  let fed = offset;
  /** The length of the piece that starts at decoded byte `at` of the frame: up to the next cut. */
  const lengthAt = (at: number): number => {
    const end = (Math.floor(at / pieceBytes) + 1) * pieceBytes;
    return (cutBytes === undefined ? end : Math.min(end, (Math.floor(at / cutBytes) + 1) * cutBytes)) - at;
  };
  let pieceStart = 0;
  let piece = new Uint8Array(lengthAt(0));
  let filled = 0;
  let total = 0;
  try {
    for (;;) {
      if (decoder.needsInput) {
        if (fed < frame.cEnd) {
          const n = Math.min(FEED_BYTES, frame.cEnd - fed);
          decoder.push(await source.read(fed, n));
          fed += n;
        } else {
          decoder.end();
        }
      }
      const out = decoder.step();
      if (out === null) break;
      total += out.length;
      if (expected >= 0 && total > expected) throw mismatch(file, offset, `it decodes to more than the ${expected} bytes expected`, frame.sizeFrom);
      hash?.update(out);
      let used = 0;
      while (used < out.length) {
        // A full piece waits until more output exists, so the last piece always follows verification.
        if (filled === piece.length) {
          yield piece;
          pieceStart += piece.length;
          piece = new Uint8Array(lengthAt(pieceStart));
          filled = 0;
        }
        const take = Math.min(out.length - used, piece.length - filled);
        piece.set(out.subarray(used, used + take), filled);
        filled += take;
        used += take;
      }
    }
    if (expected >= 0 && total !== expected) throw mismatch(file, offset, `it decodes to ${total} bytes, ${expected} expected`, frame.sizeFrom);
    if (hash !== undefined && hash.low32() !== frame.tableChecksum) {
      throw new SeekdataError('CORRUPT_DATA', `${file}: zstd frame at byte ${offset} does not match its seek-table checksum (corrupt data)`, {
        file,
        compressedOffset: offset,
      });
    }
    if (filled > 0) yield filled === piece.length ? piece : piece.slice(0, filled);
  } finally {
    decoder.dispose();
  }
}

function mismatch(file: string, offset: number, why: string, sizeFrom?: string): SeekdataError {
  return new SeekdataError('CORRUPT_DATA', `${file}: zstd frame at byte ${offset} does not match ${sizeFrom ?? 'the index'}: ${why}`, { file, compressedOffset: offset });
}
