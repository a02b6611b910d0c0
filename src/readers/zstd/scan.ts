/**
 * Discovering the units (frames) of a zstd file. A file in the seekable format is read from its seek
 * table (checked against the file: the entries add up to the table's offset, and each entry starts with a
 * frame whose header agrees with it). Any other file is walked frame by frame (`walk.ts`). A frame whose
 * header does not give its decoded size (pzstd, streaming compressors, the seekable format's own writer)
 * is decoded once, as a stream, to learn it: its decoded bytes are handed to the caller on the way, so an
 * indexing pass that also needs them decodes such frames only once.
 */
import { SeekdataError, invalidOption } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import {
  FRAME_HAS_CHECKSUM,
  FRAME_HAS_CONTENT_SIZE,
  FRAME_HAS_TABLE_CHECKSUM,
  FRAME_HEADER_MAX,
  frameHeaderSize,
  magicKind,
  parseFrameHeader,
  u32le,
  type FrameHeader,
} from './container.js';
import { readSeekTable, type SeekTable } from './seekable.js';
import { streamZstdFrame } from './stream.js';
import { ZstdFrameTableBuilder, type ZstdFrame, type ZstdFrameTable } from './table.js';
import { walkFrames } from './walk.js';

export interface ZstdScanOptions {
  /** Use the seek table of a seekable-format file instead of walking every frame. Default true. */
  useSeekTable?: boolean;
  /** Size of the decoded pieces handed out while decoding frames of unknown size, in bytes. Default 1 MiB. */
  pieceBytes?: number;
  /** Those pieces also end at each multiple of this many bytes from their frame's start (see streamZstdFrame). Default: none. */
  cutBytes?: number | undefined;
  /** Receives warnings (for example a seek table that does not match the file, so the frames were walked). */
  onWarning?: (message: string) => void;
}

export const DEFAULT_SCAN_PIECE_BYTES = 1 << 20;

export type ZstdScanItem =
  /**
   * A frame, once its place and decoded length are known. `decoded`: its bytes came as `data` items just
   * before. `fromSeekTable`: the frame was read from the file's seek table.
   */
  | { type: 'frame'; frame: ZstdFrame; decoded: boolean; fromSeekTable: boolean }
  /**
   * Decoded bytes of the frame being sized (in order; the frame item follows its last piece). `checked`: the
   * frame has a checksum of its own, which libzstd checks after the frame's last byte (before its last piece).
   */
  | { type: 'data'; frame: number; dStart: number; bytes: Uint8Array; checked: boolean };

function headerFlags(header: FrameHeader): number {
  return (header.hasChecksum ? FRAME_HAS_CHECKSUM : 0) | (header.contentSize >= 0 ? FRAME_HAS_CONTENT_SIZE : 0);
}

/** Every data frame of the file in order, with the decoded bytes of the frames that had to be decoded. */
export async function* scanZstdFrames(source: ByteSource, options: ZstdScanOptions = {}): AsyncGenerator<ZstdScanItem> {
  const pieceBytes = options.pieceBytes ?? DEFAULT_SCAN_PIECE_BYTES;
  if (!Number.isSafeInteger(pieceBytes) || pieceBytes <= 0) throw invalidOption('pieceBytes', 'a positive integer', pieceBytes);
  const cutBytes = options.cutBytes;
  if (cutBytes !== undefined && (!Number.isSafeInteger(cutBytes) || cutBytes <= 0)) throw invalidOption('cutBytes', 'a positive integer', cutBytes);
  if (options.useSeekTable ?? true) {
    let table: SeekTable | null = null;
    try {
      table = await readSeekTable(source);
    } catch (error) {
      if (!(error instanceof SeekdataError && error.code === 'CORRUPT_DATA')) throw error;
      // Four bytes equal to the footer magic may end an ordinary file; walking decides.
      options.onWarning?.(`${error.message}; reading the frames one by one instead`);
    }
    if (table !== null) {
      yield* framesFromTable(source, table);
      return;
    }
  }
  let index = 0;
  let dStart = 0;
  for await (const walked of walkFrames(source)) {
    if (walked.kind === 'skippable') continue;
    const { header } = walked;
    const frame: ZstdFrame = { index, cStart: walked.start, cEnd: walked.end, dStart, dLength: header.contentSize, flags: headerFlags(header), tableChecksum: 0 };
    let decoded = false;
    if (header.contentSize < 0) {
      let length = 0;
      const ref = { cStart: walked.start, cEnd: walked.end, dLength: -1, flags: 0, tableChecksum: 0 };
      for await (const bytes of streamZstdFrame(source, ref, pieceBytes, cutBytes)) {
        yield { type: 'data', frame: index, dStart: dStart + length, bytes, checked: header.hasChecksum };
        length += bytes.length;
      }
      frame.dLength = length;
      decoded = true;
    }
    yield { type: 'frame', frame, decoded, fromSeekTable: false };
    dStart += frame.dLength;
    index++;
  }
}

async function* framesFromTable(source: ByteSource, table: SeekTable): AsyncGenerator<ZstdScanItem> {
  const file = source.name;
  let cStart = 0;
  let dStart = 0;
  let index = 0;
  for (let i = 0; i < table.count; i++) {
    const cEnd = cStart + table.compressedSize[i];
    const dLength = table.decompressedSize[i];
    const bad = (why: string): SeekdataError =>
      new SeekdataError('CORRUPT_DATA', `${file}: zstd seek table entry ${i} (byte ${cStart}): ${why}`, { file, compressedOffset: cStart });
    const head = await source.read(cStart, Math.min(FRAME_HEADER_MAX, cEnd - cStart));
    const kind = head.length >= 4 ? magicKind(u32le(head, 0)) : 'other';
    if (kind === 'skippable') {
      if (head.length < 8 || 8 + u32le(head, 4) !== cEnd - cStart) throw bad('the skippable frame there has another size');
      if (dLength !== 0) throw bad(`a skippable frame cannot decode to ${dLength} bytes`);
    } else {
      if (kind !== 'frame' || head.length < 5 || head.length < frameHeaderSize(head[4])) throw bad('no zstd frame starts there');
      const header = parseFrameHeader(head, 0, file, cStart);
      if (header.contentSize >= 0 && header.contentSize !== dLength) throw bad(`the frame declares ${header.contentSize} decoded bytes, the table ${dLength}`);
      const flags = headerFlags(header) | (table.checksum === undefined ? 0 : FRAME_HAS_TABLE_CHECKSUM);
      const tableChecksum = table.checksum === undefined ? 0 : table.checksum[i];
      yield { type: 'frame', frame: { index, cStart, cEnd, dStart, dLength, flags, tableChecksum }, decoded: false, fromSeekTable: true };
      index++;
      dStart += dLength;
    }
    cStart = cEnd;
  }
}

/** The frame table of a file (decoding, and dropping, the bytes of frames of unknown size). */
export async function scanZstd(source: ByteSource, options: ZstdScanOptions = {}): Promise<ZstdFrameTable> {
  let builder: ZstdFrameTableBuilder | undefined;
  for await (const item of scanZstdFrames(source, options)) {
    if (item.type !== 'frame') continue;
    builder ??= new ZstdFrameTableBuilder(item.fromSeekTable);
    builder.add(item.frame);
  }
  return (builder ?? new ZstdFrameTableBuilder(false)).build();
}
