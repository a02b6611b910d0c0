/**
 * The frame table of a zstd file: one row per data frame (skippable frames are left out), in file order,
 * as a few typed arrays so it can be stored in and loaded from an index file as is. Field names match
 * the readers' `UnitTable` where they mean the same (`cStart`, `cEnd`, `dStart`).
 */
import { FRAME_HAS_CHECKSUM, FRAME_HAS_CONTENT_SIZE, FRAME_HAS_TABLE_CHECKSUM } from './container.js';

export interface ZstdFrameTable {
  count: number;
  /** Compressed start of frame i (byte offset of its magic number). */
  cStart: Float64Array;
  /** Compressed end (exclusive) of frame i. */
  cEnd: Float64Array;
  /** Decompressed start of frame i; `dStart[count]` is the total decompressed size. Length count + 1. */
  dStart: Float64Array;
  /** FRAME_HAS_CHECKSUM | FRAME_HAS_CONTENT_SIZE | FRAME_HAS_TABLE_CHECKSUM. */
  flags: Uint8Array;
  /** The seek table's checksum of frame i (low 32 bits of XXH64) when FRAME_HAS_TABLE_CHECKSUM, else 0. */
  tableChecksum: Uint32Array;
  /** True when the frames were read from a seek table (the seekable format) rather than walked. */
  seekable: boolean;
}

/** One frame as the scan reports it. */
export interface ZstdFrame {
  /** Index among the data frames of the file. */
  index: number;
  cStart: number;
  cEnd: number;
  dStart: number;
  dLength: number;
  flags: number;
  tableChecksum: number;
}

/** What a decoder needs to know about frame `i`. */
export function frameOf(table: ZstdFrameTable, i: number): ZstdFrame {
  return {
    index: i,
    cStart: table.cStart[i],
    cEnd: table.cEnd[i],
    dStart: table.dStart[i],
    dLength: table.dStart[i + 1] - table.dStart[i],
    flags: table.flags[i],
    tableChecksum: table.tableChecksum[i],
  };
}

export class ZstdFrameTableBuilder {
  private count = 0;
  private cStart = new Float64Array(64);
  private cEnd = new Float64Array(64);
  private dStart = new Float64Array(65);
  private flags = new Uint8Array(64);
  private tableChecksum = new Uint32Array(64);

  constructor(private readonly seekable: boolean) {}

  /** Appends a frame whose decompressed start must be the running total. */
  add(frame: ZstdFrame): void {
    if (frame.index !== this.count || frame.dStart !== this.dStart[this.count]) {
      throw new Error(`zstd frame table: frame ${frame.index} out of order`);
    }
    if (this.count === this.cStart.length) this.grow();
    const i = this.count++;
    this.cStart[i] = frame.cStart;
    this.cEnd[i] = frame.cEnd;
    this.dStart[i + 1] = frame.dStart + frame.dLength;
    this.flags[i] = frame.flags;
    this.tableChecksum[i] = frame.tableChecksum;
  }

  private grow(): void {
    const n = this.cStart.length * 2;
    const cStart = new Float64Array(n);
    cStart.set(this.cStart);
    this.cStart = cStart;
    const cEnd = new Float64Array(n);
    cEnd.set(this.cEnd);
    this.cEnd = cEnd;
    const dStart = new Float64Array(n + 1);
    dStart.set(this.dStart);
    this.dStart = dStart;
    const flags = new Uint8Array(n);
    flags.set(this.flags);
    this.flags = flags;
    const sums = new Uint32Array(n);
    sums.set(this.tableChecksum);
    this.tableChecksum = sums;
  }

  build(): ZstdFrameTable {
    const n = this.count;
    return {
      count: n,
      cStart: this.cStart.slice(0, n),
      cEnd: this.cEnd.slice(0, n),
      dStart: this.dStart.slice(0, n + 1),
      flags: this.flags.slice(0, n),
      tableChecksum: this.tableChecksum.slice(0, n),
      seekable: this.seekable,
    };
  }
}

/** The frame holding decompressed offset `offset` (0 <= offset < total); empty frames are never chosen. */
export function frameAt(table: ZstdFrameTable, offset: number): number {
  let lo = 0;
  let hi = table.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (table.dStart[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface ZstdAccessInfo {
  frames: number;
  decompressedSize: number;
  largestFrame: number;
  seekable: boolean;
  framesWithChecksum: number;
  framesWithContentSize: number;
  framesWithTableChecksum: number;
  /** For `info`: what a random read costs. */
  randomAccess: string;
}

/** What `info` says about a zstd file: its frames, their checks, and the cost of a random read. */
export function zstdAccessInfo(table: ZstdFrameTable): ZstdAccessInfo {
  let largest = 0;
  let withChecksum = 0;
  let withSize = 0;
  let withTable = 0;
  for (let i = 0; i < table.count; i++) {
    largest = Math.max(largest, table.dStart[i + 1] - table.dStart[i]);
    if ((table.flags[i] & FRAME_HAS_CHECKSUM) !== 0) withChecksum++;
    if ((table.flags[i] & FRAME_HAS_CONTENT_SIZE) !== 0) withSize++;
    if ((table.flags[i] & FRAME_HAS_TABLE_CHECKSUM) !== 0) withTable++;
  }
  const total = table.dStart[table.count];
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  const randomAccess =
    table.count <= 1
      ? `one frame of ${mb(total)}: random access inside it costs decoding from the start of the frame (up to ${mb(total)})`
      : `${table.count} frames, the largest ${mb(largest)}: a random read decodes from the start of its frame (up to ${mb(largest)})`;
  return {
    frames: table.count,
    decompressedSize: total,
    largestFrame: largest,
    seekable: table.seekable,
    framesWithChecksum: withChecksum,
    framesWithContentSize: withSize,
    framesWithTableChecksum: withTable,
    randomAccess,
  };
}
