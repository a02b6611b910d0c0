/**
 * The decode job of one zstd unit (a frame), as the format registry runs it (inline or in a worker): the
 * frame decoded and checked by `decodeZstdFrame` (frame checksum, content size, length, seek-table
 * checksum), and for a frame with neither checksum the CRC-32 of its bytes: compared with the one the
 * index recorded (`crc` >= 0), or handed back (`info.crc`) for the chunk map to record.
 */
import { crc32 } from 'node:zlib';
import { SeekdataError } from '../../errors.js';
import type { DecodeOutput } from '../../workers/registry.js';
import { FRAME_HAS_TABLE_CHECKSUM } from './container.js';
import { decodeZstdFrame, type ZstdFrameTask } from './decode.js';
import { unchecked } from './units.js';

export interface ZstdUnitTask extends ZstdFrameTask {
  /** The frame's flags (the unit's `kind`). */
  kind: number;
  /** The CRC-32 recorded for the frame's bytes, or -1 (unknown, or a frame with a checksum of its own). */
  crc: number;
}

export function zstdUnitTask(unit: {
  data: Uint8Array;
  expectedLength: number;
  kind: number;
  tableChecksum: number;
  crc: number;
  offset: number;
  file: string;
  sizeFrom?: string | undefined;
}): ZstdUnitTask {
  const task: ZstdUnitTask = { data: unit.data, expectedLength: unit.expectedLength, kind: unit.kind, crc: unit.crc, offset: unit.offset, file: unit.file };
  if (unit.sizeFrom !== undefined) task.sizeFrom = unit.sizeFrom;
  if ((unit.kind & FRAME_HAS_TABLE_CHECKSUM) !== 0) task.tableChecksum = unit.tableChecksum;
  return task;
}

/** Bytes that own their ArrayBuffer (a worker moves them back instead of copying a larger buffer). */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
}

export async function decodeZstdUnit(task: ZstdUnitTask): Promise<DecodeOutput> {
  const bytes = owned(await decodeZstdFrame(task));
  if (!unchecked(task.kind)) return { bytes };
  const crc = crc32(bytes) >>> 0;
  if (task.crc >= 0 && crc !== task.crc) {
    throw new SeekdataError(
      'CORRUPT_DATA',
      `${task.file}: zstd frame at byte ${task.offset} (it has no checksum) does not decode to the bytes whose CRC-32 the index recorded (corrupt data, or the file changed)`,
      { file: task.file, compressedOffset: task.offset },
    );
  }
  return { bytes, info: { crc } };
}

/** The CRC-32 a zstd decode job handed back, if any. */
export function crcOf(info: unknown): number | undefined {
  if (typeof info === 'object' && info !== null && 'crc' in info && typeof info.crc === 'number') return info.crc;
  return undefined;
}
