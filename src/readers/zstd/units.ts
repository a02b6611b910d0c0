/**
 * zstd frames as the readers' chunk map (`UnitTable`): one unit per data frame, `cStart` / `cEnd` in
 * bytes, `kind` = the frame's flags (FRAME_HAS_CHECKSUM | FRAME_HAS_CONTENT_SIZE | FRAME_HAS_TABLE_CHECKSUM),
 * `param` = the CRC-32 of the frame's decoded bytes for frames with neither checksum, once a full decode
 * has seen them (-1 until then, and for checked frames), the column `tableChecksum` (the seek table's
 * checksum, 0 without one) and the fact `seekable`. Found without decoding when every frame's size is
 * known: from the seek table of the seekable format, or by walking frame and block headers.
 */
import { SeekdataError } from '../../errors.js';
import type { ByteSource } from '../../sources/source.js';
import type { UnitTable } from '../units.js';
import { FRAME_HAS_CHECKSUM, FRAME_HAS_CONTENT_SIZE, FRAME_HAS_TABLE_CHECKSUM } from './container.js';
import { scanZstdFrames } from './scan.js';
import { readSeekTable } from './seekable.js';
import type { ZstdFrame } from './table.js';
import { walkFrames } from './walk.js';

/** Frames with neither a frame checksum nor a seek-table checksum: only a CRC-32 from the index checks them. */
export function unchecked(kind: number): boolean {
  return (kind & (FRAME_HAS_CHECKSUM | FRAME_HAS_TABLE_CHECKSUM)) === 0;
}

/** Grows a zstd chunk map frame by frame. */
export class ZstdUnitsBuilder {
  private readonly frames: ZstdFrame[] = [];
  private readonly crcs: number[] = [];
  private readonly pieces: Array<readonly number[] | undefined> = [];

  constructor(private readonly seekable: boolean) {}

  /**
   * Adds a frame (empty frames are left out: they hold no byte); `crc` is its output's CRC-32 when known,
   * `pieces` the CRC32s of its pieces when recorded (see `Discovery.pieceCrcs`).
   */
  add(frame: ZstdFrame, crc = -1, pieces?: readonly number[]): void {
    if (frame.dLength === 0) return;
    this.frames.push(frame);
    this.crcs.push(unchecked(frame.flags) ? crc : -1);
    this.pieces.push(pieces);
  }

  get count(): number {
    return this.frames.length;
  }

  /** The CRC32s of the pieces of frame `u` (among those added), when recorded. */
  pieceCrcs(u: number): readonly number[] | undefined {
    return this.pieces[u];
  }

  /** Keeps the first `count` frames. */
  truncate(count: number): void {
    this.frames.length = Math.min(this.frames.length, count);
    this.crcs.length = this.frames.length;
    this.pieces.length = this.frames.length;
  }

  build(): UnitTable {
    const n = this.frames.length;
    const units: UnitTable = {
      format: 'zstd',
      count: n,
      dStart: new Float64Array(n + 1),
      cStart: new Float64Array(n),
      cEnd: new Float64Array(n),
      param: Float64Array.from(this.crcs),
      kind: new Uint8Array(n),
    };
    const tableChecksum = new Float64Array(n);
    this.frames.forEach((f, i) => {
      units.dStart[i + 1] = units.dStart[i] + f.dLength;
      units.cStart[i] = f.cStart;
      units.cEnd[i] = f.cEnd;
      units.kind[i] = f.flags;
      tableChecksum[i] = f.tableChecksum;
    });
    units.extra = { columns: { tableChecksum }, facts: { seekable: this.seekable } };
    return units;
  }
}

/**
 * The chunk map without decoding: from the seek table, or by walking the headers when every frame says
 * its size; undefined when some frame does not (the decoding scan then learns it) or the seek table is
 * damaged (the scan says so and walks the frames).
 */
export async function zstdUnits(source: ByteSource): Promise<UnitTable | undefined> {
  let seekable = false;
  try {
    seekable = (await readSeekTable(source)) !== null;
  } catch (error) {
    if (error instanceof SeekdataError && error.code === 'CORRUPT_DATA') return undefined;
    throw error;
  }
  const builder = new ZstdUnitsBuilder(seekable);
  if (seekable) {
    // The seek table gives every size: the scan reads it and checks each frame's header, decoding nothing.
    for await (const item of scanZstdFrames(source)) if (item.type === 'frame') builder.add(item.frame);
    return builder.build();
  }
  let index = 0;
  let dStart = 0;
  for await (const walked of walkFrames(source)) {
    if (walked.kind === 'skippable') continue;
    const size = walked.header.contentSize;
    if (size < 0) return undefined;
    const flags = (walked.header.hasChecksum ? FRAME_HAS_CHECKSUM : 0) | FRAME_HAS_CONTENT_SIZE;
    builder.add({ index: index++, cStart: walked.start, cEnd: walked.end, dStart, dLength: size, flags, tableChecksum: 0 });
    dStart += size;
  }
  return builder.build();
}

/** The `tableChecksum` column of a zstd chunk map. */
export function tableChecksums(units: UnitTable): Float64Array {
  const column = units.extra?.columns?.tableChecksum;
  if (column === undefined) throw new Error('internal: a zstd chunk map without its tableChecksum column');
  return column;
}

export function isSeekable(units: UnitTable): boolean {
  return units.extra?.facts?.seekable === true;
}
